/* seal: what goes off-site, encrypted on this host before it leaves it
 * (libsodium's crypto_secretstream_xchacha20poly1305: streaming, so memory
 * stays two chunks whatever the size).
 *
 * A sealed object:
 *   "KCSEAL"          6 bytes
 *   version           1 byte (2; 1: an object not bound to its name)
 *   key id            8 bytes: BLAKE2b-64 of the key with a purpose of its
 *                     own (says which key, tells nothing of it)
 *   stream header     24 bytes
 *   chunks            each up to 64 KiB of the content + 17 bytes; the
 *                     last (maybe empty) is tagged FINAL
 * Opening checks, in turn: the magic and the version (else "not a sealed
 * object" / "a newer format"), the key id ("sealed with another key"),
 * every chunk's authentication, the object's name as additional data in
 * format 2 ("modified or damaged", or moved), and that FINAL
 * ends the object exactly ("cut short" / "has bytes after its end").
 *
 * The key: 32 random bytes in a file of mode 0600 (hex, one line), made
 * once; its recovery phrase (seal_key_phrase()) is the same 32 bytes as 16
 * groups of 4 hex digits, for the operator to keep elsewhere. */
#ifndef KC_SEAL_H
#define KC_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define SEAL_KEY_BYTES 32
#define SEAL_PHRASE_LEN 80 /* 16 groups of 4, 15 dashes, NUL */
#define SEAL_CHUNK 65536

struct seal_key {
	unsigned char k[SEAL_KEY_BYTES];
};

/* Where content comes from: *got 0 at its end. */
typedef const struct error *(*seal_read_fn)(void *ctx, void *buf, size_t len, size_t *got);
/* Where it goes. */
typedef const struct error *(*seal_write_fn)(void *ctx, const void *data, size_t len);

/* Make a new key and write it to path (mode 0600, atomically); an existing
 * file is refused, never replaced. */
const struct error *seal_key_create(const char *path, struct seal_key *key);
/* Write key to path the same way (a key typed back from its phrase). */
const struct error *seal_key_save(const char *path, const struct seal_key *key);
/* Read the key at path: a regular file of mode 0600 holding 64 hex digits. */
const struct error *seal_key_load(const char *path, struct seal_key *key);
/* The key as its recovery phrase, and back (dashes and case as typed). */
void seal_key_phrase(const struct seal_key *key, char out[SEAL_PHRASE_LEN]);
const struct error *seal_key_from_phrase(const char *phrase, struct seal_key *key);
/* Seal what rd gives into wr; *bytes (or NULL) gets the content's size.
 * name: what the object is called where it is kept, bound to it (format 2:
 * opened under another name, it fails its check, so an object cannot be
 * passed off as another, an older snapshot as a newer one say); NULL:
 * format 1, bound to no name. */
const struct error *seal_encrypt(const struct seal_key *key, const char *name, seal_read_fn rd, void *rctx,
				 seal_write_fn wr, void *wctx, uint64_t *bytes);
/* Open a sealed object rd gives, under name (a format 1 object opens under
 * any), its content into wr as it is checked (a failure part-way leaves
 * what came before in wr: the caller writes to a temporary place).
 * *bytes (or NULL) gets the content's size. */
const struct error *seal_decrypt(const struct seal_key *key, const char *name, seal_read_fn rd, void *rctx,
				 seal_write_fn wr, void *wctx, uint64_t *bytes);
/* Readers and writers of file descriptors, for the above (ctx: int *). */
const struct error *seal_fd_read(void *ctx, void *buf, size_t len, size_t *got);
const struct error *seal_fd_write(void *ctx, const void *data, size_t len);

#endif
