#include "regauth.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "fs.h"
#include "mem.h"
#include "name.h"
#include "report.h"

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

char *regauth_base64(const void *data, size_t n, int url)
{
	const unsigned char *p = data;
	const char *abc = url ? b64url : b64;

	/* padded either way: the engine decodes with Go's URLEncoding */
	char *out = xmalloc(n / 3 * 4 + 5), *o = out;

	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);

		*o++ = abc[v >> 18 & 63];
		*o++ = abc[v >> 12 & 63];
		*o++ = i + 1 < n ? abc[v >> 6 & 63] : '=';
		*o++ = i + 2 < n ? abc[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

int regauth_unbase64(const char *s, char **out, size_t *len)
{
	size_t n = strlen(s), j = 0;
	unsigned v = 0;
	int bits = 0;
	char *o = xmalloc(n / 4 * 3 + 4);

	for (size_t i = 0; i < n; i++) {
		const char *c;

		if (s[i] == '=')
			break;
		if (!(c = strchr(b64, s[i])) || !*c) {
			free(o);
			return -1;
		}
		v = v << 6 | (unsigned)(c - b64);
		if ((bits += 6) >= 8) {
			bits -= 8;
			o[j++] = (char)(v >> bits & 0xff);
		}
	}
	o[j] = '\0';
	*out = o;
	*len = j;
	return 0;
}

char *regauth_registry(const char *ref)
{
	const char *slash = strchr(ref, '/');

	/* A first component with a dot or a port, or "localhost", is a host. */
	if (slash && (memchr(ref, '.', (size_t)(slash - ref)) || memchr(ref, ':', (size_t)(slash - ref)) ||
		      (slash - ref == 9 && strncmp(ref, "localhost", 9) == 0)))
		return xstrndup(ref, (size_t)(slash - ref));
	return xstrdup("docker.io");
}

/* "https://index.docker.io/v1/" -> "index.docker.io"; "host:5000" stays. */
static char *host_of(const char *key)
{
	const char *p = strstr(key, "://") ? strstr(key, "://") + 3 : key;

	return xstrndup(p, strcspn(p, "/"));
}

static int same_registry(const char *key, const char *registry)
{
	char *h = host_of(key);
	int same = strcmp(h, registry) == 0 ||
		   (strcmp(registry, "docker.io") == 0 &&
		    (strcmp(h, "index.docker.io") == 0 || strcmp(h, "registry-1.docker.io") == 0));

	free(h);
	return same;
}

/* {"username","password","serveraddress"} (or identitytoken) of one auths entry. */
static const struct error *entry_json(const char *registry, json_t *entry, json_t **out)
{
	const char *auth = json_string_value(json_object_get(entry, "auth"));
	const char *user = json_string_value(json_object_get(entry, "username"));
	const char *pass = json_string_value(json_object_get(entry, "password"));
	const char *token = json_string_value(json_object_get(entry, "identitytoken"));
	char *plain = NULL;
	size_t len;

	*out = NULL;
	if (auth && *auth) {
		char *colon;

		if (regauth_unbase64(auth, &plain, &len) < 0 || !(colon = memchr(plain, ':', len))) {
			free(plain);
			return error_fmt("the credentials of registry \"%s\" in the docker config are malformed", registry);
		}
		*colon = '\0';
		*out = json_pack("{s:s, s:s, s:s}", "username", plain, "password", colon + 1, "serveraddress", registry);
		explicit_bzero(plain, len);
		free(plain);
	} else if (user && pass) {
		*out = json_pack("{s:s, s:s, s:s}", "username", user, "password", pass, "serveraddress", registry);
	}
	if (token && *token) {
		if (!*out)
			*out = json_pack("{s:s}", "serveraddress", registry);
		json_object_set_new(*out, "identitytoken", json_string(token));
	}
	return NULL;
}

static char *header_of(const char *name, json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT), *b, *h;

	if (!s)
		report_out_of_memory();
	b = regauth_base64(s, strlen(s), 1);
	explicit_bzero(s, strlen(s));
	free(s);
	h = xasprintf("%s: %s", name, b);
	explicit_bzero(b, strlen(b));
	free(b);
	return h;
}

static const struct error *parse(const char *config, json_t **root)
{
	json_error_t je;

	if (!(*root = json_loads(config, 0, &je)) || !json_is_object(*root)) {
		json_decref(*root);
		*root = NULL;
		return error_fmt("the docker config is not JSON: %s (line %d)", je.text, je.line);
	}
	return NULL;
}

/* A credential helper in charge of registry (or of all). */
static const char *helper_of(json_t *root, const char *registry)
{
	json_t *helpers = json_object_get(root, "credHelpers");
	const char *key;
	json_t *v;

	json_object_foreach(helpers, key, v)
		if (same_registry(key, registry) && json_string_value(v))
			return json_string_value(v);
	return json_string_value(json_object_get(root, "credsStore"));
}

const struct error *regauth_header_from(const char *config, const char *ref, char **out)
{
	const struct error *err;
	char *registry = regauth_registry(ref);
	json_t *root = NULL, *cred = NULL, *v;
	const char *key, *helper;

	*out = NULL;
	if ((err = parse(config, &root)))
		goto out;
	json_object_foreach(json_object_get(root, "auths"), key, v)
		if (same_registry(key, registry)) {
			if ((err = entry_json(registry, v, &cred)))
				goto out;
			break;
		}
	if (cred)
		*out = header_of("X-Registry-Auth", cred);
	else if ((helper = helper_of(root, registry)) && *helper)
		err = error_fmt("the credentials of registry \"%s\" are kept by docker-credential-%s, which korcluster "
				"does not run: log in with a config that stores them in the file (no \"credsStore\")",
				registry, helper);
out:
	json_decref(cred);
	json_decref(root);
	free(registry);
	return err;
}

const struct error *regauth_config_header_from(const char *config, char **out)
{
	const struct error *err;
	json_t *root = NULL, *all = json_object(), *v, *cred;
	const char *key;

	*out = NULL;
	if ((err = parse(config, &root)))
		goto out;
	json_object_foreach(json_object_get(root, "auths"), key, v) {
		char *host = host_of(key);

		err = entry_json(host, v, &cred);
		if (!err && cred)
			json_object_set_new(all, strcmp(host, "index.docker.io") == 0 ? "https://index.docker.io/v1/" : host,
					    cred);
		free(host);
		if (err)
			goto out;
	}
	if (json_object_size(all))
		*out = header_of("X-Registry-Config", all);
out:
	json_decref(all);
	json_decref(root);
	return err;
}

/* The user's docker config, or NULL in *text when there is none. */
static const struct error *read_config(char **text)
{
	const char *dir = getenv("DOCKER_CONFIG"), *home = getenv("HOME");
	char *path = dir && *dir ? xasprintf("%s/config.json", dir) : xasprintf("%s/.docker/config.json", home ? home : "/root");
	const struct error *err = NULL;

	*text = NULL;
	if (fs_exists(path))
		err = error_wrap(fs_read(path, text, NULL), "reading the docker config \"%s\"", path);
	free(path);
	return err;
}

const struct error *regauth_header(const char *ref, char **out)
{
	char *text;
	const struct error *err = read_config(&text);

	*out = NULL;
	if (!err && text)
		err = regauth_header_from(text, ref, out);
	if (text)
		explicit_bzero(text, strlen(text));
	free(text);
	return err;
}

const struct error *regauth_config_header(char **out)
{
	char *text;
	const struct error *err = read_config(&text);

	*out = NULL;
	if (!err && text)
		err = regauth_config_header_from(text, out);
	if (text)
		explicit_bzero(text, strlen(text));
	free(text);
	return err;
}
