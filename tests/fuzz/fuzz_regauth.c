/* fuzz_regauth: the docker CLI's config.json as regauth.h reads it, an
 * image reference's registry, and base64.
 *
 * The input is the config's text, then (after FUZZ_SEP) an image
 * reference.  Property: base64 decodes back to what was encoded, in both
 * alphabets' standard form. */
#include <stdlib.h>
#include <string.h>

#include "../../common/err.h"
#include "../../common/regauth.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	char *config = fuzz_part(&p, end), *ref = fuzz_part(&p, end), *out = NULL, *b64, *back = NULL;
	size_t n;

	if (!config)
		return 0;
	if (!ref)
		ref = strdup("busybox");
	free(regauth_registry(ref));
	if (!regauth_header_from(config, ref, &out))
		free(out);
	out = NULL;
	if (!regauth_config_header_from(config, &out))
		free(out);
	out = NULL;
	if (regauth_unbase64(config, &out, &n) == 0)
		free(out);

	b64 = regauth_base64(data, size, 0);
	FUZZ_ASSERT(regauth_unbase64(b64, &back, &n) == 0, "its own base64 decodes");
	FUZZ_ASSERT(n == size && (size == 0 || memcmp(back, data, size) == 0), "base64 decodes to what it encoded");
	free(back);
	free(b64);
	free(regauth_base64(data, size, 1));

	free(config);
	free(ref);
	error_release();
	return 0;
}
