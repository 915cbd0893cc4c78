#include "name.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "err.h"
#include "mem.h"

static int in(char c, const char *set)
{
	return c && strchr(set, c);
}

#define LOWER "abcdefghijklmnopqrstuvwxyz"
#define DIGIT "0123456789"

static const struct error *check(const char *what, const char *s, const char *first,
		 const char *rest, size_t max, const char *pattern)
{
	size_t n = strlen(s);

	if (n == 0)
		return error_fmt("%s name is empty", what);
	if (n > max)
		return error_fmt("%s name \"%s\" is longer than %zu characters", what, s, max);
	if (!in(s[0], first))
		return error_fmt("%s name \"%s\" must match %s", what, s, pattern);
	for (size_t i = 1; i < n; i++)
		if (!in(s[i], rest))
			return error_fmt("%s name \"%s\" must match %s", what, s, pattern);
	return NULL;
}

const struct error *name_check_cluster(const char *s)
{
	return check("cluster", s, LOWER DIGIT, LOWER DIGIT "_-", 32, "[a-z0-9][a-z0-9_-]{0,31}");
}

const struct error *name_check_instance(const char *s)
{
	return check("instance", s, LOWER, LOWER DIGIT "_", 31, "[a-z][a-z0-9_]{0,30}");
}

const struct error *name_check_service(const char *s)
{
	return check("service", s, LOWER, LOWER DIGIT "_", 31, "[a-z][a-z0-9_]{0,30}");
}

const struct error *name_check_template(const char *s)
{
	return check("template", s, LOWER DIGIT, LOWER DIGIT "_-", 64, "[a-z0-9][a-z0-9_-]{0,63}");
}

/* [a-zA-Z0-9]+ runs of a domain, joined by "-" inside and "." between. */
static int domain_ok(const char *s, size_t n)
{
	size_t i = 0, colon = n;

	if (n && s[0] == '[') { /* [IPv6]:port */
		const char *close = memchr(s, ']', n);

		if (!close || close == s + 1)
			return 0;
		for (const char *p = s + 1; p < close; p++)
			if (!strchr("0123456789abcdefABCDEF:.", *p))
				return 0;
		i = (size_t)(close - s) + 1;
		colon = i;
		if (i == n)
			return 1;
		if (s[i] != ':')
			return 0;
	} else {
		const char *c = memchr(s, ':', n);

		colon = c ? (size_t)(c - s) : n;
		for (size_t k = 0; k < colon;) {
			size_t start = k;

			while (k < colon && (isalnum((unsigned char)s[k]) || s[k] == '-'))
				k++;
			if (k == start || s[start] == '-' || s[k - 1] == '-')
				return 0;
			if (k < colon) {
				if (s[k] != '.' || k + 1 == colon)
					return 0;
				k++;
			}
		}
		if (colon == n)
			return 1;
	}
	/* :port */
	if (colon + 1 >= n)
		return 0;
	for (i = colon + 1; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/* A repository path: components of [a-z0-9]+ runs joined by ".", "_",
 * "__" or dashes, separated by "/".  1 ok, 0 malformed, -1 uppercase. */
static int path_ok(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t start = i;

		for (;;) {
			size_t run = i;

			while (i < n && s[i] != '/' && (isalnum((unsigned char)s[i])))
				if (isupper((unsigned char)s[i++]))
					return -1;
			if (i == run)
				return 0;
			if (i == n || s[i] == '/')
				break;
			if (s[i] == '.' || (s[i] == '_' && (i + 1 >= n || s[i + 1] != '_')))
				i++;
			else if (s[i] == '_')
				i += 2;
			else if (s[i] == '-')
				while (i < n && s[i] == '-')
					i++;
			else
				return 0;
		}
		if (i == start)
			return 0;
		if (i < n && ++i == n)
			return 0; /* trailing "/" */
	}
	return n > 0;
}

const struct error *name_check_image(const char *ref)
{
	const char *s = ref;
	size_t n = strlen(s), end, name_end;
	const char *at, *slash, *colon;
	int p;

	if (n == 0)
		return error_fmt("image reference is empty");
	if (n > 255)
		return error_fmt("image reference \"%.40s...\" is too long", s);
	for (size_t i = 0; i < n; i++)
		if (!in(s[i], LOWER DIGIT "ABCDEFGHIJKLMNOPQRSTUVWXYZ._-/:@[]+"))
			return error_fmt("image reference \"%s\" holds a character not allowed there", s);
	/* Docker's grammar: [DOMAIN/]PATH[:TAG][@DIGEST]. */
	at = strchr(s, '@');
	end = at ? (size_t)(at - s) : n;
	if (at) {
		const char *dc = strchr(at + 1, ':');
		size_t hex;

		if (!dc || dc == at + 1 || !isalpha((unsigned char)at[1]))
			goto malformed;
		for (const char *q = at + 1; q < dc; q++)
			if (!isalnum((unsigned char)*q) && !(strchr("+._-", *q) && q + 1 < dc && isalpha((unsigned char)q[1])))
				goto malformed;
		hex = strspn(dc + 1, "0123456789abcdefABCDEF");
		if (hex < 32 || dc[1 + hex])
			goto malformed;
	}
	slash = memrchr(s, '/', end);
	colon = memrchr(s, ':', end);
	name_end = end;
	if (colon && (!slash || colon > slash)) {
		size_t tl = end - (size_t)(colon - s) - 1;

		if (tl == 0 || tl > 128 || !(isalnum((unsigned char)colon[1]) || colon[1] == '_'))
			goto malformed;
		for (size_t i = 1; i <= tl; i++)
			if (!isalnum((unsigned char)colon[i]) && !strchr("_.-", colon[i]))
				goto malformed;
		name_end = (size_t)(colon - s);
	}
	/* The first component is a registry host if it looks like one. */
	slash = memchr(s, '/', name_end);
	if (slash) {
		size_t dl = (size_t)(slash - s);
		int upper = 0;

		for (size_t i = 0; i < dl; i++)
			upper |= isupper((unsigned char)s[i]) != 0;
		if (memchr(s, '.', dl) || memchr(s, ':', dl) || (dl == 9 && strncmp(s, "localhost", 9) == 0) || upper) {
			if (!domain_ok(s, dl))
				goto malformed;
			s += dl + 1;
			name_end -= dl + 1;
		}
	}
	p = path_ok(s, name_end);
	if (p < 0)
		return error_fmt("image reference \"%s\": the repository name must be lowercase", ref);
	if (p == 0)
		goto malformed;
	return NULL;
malformed:
	return error_fmt("image reference \"%s\" is malformed", ref);
}

const struct error *name_check_address(const char *s)
{
	unsigned char a[16];

	if (inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1)
		return NULL;
	return error_fmt("\"%s\" is not an IP address", s);
}

const struct error *name_check_host(const char *s)
{
	size_t n = strlen(s), label = 0;
	unsigned char a[4];

	if (n == 0)
		return error_fmt("hostname is empty");
	if (n > 253)
		return error_fmt("hostname \"%.64s...\" is longer than 253 characters", s);
	if (strchr(s, '*'))
		return error_fmt("hostname \"%s\": wildcards are not supported", s);
	if (inet_pton(AF_INET, s, a) == 1 || strchr(s, ':'))
		return error_fmt("\"%s\" is an address, not a hostname", s);
	for (size_t i = 0; i <= n; i++) {
		if (i == n || s[i] == '.') {
			if (label == 0)
				return error_fmt("hostname \"%s\" has an empty label", s);
			if (s[i - 1] == '-')
				return error_fmt("hostname \"%s\": a label ends with \"-\"", s);
			label = 0;
		} else if (in(s[i], LOWER DIGIT) || (s[i] == '-' && label > 0)) {
			if (++label > 63)
				return error_fmt("hostname \"%s\" has a label longer than 63 characters", s);
		} else {
			return error_fmt("hostname \"%s\" must be labels of a-z, 0-9 and \"-\" (not first or last) "
					 "joined by \".\"",
					 s);
		}
	}
	return NULL;
}

const struct error *name_check_url(const char *s)
{
	const char *host = strncmp(s, "https://", 8) == 0 ? s + 8 : strncmp(s, "http://", 7) == 0 ? s + 7 : NULL;
	const struct error *err;
	size_t hn;
	char h[256];
	int port;

	if (!host)
		return error_fmt("URL \"%s\" must begin with http:// or https://", s);
	hn = strcspn(host, ":/");
	if (hn >= sizeof h)
		return error_fmt("URL \"%.64s...\": its host is too long", s);
	memcpy(h, host, hn);
	h[hn] = '\0';
	if ((err = name_check_host(h)) && name_check_address(h))
		return error_fmt("URL \"%s\": %s", s, err->msg);
	host += hn;
	if (*host == ':') {
		char ps[8];
		size_t pn = strcspn(host + 1, "/");

		if (pn == 0 || pn >= sizeof ps)
			return error_fmt("URL \"%s\" has a bad port", s);
		memcpy(ps, host + 1, pn);
		ps[pn] = '\0';
		if ((err = name_check_port(ps, &port)))
			return error_fmt("URL \"%s\": %s", s, err->msg);
		host += 1 + pn;
	}
	for (; *host; host++)
		if (!in(*host, LOWER DIGIT "ABCDEFGHIJKLMNOPQRSTUVWXYZ/._~%-"))
			return error_fmt("URL \"%s\": its path may hold only letters, digits and \"/._~%%-\"", s);
	return NULL;
}

const struct error *name_check_description(const char *s)
{
	size_t n = strlen(s);

	if (n > 200)
		return error_fmt("description is longer than 200 bytes");
	if (n && (s[0] == ' ' || s[n - 1] == ' '))
		return error_fmt("description begins or ends with a blank");
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f || s[i] == ';')
			return error_fmt("description holds a control character or \";\"");
	return NULL;
}

const struct error *name_check_port(const char *s, int *port)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (!(*s >= '0' && *s <= '9') || *end || errno || v < 1 || v > 65535)
		return error_fmt("port \"%s\" is not a number from 1 to 65535", s);
	if (port)
		*port = (int)v;
	return NULL;
}

const struct error *name_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	int shift = 0;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (!(*s >= '0' && *s <= '9') || errno)
		return error_fmt("\"%s\" is not a size (a number of bytes, or with K, M, G or T)", s);
	switch (*end) {
	case '\0':
		break;
	case 'K': case 'k': shift = 10; break;
	case 'M': case 'm': shift = 20; break;
	case 'G': case 'g': shift = 30; break;
	case 'T': case 't': shift = 40; break;
	default:
		return error_fmt("\"%s\" is not a size (a number of bytes, or with K, M, G or T)", s);
	}
	if (*end && end[1])
		return error_fmt("\"%s\" is not a size (a number of bytes, or with K, M, G or T)", s);
	if (shift && v > (UINT64_MAX >> shift))
		return error_fmt("size \"%s\" is too large", s);
	*out = (uint64_t)v << shift;
	return NULL;
}

const struct error *name_parse_seconds(const char *s, int *out)
{
	char *end;
	long v;
	int mul = 1;

	errno = 0;
	v = strtol(s, &end, 10);
	if (!(*s >= '0' && *s <= '9') || errno || (*end && end[1]) ||
	    (*end && *end != 's' && *end != 'm' && *end != 'h'))
		return error_fmt("\"%s\" is not a duration (seconds, or a number with s, m or h)", s);
	mul = *end == 'h' ? 3600 : *end == 'm' ? 60 : 1;
	if (v > 100L * 24 * 3600 / mul)
		return error_fmt("duration \"%s\" is longer than 100 days", s);
	*out = (int)(v * mul);
	return NULL;
}

void name_image_split(const char *ref, char **repo, char **tag)
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
	*repo = xstrndup(ref, rl);
	*tag = xstrdup(t);
}

const struct error *name_random(char *out, size_t n, const char *alphabet)
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
			return error_errno("reading random bytes");
		}
		for (ssize_t j = 0; j < got && i < n; j++)
			if (pool[j] < limit)
				out[i++] = alphabet[pool[j] % alen];
	}
	out[n] = '\0';
	return NULL;
}

static const char url_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-";

/* The host of target url: p to end, a name or an address with an
 * optional port. */
static const struct error *target_host(const char *url, const char *p, const char *end)
{
	size_t n = (size_t)(end - p);

	if (n == 0 || strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") < n)
		return error_fmt("backup target \"%.100s\": its host is not a name or an address", url);
	return NULL;
}

/* The path of target url from slash on: plain. */
static const struct error *target_path(const char *url, const char *slash)
{
	for (const char *p = slash; *p; p++)
		if (!strchr(url_chars, *p) && *p != '/')
			return error_fmt("backup target \"%.100s\": its path may hold letters, digits, \".\", \"_\", \"-\" "
					 "and \"/\" only",
					 url);
	if (strstr(slash, "//") || strstr(slash, "/../") || strstr(slash, "/./") ||
	    (strlen(slash) >= 3 && strcmp(slash + strlen(slash) - 3, "/..") == 0) ||
	    (strlen(slash) >= 2 && strcmp(slash + strlen(slash) - 2, "/.") == 0))
		return error_fmt("backup target \"%.100s\": its path must be plain (no \"//\", \".\" or \"..\")", url);
	return NULL;
}

/* An S3 bucket's name: 3 to 63 of [a-z0-9.-], a letter or digit at
 * either end, no "..", not an IPv4 address. */
static const struct error *target_bucket(const char *url, const char *b, size_t n)
{
	struct in_addr a;
	char name[64];

	if (n < 3 || n > 63 || strspn(b, "abcdefghijklmnopqrstuvwxyz0123456789.-") < n || !isalnum((unsigned char)b[0]) ||
	    !isalnum((unsigned char)b[n - 1]))
		return error_fmt("backup target \"%.100s\": its bucket must be 3 to 63 lowercase letters, digits, \".\" "
				 "and \"-\", a letter or digit at either end",
				 url);
	memcpy(name, b, n);
	name[n] = '\0';
	if (strstr(name, "..") || inet_pton(AF_INET, name, &a) == 1)
		return error_fmt("backup target \"%.100s\": its bucket must not hold \"..\" nor be an IP address", url);
	return NULL;
}

const struct error *name_check_target(const char *url)
{
	const char *p, *at, *slash;
	const struct error *err;

	if (strncmp(url, "s3://", 5) == 0 || strncmp(url, "s3+http://", 10) == 0) {
		p = url + (url[2] == ':' ? 5 : 10);
		if (!(slash = strchr(p, '/')))
			return error_fmt("backup target \"%.100s\" needs a bucket: s3://HOST[:PORT]/BUCKET[/PREFIX]", url);
		if ((err = target_host(url, p, slash)) || (err = target_path(url, slash)))
			return err;
		return target_bucket(url, slash + 1, strcspn(slash + 1, "/"));
	}
	if (strncmp(url, "sftp://", 7) != 0)
		return error_fmt("backup target \"%.100s\" is not sftp://USER@HOST[:PORT]/PATH nor "
				 "s3://HOST[:PORT]/BUCKET[/PREFIX]",
				 url);
	p = url + 7;
	at = strchr(p, '@');
	slash = strchr(p, '/');
	if (!at || !slash || at > slash || at == p || strspn(p, url_chars) != (size_t)(at - p))
		return error_fmt("backup target \"%.100s\" needs a user: sftp://USER@HOST[:PORT]/PATH", url);
	if ((err = target_host(url, at + 1, slash)))
		return err;
	return target_path(url, slash);
}
