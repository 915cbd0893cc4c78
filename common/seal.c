#include "seal.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs.h"
#include "mem.h"

#define MAGIC "KCSEAL"
#define MAGIC_LEN 6
#define VERSION 2   /* 2: the object's name is bound to it; 1: not */
#define ID_LEN 8
#define HEAD_LEN (MAGIC_LEN + 1 + ID_LEN + crypto_secretstream_xchacha20poly1305_HEADERBYTES)
#define SEALED_CHUNK (SEAL_CHUNK + crypto_secretstream_xchacha20poly1305_ABYTES)

static const struct error *ready(void)
{
	return sodium_init() < 0 ? error_fmt("libsodium cannot start") : NULL;
}

/* Which key: BLAKE2b keyed with it, over a purpose of its own. */
static void key_id(const struct seal_key *key, unsigned char id[ID_LEN])
{
	static const char purpose[] = "korcluster: which key sealed this object";
	unsigned char h[crypto_generichash_BYTES_MIN];

	crypto_generichash(h, sizeof h, (const unsigned char *)purpose, sizeof purpose - 1, key->k, sizeof key->k);
	memcpy(id, h, ID_LEN);
}

const struct error *seal_key_create(const char *path, struct seal_key *key)
{
	const struct error *err;

	if ((err = ready()))
		return err;
	randombytes_buf(key->k, sizeof key->k);
	return seal_key_save(path, key);
}

const struct error *seal_key_save(const char *path, const struct seal_key *key)
{
	const struct error *err;
	char hex[SEAL_KEY_BYTES * 2 + 2];

	if ((err = ready()))
		return err;
	if (fs_exists(path))
		return error_fmt("\"%s\" exists already: a key is never replaced", path);
	sodium_bin2hex(hex, sizeof hex - 1, key->k, sizeof key->k);
	strcat(hex, "\n");
	err = fs_write_atomic(path, hex, strlen(hex), 0600);
	sodium_memzero(hex, sizeof hex);
	return err;
}

/* 64 hex digits (dashes and blanks between them skipped) into key. */
static const struct error *from_hex(const char *text, struct seal_key *key)
{
	char hex[SEAL_KEY_BYTES * 2 + 1];
	size_t n = 0, bin = 0;
	int bad = 0;

	for (const char *p = text; *p && !bad; p++) {
		if (*p == '-' || *p == ' ' || *p == '\n' || *p == '\t')
			continue;
		if (n == sizeof hex - 1 || !strchr("0123456789abcdefABCDEF", *p))
			bad = 1;
		else
			hex[n++] = *p;
	}
	hex[n] = '\0';
	if (!bad && n == sizeof hex - 1 &&
	    sodium_hex2bin(key->k, sizeof key->k, hex, n, NULL, &bin, NULL) == 0 && bin == sizeof key->k)
		bad = 0;
	else
		bad = 1;
	sodium_memzero(hex, sizeof hex);
	return bad ? error_fmt("a key is 64 hexadecimal digits (dashes between groups may be there)") : NULL;
}

const struct error *seal_key_load(const char *path, struct seal_key *key)
{
	const struct error *err;
	struct stat st;
	char *text = NULL;
	size_t len;

	if ((err = ready()))
		return err;
	if (lstat(path, &st) < 0)
		return error_errno("reading the key \"%s\"", path);
	if (!S_ISREG(st.st_mode))
		return error_fmt("the key \"%s\" is not a regular file", path);
	if ((err = fs_private(path)))
		return error_wrap(err, "reading the key \"%s\"", path);
	if ((err = fs_read(path, &text, &len)))
		return err;
	err = from_hex(text, key);
	sodium_memzero(text, len);
	free(text);
	return error_wrap(err, "reading the key \"%s\"", path);
}

void seal_key_phrase(const struct seal_key *key, char out[SEAL_PHRASE_LEN])
{
	char hex[SEAL_KEY_BYTES * 2 + 1];
	size_t o = 0;

	sodium_bin2hex(hex, sizeof hex, key->k, sizeof key->k);
	for (size_t i = 0; i < SEAL_KEY_BYTES * 2; i++) {
		if (i && i % 4 == 0)
			out[o++] = '-';
		out[o++] = hex[i];
	}
	out[o] = '\0';
	sodium_memzero(hex, sizeof hex);
}

const struct error *seal_key_from_phrase(const char *phrase, struct seal_key *key)
{
	const struct error *err;

	return (err = ready()) ? err : from_hex(phrase, key);
}

/* Up to len bytes, as many as rd gives before its end. */
static const struct error *read_full(seal_read_fn rd, void *ctx, unsigned char *buf, size_t len, size_t *got)
{
	const struct error *err;
	size_t n;

	*got = 0;
	while (*got < len) {
		if ((err = rd(ctx, buf + *got, len - *got, &n)))
			return err;
		if (n == 0)
			break;
		*got += n;
	}
	return NULL;
}

const struct error *seal_encrypt(const struct seal_key *key, const char *name, seal_read_fn rd, void *rctx,
				 seal_write_fn wr, void *wctx, uint64_t *bytes)
{
	const struct error *err;
	crypto_secretstream_xchacha20poly1305_state st;
	unsigned char head[HEAD_LEN], *cur = xmalloc(SEAL_CHUNK), *next = xmalloc(SEAL_CHUNK), *out = xmalloc(SEALED_CHUNK);
	size_t ncur, nnext = 0;
	uint64_t total = 0;

	if ((err = ready()))
		goto out;
	memcpy(head, MAGIC, MAGIC_LEN);
	head[MAGIC_LEN] = name ? VERSION : 1;
	key_id(key, head + MAGIC_LEN + 1);
	crypto_secretstream_xchacha20poly1305_init_push(&st, head + MAGIC_LEN + 1 + ID_LEN, key->k);
	if ((err = wr(wctx, head, sizeof head)) || (err = read_full(rd, rctx, cur, SEAL_CHUNK, &ncur)))
		goto out;
	for (;;) {
		unsigned long long n;
		unsigned char tag;
		unsigned char *t;

		/* A full chunk may be the last: only the next read tells. */
		if (ncur == SEAL_CHUNK && (err = read_full(rd, rctx, next, SEAL_CHUNK, &nnext)))
			goto out;
		tag = ncur < SEAL_CHUNK || nnext == 0 ? crypto_secretstream_xchacha20poly1305_TAG_FINAL
						      : crypto_secretstream_xchacha20poly1305_TAG_MESSAGE;
		crypto_secretstream_xchacha20poly1305_push(&st, out, &n, cur, ncur, (const unsigned char *)name,
							   name ? strlen(name) : 0, tag);
		total += ncur;
		if ((err = wr(wctx, out, (size_t)n)))
			goto out;
		if (tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL)
			break;
		t = cur;
		cur = next;
		next = t;
		ncur = nnext;
		nnext = 0;
	}
	if (bytes)
		*bytes = total;
out:
	sodium_memzero(&st, sizeof st);
	sodium_memzero(cur, SEAL_CHUNK);
	sodium_memzero(next, SEAL_CHUNK);
	free(cur);
	free(next);
	free(out);
	return err;
}

const struct error *seal_decrypt(const struct seal_key *key, const char *name, seal_read_fn rd, void *rctx,
				 seal_write_fn wr, void *wctx, uint64_t *bytes)
{
	const struct error *err;
	crypto_secretstream_xchacha20poly1305_state st;
	unsigned char head[HEAD_LEN], id[ID_LEN], *in = xmalloc(SEALED_CHUNK), *out = xmalloc(SEAL_CHUNK), extra;
	size_t got;
	uint64_t total = 0, chunk = 0;

	if ((err = ready()) || (err = read_full(rd, rctx, head, sizeof head, &got)))
		goto out;
	if (got < MAGIC_LEN + 1 || memcmp(head, MAGIC, MAGIC_LEN) != 0) {
		err = error_fmt("not a sealed object (no \"" MAGIC "\" at its start)");
		goto out;
	}
	if (head[MAGIC_LEN] < 1 || head[MAGIC_LEN] > VERSION) {
		err = error_fmt("a sealed object of format %u, which this korcluster does not read (it reads 1 to %u)",
				head[MAGIC_LEN], VERSION);
		goto out;
	}
	/* Format 1 objects were sealed without their name. */
	if (head[MAGIC_LEN] == 1)
		name = NULL;
	else if (!name) {
		err = error_fmt("the sealed object is bound to a name, and none was given");
		goto out;
	}
	if (got < sizeof head) {
		err = error_fmt("the sealed object is cut short (in its header)");
		goto out;
	}
	key_id(key, id);
	if (memcmp(id, head + MAGIC_LEN + 1, ID_LEN) != 0) {
		err = error_fmt("the object was sealed with another key");
		goto out;
	}
	if (crypto_secretstream_xchacha20poly1305_init_pull(&st, head + MAGIC_LEN + 1 + ID_LEN, key->k) != 0) {
		err = error_fmt("the sealed object's header is damaged");
		goto out;
	}
	for (;;) {
		unsigned long long n;
		unsigned char tag;

		if ((err = read_full(rd, rctx, in, SEALED_CHUNK, &got)))
			goto out;
		if (got == 0) {
			err = error_fmt("the sealed object is cut short (after %llu bytes of content)",
					(unsigned long long)total);
			goto out;
		}
		if (crypto_secretstream_xchacha20poly1305_pull(&st, out, &n, &tag, in, got, (const unsigned char *)name,
							       name ? strlen(name) : 0) != 0) {
			err = chunk == 0 && name ? error_fmt("the sealed object was modified, damaged or cut short, or "
							     "sealed under another name (moved on the target; its "
							     "chunk 1 fails its check)")
						 : error_fmt("the sealed object was modified, damaged or cut short (its "
							     "chunk %llu fails its check)",
							     (unsigned long long)chunk + 1);
			goto out;
		}
		chunk++;
		total += n;
		if ((err = wr(wctx, out, (size_t)n)))
			goto out;
		if (tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL)
			break;
		if (got < SEALED_CHUNK) {
			err = error_fmt("the sealed object is cut short (after %llu bytes of content)",
					(unsigned long long)total);
			goto out;
		}
	}
	if ((err = read_full(rd, rctx, &extra, 1, &got)))
		goto out;
	if (got) {
		err = error_fmt("the sealed object has bytes after its end");
		goto out;
	}
	if (bytes)
		*bytes = total;
out:
	sodium_memzero(&st, sizeof st);
	sodium_memzero(out, SEAL_CHUNK);
	free(in);
	free(out);
	return err;
}

const struct error *seal_fd_read(void *ctx, void *buf, size_t len, size_t *got)
{
	ssize_t n;

	do
		n = read(*(int *)ctx, buf, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return error_errno("reading");
	*got = (size_t)n;
	return NULL;
}

const struct error *seal_fd_write(void *ctx, const void *data, size_t len)
{
	const unsigned char *p = data;

	while (len) {
		ssize_t n = write(*(int *)ctx, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return error_errno("writing");
		p += n;
		len -= (size_t)n;
	}
	return NULL;
}
