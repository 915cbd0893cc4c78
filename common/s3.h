/* s3: S3-compatible object storage (libcurl, its AWS Signature Version 4
 * signing), the kind of backup target offsite.h names s3://.
 *
 * A target is s3://HOST[:PORT]/BUCKET[/PREFIX] (https) or
 * s3+http://HOST[:PORT]/BUCKET[/PREFIX] (plain http), requests path-style
 * (https://HOST/BUCKET/KEY).  An object's key is PREFIX/PATH.  The login
 * is a file of lines "NAME = VALUE": access_key, secret_key and region
 * (default us-east-1).
 *
 * An object larger than a part is sent as a multipart upload; its upload
 * id, and the ETag of each part as the server takes it, are kept in a
 * local state file, so that a later put of the same bytes sends only the
 * parts not taken yet (without asking the server to list them: not every
 * S3-compatible server can). */
#ifndef KC_S3_H
#define KC_S3_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "seal.h"
#include "strv.h"

/* 8 MiB: S3 takes parts of 5 MiB at least (but the last), 10000 at most. */
#define S3_PART_SIZE ((uint64_t)8 << 20)
#define S3_MAX_PARTS 10000

/* A target URL split: https or not, HOST[:PORT], BUCKET, PREFIX ("" or
 * without a slash at either end). */
struct s3_target {
	int https;
	char *host, *bucket, *prefix;
};

/* The login: region is "us-east-1" unless the file names one. */
struct s3_login {
	char *access, *secret, *region;
};

/* Split url after name_check_target() accepts it as an s3 target. */
const struct error *s3_parse_target(const char *url, struct s3_target *t);
void s3_target_free(struct s3_target *t);
/* Read the login from text (what the file holds); a message never quotes
 * a value. */
const struct error *s3_parse_login(const char *text, struct s3_login *l);
/* Free it, its secret wiped first. */
void s3_login_free(struct s3_login *l);

/* The next element <tag>...</tag> (or <tag/>) of xml[0, len) at *pos or
 * after: its content's place in *at and length in *n, as it stands
 * (entities and inner elements kept), and *pos past its end.  1 when
 * found, 0 when there is none or it is not closed. */
int s3_xml_find(const char *xml, size_t len, const char *tag, size_t *pos, size_t *at, size_t *n);
/* Text s[0, n) with its entities decoded (&amp; &lt; &gt; &quot; &apos;,
 * &#N; and &#xN;) into *out (caller frees); an unknown or unended entity,
 * or an element inside, is refused. */
const struct error *s3_xml_text(const char *s, size_t n, char **out);

/* How many parts an object of size bytes takes (1 for an empty one), and
 * the length of part number i (1 to that count). */
uint32_t s3_part_count(uint64_t size);
uint64_t s3_part_len(uint64_t size, uint32_t i);

struct s3;

/* Open the target at url with the login in the file at login (the caller
 * checked its mode).  rate: bytes a second each transfer may take, 0 for
 * no limit. */
const struct error *s3_open(const char *url, const char *login, uint64_t rate, struct s3 **out);
void s3_close(struct s3 *s);
/* Write the file open at fd (from its start) as path; state as
 * offsite_put() has it.  *sent: the bytes this put sent. */
const struct error *s3_put(struct s3 *s, const char *path, int fd, const char *state, uint64_t *sent);
/* Read path into wr as it comes. */
const struct error *s3_get(struct s3 *s, const char *path, seal_write_fn wr, void *ctx);
/* The names right under folder dir ("" for the top): objects' and
 * folders' last parts, sorted. */
const struct error *s3_list(struct s3 *s, const char *dir, struct strv *names);
/* Remove path (absent is done, as S3 has it). */
const struct error *s3_remove(struct s3 *s, const char *path);

#endif
