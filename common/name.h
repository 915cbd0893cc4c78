/* name: checks of user-given names and values, and random strings. */
#ifndef KC_NAME_H
#define KC_NAME_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Each check returns NULL if valid, else why not. */
const struct error *name_check_cluster(const char *s);   /* [a-z0-9][a-z0-9_-]{0,31} */
const struct error *name_check_instance(const char *s);  /* [a-z][a-z0-9_]{0,30} */
const struct error *name_check_service(const char *s);   /* [a-z][a-z0-9_]{0,30} */
const struct error *name_check_template(const char *s);  /* [a-z0-9][a-z0-9_-]{0,63} */
const struct error *name_check_image(const char *s);     /* a Docker image reference */
const struct error *name_check_address(const char *s);   /* IPv4 or IPv6 literal */
const struct error *name_check_port(const char *s, int *port);
/* A hostname as RFC 1123 has it, in lowercase: labels of [a-z0-9-] (no
 * "-" first or last, at most 63), joined by ".", at most 253; no wildcard,
 * not an IPv4 address. */
const struct error *name_check_host(const char *s);
/* An http:// or https:// URL of a hostname or IP address, an optional
 * port and an optional path of [A-Za-z0-9/._~%-] (no query): safe to put
 * in a configuration file as it is. */
const struct error *name_check_url(const char *s);
/* An instance's description: one line of at most 200 bytes, no control
 * character, no ";" (it would begin a comment in instance.ini), no blank
 * at either end. */
const struct error *name_check_description(const char *s);
/* A backup target: sftp://USER@HOST[:PORT]/PATH, PATH absolute and plain
 * ([A-Za-z0-9._-] and "/", no "." or ".." parts, no "//"); or
 * s3://HOST[:PORT]/BUCKET[/PREFIX] or s3+http://..., BUCKET as S3 names
 * them (3 to 63 of [a-z0-9.-], a letter or digit at either end, no "..",
 * not an IPv4 address) and PREFIX plain as PATH is. */
const struct error *name_check_target(const char *url);

/* A size: bytes, or a number with K, M, G or T (powers of 1024). */
const struct error *name_parse_size(const char *s, uint64_t *out);
/* A duration: seconds, or a number with s, m or h. */
const struct error *name_parse_seconds(const char *s, int *out);

/* Split an image reference into what /images/create takes: repo (with
 * registry) and tag or digest ("latest" if none).  Caller frees both. */
void name_image_split(const char *ref, char **repo, char **tag);

/* n random characters of alphabet from getrandom(2), NUL-terminated in out
 * (which holds n + 1 bytes). */
const struct error *name_random(char *out, size_t n, const char *alphabet);

#define NAME_ALNUM_LOWER "abcdefghijklmnopqrstuvwxyz0123456789"
#define NAME_ALNUM "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

#endif
