/* fuzz_vtree: the tree an archive's members make, judged before anything
 * is written (vtree.h).
 *
 * The input is one member a line: "f PATH", "d PATH" or "l PATH TARGET"
 * (TARGET after the first blank).  Property: in a tree vtree_check()
 * accepts, no member lies below a member that is a file or a symlink.
 * Names and targets are UTF-8, as archread.h lets through. */
#include <stdlib.h>
#include <string.h>

#include "../../common/err.h"
#include "../../common/vtree.h"
#include "fuzz.h"

#define MEMBERS 64

static int utf8(const char *s)
{
	json_t *j = json_string(s);
	int ok = j != NULL;

	json_decref(j);
	return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = strndup((const char *)data, size), *save = NULL;
	char *path[MEMBERS];
	char type[MEMBERS];
	size_t n = 0;
	struct vtree t;

	if (!text)
		abort();
	vtree_init(&t, "data/");
	for (char *l = strtok_r(text, "\n", &save); l && n < MEMBERS; l = strtok_r(NULL, "\n", &save)) {
		char *target = NULL;

		if (strlen(l) < 3 || !strchr("fdl", l[0]) || l[1] != ' ')
			continue;
		if (l[0] == 'l') {
			if (!(target = strchr(l + 2, ' ')))
				continue;
			*target++ = '\0';
		}
		/* Members as the reader passes them: checked names (UTF-8 too),
		 * each once. */
		if (!l[2] || l[2] == '/' || strstr(l + 2, "//") || l[strlen(l) - 1] == '/' || !utf8(l + 2) ||
		    (target && !utf8(target)))
			continue;
		for (size_t i = 0; i < n; i++)
			if (strcmp(path[i], l + 2) == 0)
				goto next;
		path[n] = l + 2;
		type[n++] = l[0];
		vtree_add(&t, l + 2, l[0], target);
	next:;
	}
	if (!vtree_check(&t))
		for (size_t i = 0; i < n; i++)
			for (size_t k = 0; k < n; k++) {
				size_t m = strlen(path[k]);

				if (type[k] != 'd' && strncmp(path[i], path[k], m) == 0 && path[i][m] == '/')
					FUZZ_ASSERT(0, "\"%s\" lies below %c \"%s\"", path[i], type[k], path[k]);
			}
	vtree_free(&t);
	free(text);
	error_release();
	return 0;
}
