#include "name.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "err.h"

static int in(char c, const char *set)
{
	return c && strchr(set, c);
}

#define LOWER "abcdefghijklmnopqrstuvwxyz"
#define DIGIT "0123456789"

static int check(const char *what, const char *s, const char *first,
		 const char *rest, size_t max, const char *pattern)
{
	size_t n = strlen(s);

	if (n == 0)
		return err_set("%s name is empty", what);
	if (n > max)
		return err_set("%s name \"%s\" is longer than %zu characters", what, s, max);
	if (!in(s[0], first))
		return err_set("%s name \"%s\" must match %s", what, s, pattern);
	for (size_t i = 1; i < n; i++)
		if (!in(s[i], rest))
			return err_set("%s name \"%s\" must match %s", what, s, pattern);
	return 0;
}

int name_check_cluster(const char *s)
{
	return check("cluster", s, LOWER DIGIT, LOWER DIGIT "_-", 32, "[a-z0-9][a-z0-9_-]{0,31}");
}

int name_check_instance(const char *s)
{
	return check("instance", s, LOWER, LOWER DIGIT "_", 31, "[a-z][a-z0-9_]{0,30}");
}

int name_check_service(const char *s)
{
	return check("service", s, LOWER, LOWER DIGIT "_", 31, "[a-z][a-z0-9_]{0,30}");
}

int name_check_template(const char *s)
{
	return check("template", s, LOWER DIGIT, LOWER DIGIT "_-", 64, "[a-z0-9][a-z0-9_-]{0,63}");
}

int name_check_image(const char *s)
{
	size_t n = strlen(s);

	if (n == 0)
		return err_set("image reference is empty");
	if (n > 255)
		return err_set("image reference \"%.40s...\" is too long", s);
	for (size_t i = 0; i < n; i++)
		if (!in(s[i], LOWER DIGIT "ABCDEFGHIJKLMNOPQRSTUVWXYZ._-/:@"))
			return err_set("image reference \"%s\" holds a character not allowed there", s);
	if (!in(s[0], LOWER DIGIT) || s[n - 1] == ':' || s[n - 1] == '/' || strstr(s, "//"))
		return err_set("image reference \"%s\" is malformed", s);
	/* The repository (after any registry host) is lowercase; tags may not be. */
	{
		const char *slash = strchr(s, '/'), *repo = s, *end;

		if (slash && (memchr(s, '.', (size_t)(slash - s)) || memchr(s, ':', (size_t)(slash - s)) ||
			      strncmp(s, "localhost/", 10) == 0))
			repo = slash + 1;
		end = repo + strcspn(repo, ":@");
		for (const char *p = repo; p < end; p++)
			if (*p >= 'A' && *p <= 'Z')
				return err_set("image reference \"%s\": the repository name must be lowercase", s);
	}
	return 0;
}

int name_check_address(const char *s)
{
	unsigned char a[16];

	if (inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1)
		return 0;
	return err_set("\"%s\" is not an IP address", s);
}

int name_check_port(const char *s, int *port)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (!(*s >= '0' && *s <= '9') || *end || errno || v < 1 || v > 65535)
		return err_set("port \"%s\" is not a number from 1 to 65535", s);
	if (port)
		*port = (int)v;
	return 0;
}

int name_image_split(const char *ref, char **repo, char **tag)
{
	const char *at = strchr(ref, '@'), *slash = strrchr(ref, '/');
	const char *colon = strrchr(ref, ':');
	size_t rl;
	const char *t;

	if (at) {
		rl = (size_t)(at - ref);
		t = at + 1;
	} else if (colon && (!slash || colon > slash)) {
		rl = (size_t)(colon - ref);
		t = colon + 1;
	} else {
		rl = strlen(ref);
		t = "latest";
	}
	*repo = strndup(ref, rl);
	*tag = strdup(t);
	if (!*repo || !*tag) {
		free(*repo);
		free(*tag);
		return err_set("out of memory");
	}
	return 0;
}

int name_random(char *out, size_t n, const char *alphabet)
{
	size_t alen = strlen(alphabet), i = 0;
	/* Largest multiple of alen that fits a byte: rejection keeps it uniform. */
	unsigned limit = 256 - (256 % alen);
	unsigned char pool[64];

	while (i < n) {
		ssize_t got = getrandom(pool, sizeof pool, 0);

		if (got < 0) {
			if (errno == EINTR)
				continue;
			return err_errno("reading random bytes");
		}
		for (ssize_t j = 0; j < got && i < n; j++)
			if (pool[j] < limit)
				out[i++] = alphabet[pool[j] % alen];
	}
	out[n] = '\0';
	return 0;
}
