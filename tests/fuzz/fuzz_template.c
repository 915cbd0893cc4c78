/* fuzz_template: an app template (template.h) read from its file, and
 * "${...}" expansion.
 *
 * The input is up to four texts separated by FUZZ_SEP: the template,
 * a text to expand, the variables ("name=value", one a line) and a
 * version to check and compare.  Property: an expansion without "${" is
 * the text itself. */
#include <stdlib.h>
#include <string.h>

#include "../../common/err.h"
#include "../../common/report.h"
#include "../../common/strv.h"
#include "../../common/template.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	char *text[4] = {NULL, NULL, NULL, NULL}, *path, *out = NULL;
	struct diag d = DIAG_INIT;
	struct template t;
	struct strv vars = STRV_INIT;
	const char *dir = fuzz_tmpdir();

	report_quiet(1);
	for (int i = 0; i < 4; i++)
		text[i] = fuzz_part(&p, end);
	if (!text[0])
		text[0] = strdup("");
	if (asprintf(&path, "%s/fz.ini", dir) < 0)
		abort();
	fuzz_write(path, text[0], strlen(text[0]));

	if (!template_load_file(&t, "fz", path, &d)) {
		if (d.lines.n == 0) {
			template_db(&t);
			for (size_t i = 0; i < t.nsvc; i++)
				FUZZ_ASSERT(template_service(&t, t.svc[i].name) != NULL, "service %zu is found", i);
			for (size_t i = 0; i < t.nset; i++)
				FUZZ_ASSERT(template_setting(&t, t.set[i].name) != NULL, "setting %zu is found", i);
			if (text[3])
				template_version_check(&t, text[3]);
		}
		template_free(&t);
	}
	diag_sort(&d);
	diag_free(&d);

	if (text[2]) {
		char *save = NULL;

		for (char *l = strtok_r(text[2], "\n", &save); l; l = strtok_r(NULL, "\n", &save))
			strv_push(&vars, l);
	}
	if (text[1] && !template_expand(text[1], vars.v, &out)) {
		if (!strstr(text[1], "${"))
			FUZZ_ASSERT(strcmp(out, text[1]) == 0, "\"%s\" expands to itself", text[1]);
		free(out);
	}
	if (text[1] && text[3]) {
		int a = template_version_cmp(text[1], text[3], 0), b = template_version_cmp(text[3], text[1], 0);

		FUZZ_ASSERT((a > 0) == (b < 0) && (a == 0) == (b == 0), "version_cmp(\"%s\", \"%s\") is antisymmetric",
			    text[1], text[3]);
		template_version_cmp(text[1], text[3], 1);
	}
	strv_free(&vars);
	for (int i = 0; i < 4; i++)
		free(text[i]);
	free(path);
	error_release();
	return 0;
}
