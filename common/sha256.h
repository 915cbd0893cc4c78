/* sha256: SHA-256 (FIPS 180-4) in plain C, no library.
 *
 *	struct sha256 s;
 *	unsigned char d[32];
 *	char hex[65];
 *
 *	sha256_init(&s);
 *	sha256_update(&s, data, len);	(any number of times, any sizes)
 *	sha256_final(&s, d);
 *	sha256_hex(d, hex);
 *
 * After sha256_final() the state is spent: sha256_init() it again to reuse. */
#ifndef KC_SHA256_H
#define KC_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct sha256 {
	uint32_t h[8];
	uint64_t len;          /* bytes hashed so far */
	unsigned char buf[64]; /* a partial block */
	size_t n;              /* bytes in buf */
};

/* Set to 1 to use the portable C code even where the CPU has SHA
 * instructions (for tests). */
extern int sha256_portable;

void sha256_init(struct sha256 *s);
/* data may be NULL when len is 0. */
void sha256_update(struct sha256 *s, const void *data, size_t len);
void sha256_final(struct sha256 *s, unsigned char out[32]);
/* out gets 64 lowercase hex digits and a NUL. */
void sha256_hex(const unsigned char digest[32], char out[65]);

#endif
