/* Unit tests for common/sha256.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "../../common/sha256.h"

/* The hex digest of len bytes at data, hashed with one update. */
static const char *digest_of(const void *data, size_t len)
{
	static char hex[65];
	struct sha256 s;
	unsigned char d[32];

	sha256_init(&s);
	sha256_update(&s, data, len);
	sha256_final(&s, d);
	sha256_hex(d, hex);
	return hex;
}

static void test_nist(void **state)
{
	static const char abc448[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	static const char abc896[] = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
				     "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";

	(void)state;
	assert_string_equal(digest_of("", 0), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	assert_string_equal(digest_of(NULL, 0), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	assert_string_equal(digest_of("abc", 3), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_string_equal(digest_of(abc448, strlen(abc448)),
			    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	assert_string_equal(digest_of(abc896, strlen(abc896)),
			    "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

static void test_million_a(void **state)
{
	static const char *want = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
	char *a = malloc(1000000), hex[65];
	struct sha256 s;
	unsigned char d[32];

	(void)state;
	assert_non_null(a);
	memset(a, 'a', 1000000);
	assert_string_equal(digest_of(a, 1000000), want);
	/* The same in 1000 updates of 1000 bytes (not a multiple of 64). */
	sha256_init(&s);
	for (int i = 0; i < 1000; i++)
		sha256_update(&s, a, 1000);
	sha256_final(&s, d);
	sha256_hex(d, hex);
	assert_string_equal(hex, want);
	free(a);
}

/* Lengths around the padding edges: 55 bytes still fit one block, 56 need two. */
static void test_padding(void **state)
{
	static const struct {
		size_t n;
		const char *hex;
	} v[] = {
		{55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
		{56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"},
		{63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"},
		{64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
		{65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0"},
		{119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb"},
		{120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c"},
		{128, "6836cf13bac400e9105071cd6af47084dfacad4e5e302c94bfed24e013afb73e"},
	};
	char a[128];

	(void)state;
	memset(a, 'a', sizeof a);
	for (size_t i = 0; i < sizeof v / sizeof *v; i++)
		if (strcmp(digest_of(a, v[i].n), v[i].hex) != 0)
			fail_msg("%zu x 'a': got %s, want %s", v[i].n, digest_of(a, v[i].n), v[i].hex);
}

/* Hash data in pieces of the sizes in sizes[] (cycled), then compare with one update. */
static void pieces_match(const unsigned char *data, size_t len, const size_t *sizes, size_t nsizes)
{
	char whole[65], hex[65];
	struct sha256 s;
	unsigned char d[32];
	size_t off = 0, k = 0;

	strcpy(whole, digest_of(data, len));
	sha256_init(&s);
	while (off < len) {
		size_t n = sizes[k++ % nsizes];

		if (n > len - off)
			n = len - off;
		sha256_update(&s, data + off, n);
		off += n;
	}
	sha256_final(&s, d);
	sha256_hex(d, hex);
	if (strcmp(hex, whole) != 0)
		fail_msg("%zu bytes in pieces of %zu...: %s, in one update: %s", len, sizes[0], hex, whole);
}

static void test_pieces(void **state)
{
	static const size_t fixed[][3] = {
		{1, 1, 1}, {63, 63, 63}, {64, 64, 64}, {65, 65, 65}, {1, 63, 64}, {65, 1, 127}, {0, 3, 200},
	};
	size_t len = 20000;
	unsigned char *data = malloc(len);

	(void)state;
	assert_non_null(data);
	srand(12345);
	for (size_t i = 0; i < len; i++)
		data[i] = (unsigned char)rand();
	for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
		pieces_match(data, len, fixed[i], 3);
	/* Random split points, and every length up to 300 byte by byte. */
	for (int round = 0; round < 200; round++) {
		size_t sizes[16];

		for (size_t k = 0; k < 16; k++)
			sizes[k] = (size_t)rand() % (round < 100 ? 70 : 3000);
		sizes[0] |= 1; /* never stuck on zeros */
		pieces_match(data, (size_t)rand() % len, sizes, 16);
	}
	for (size_t n = 0; n <= 300; n++) {
		size_t one = 1;

		pieces_match(data, n, &one, 1);
	}
	free(data);
}

static void test_hex(void **state)
{
	unsigned char d[32];
	char out[66];

	(void)state;
	for (int i = 0; i < 32; i++)
		d[i] = (unsigned char)(i * 8 + (i & 7));
	memset(out, 'X', sizeof out);
	sha256_hex(d, out);
	assert_string_equal(out, "0009121b242d363f4049525b646d767f8089929ba4adb6bfc0c9d2dbe4edf6ff");
	assert_int_equal(out[65], 'X');
}

/* A state can be reused after sha256_init(). */
static void test_reuse(void **state)
{
	struct sha256 s;
	unsigned char d[32];
	char hex[65];

	(void)state;
	sha256_init(&s);
	sha256_update(&s, "something else entirely", 23);
	sha256_final(&s, d);
	sha256_init(&s);
	sha256_update(&s, "ab", 2);
	sha256_update(&s, "c", 1);
	sha256_final(&s, d);
	sha256_hex(d, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

/* Every test runs with the CPU's SHA instructions (where it has them) and
 * with the portable code: both must give the same digests. */
static int native(void **state)
{
	(void)state;
	sha256_portable = 0;
	return 0;
}

static int portable(void **state)
{
	(void)state;
	sha256_portable = 1;
	return 0;
}

#define BOTH(t) cmocka_unit_test_setup(t, native), cmocka_unit_test_setup(t, portable)

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(test_nist), BOTH(test_million_a), BOTH(test_padding),
		BOTH(test_pieces), BOTH(test_hex), BOTH(test_reuse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
