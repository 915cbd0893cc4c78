/* fuzz_name: the checks of names korcluster takes from outside (name.h,
 * archive.h, snaplist.h), and KorCluster's config.sh (adopt.h).
 *
 * The input is one text, given to each check; a name a check accepts is
 * then used as korcluster uses it.  Properties: an accepted member name is
 * normalized already; an accepted image reference splits into a
 * repository and a tag. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/adopt.h"
#include "../../common/archive.h"
#include "../../common/err.h"
#include "../../common/name.h"
#include "../../common/snaplist.h"
#include "../../common/strv.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = strndup((const char *)data, size), *repo = NULL, *tag = NULL;
	char name[64], ts[64], version[64];
	struct strv v = STRV_INIT;
	uint64_t bytes;
	int n;

	if (!s)
		abort();
	name_check_cluster(s);
	name_check_instance(s);
	name_check_service(s);
	name_check_template(s);
	name_check_address(s);
	name_check_port(s, &n);
	name_parse_size(s, &bytes);
	name_parse_seconds(s, &n);
	if (!name_check_image(s)) {
		name_image_split(s, &repo, &tag);
		FUZZ_ASSERT(repo && *repo, "image \"%s\" has a repository", s);
		free(repo);
		free(tag);
	}
	if (!archive_path_check(s))
		FUZZ_ASSERT(archive_normalize(s) == s, "\"%s\" is accepted as it is", s);
	{
		const char *sep = memchr(s, ' ', strlen(s));

		if (sep) {
			char *link = strndup(s, (size_t)(sep - s));

			archive_link_check(link, sep + 1);
			free(link);
		}
	}
	snaplist_parse_name(s, name, ts, version, sizeof name);
	adopt_shell_vars(s, &v);
	strv_free(&v);
	strv_split(&v, s);
	strv_free(&v);
	free(s);
	error_release();
	return 0;
}
