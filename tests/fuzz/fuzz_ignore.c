/* fuzz_ignore: a .dockerignore (ignore.h) and its patterns.
 *
 * The input is the file's text, then (after FUZZ_SEP) paths, one a line,
 * matched against it, and each pattern matched against each path with
 * ignore_glob().  Property: a path matches a pattern equal to itself, when
 * it holds no pattern character. */
#include <stdlib.h>
#include <string.h>

#include "../../common/err.h"
#include "../../common/ignore.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	char *text = fuzz_part(&p, end), *paths = fuzz_part(&p, end), *save = NULL;
	struct ignore ig = IGNORE_INIT;

	if (!text)
		return 0;
	ignore_load(&ig, text);
	if (paths)
		for (char *l = strtok_r(paths, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
			ignore_match(&ig, l);
			for (size_t i = 0; i < ig.pat.n && i < 16; i++)
				ignore_glob(ig.pat.v[i], l);
			if (!strpbrk(l, "*?[\\"))
				FUZZ_ASSERT(ignore_glob(l, l), "\"%s\" matches itself", l);
		}
	ignore_free(&ig);
	free(text);
	free(paths);
	error_release();
	return 0;
}
