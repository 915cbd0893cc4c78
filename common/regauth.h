/* regauth: credentials for private registries, as the docker CLI keeps
 * them, handed to the engine with a pull or a build.
 *
 * The docker CLI's "docker login" writes $DOCKER_CONFIG/config.json
 * (default ~/.docker/config.json): "auths": {REGISTRY: {"auth":
 * base64(USER:PASSWORD)}} (or "username"/"password", or "identitytoken").
 * The engine takes them per request: X-Registry-Auth (one registry, for a
 * pull) and X-Registry-Config (all of them, for a build's FROM images),
 * base64url-encoded JSON.  Credentials kept by a credential helper
 * ("credsStore", "credHelpers") would need that program run: korcluster
 * runs none and says so.  Nothing here is ever logged. */
#ifndef KC_REGAUTH_H
#define KC_REGAUTH_H

#include <stddef.h>

#include "err.h"

/* The registry host an image reference names ("docker.io" when none). */
char *regauth_registry(const char *ref);
/* "X-Registry-Auth: ..." for ref from the config file's text config (JSON),
 * or NULL in *out when it holds nothing for ref's registry.  Fails on a
 * config that cannot be read, or credentials only a helper holds. */
const struct error *regauth_header_from(const char *config, const char *ref, char **out);
/* "X-Registry-Config: ..." with every registry's credentials, or NULL. */
const struct error *regauth_config_header_from(const char *config, char **out);
/* The same from the user's config file (absent: *out NULL). */
const struct error *regauth_header(const char *ref, char **out);
const struct error *regauth_config_header(char **out);
/* base64 of n bytes, padded (url: the URL-safe alphabet); caller frees. */
char *regauth_base64(const void *data, size_t n, int url);
/* Decode standard base64 into *out (NUL-terminated; *len bytes); -1 if malformed. */
int regauth_unbase64(const char *s, char **out, size_t *len);

#endif
