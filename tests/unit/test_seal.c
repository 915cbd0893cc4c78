/* Unit tests for common/seal.c: sealed objects in memory, and the key file
 * in a temporary folder under /tmp. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../common/buf.h"
#include "../../common/fs.h"
#include "../../common/seal.h"
#include "check.h"

static char top[] = "/tmp/kc_test_seal.XXXXXX";
static struct seal_key key, other;

static char *at(const char *name)
{
	static char path[256];

	snprintf(path, sizeof path, "%s/%s", top, name);
	return path;
}

/* Content read from memory in pieces of at most step bytes. */
struct src {
	const unsigned char *p;
	size_t len, off, step;
};

static const struct error *src_read(void *ctx, void *buf, size_t len, size_t *got)
{
	struct src *s = ctx;
	size_t n = s->len - s->off;

	if (n > len)
		n = len;
	if (n > s->step)
		n = s->step;
	memcpy(buf, s->p + s->off, n);
	s->off += n;
	*got = n;
	return NULL;
}

static const struct error *buf_write(void *ctx, const void *data, size_t len)
{
	buf_append(ctx, data, len);
	return NULL;
}

/* The name the tests' objects are sealed under. */
#define NAME "c1/instances/a/a.20261201_000000.v1.tar.zst.kcs"

static void seal_as(const char *name, const unsigned char *data, size_t len, size_t step, struct buf *out)
{
	struct src s = {data, len, 0, step};
	uint64_t n = 0;

	OK(seal_encrypt(&key, name, src_read, &s, buf_write, out, &n));
	assert_int_equal(n, len);
}

static void seal(const unsigned char *data, size_t len, size_t step, struct buf *out)
{
	seal_as(NAME, data, len, step, out);
}

static const struct error *open_as(const struct seal_key *k, const char *name, const struct buf *sealed,
				   struct buf *out)
{
	struct src s = {(const unsigned char *)sealed->data, sealed->len, 0, 1000};

	return seal_decrypt(k, name, src_read, &s, buf_write, out, NULL);
}

static const struct error *open_with(const struct seal_key *k, const struct buf *sealed, struct buf *out)
{
	return open_as(k, NAME, sealed, out);
}

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(top))
		return -1;
	OK(seal_key_create(at("key"), &key));
	OK(seal_key_create(at("other"), &other));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return fs_remove_tree(top) ? -1 : 0;
}

static void test_round_trip(void **state)
{
	static const size_t sizes[] = {0, 1, 1000, SEAL_CHUNK - 1, SEAL_CHUNK, SEAL_CHUNK + 1, 3 * SEAL_CHUNK,
				       1048576 + 3};
	unsigned char *data = malloc(1048576 + 3);

	(void)state;
	for (size_t i = 0; i < 1048576 + 3; i++)
		data[i] = (unsigned char)(i * 7 + i / 251);
	for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
		struct buf sealed = BUF_INIT, back = BUF_INIT;
		uint64_t n = 0;
		struct src s;

		/* The source may give any pieces: the object is the same size. */
		seal(data, sizes[i], i % 2 ? 4096 : SIZE_MAX, &sealed);
		assert_true(sealed.len > sizes[i]);
		assert_int_equal(memcmp(sealed.data, "KCSEAL\2", 7), 0);
		/* Nothing of the content shows (the data has no long runs). */
		if (sizes[i] >= 64)
			assert_null(memmem(sealed.data, sealed.len, data + sizes[i] / 2, 32));
		s = (struct src){(const unsigned char *)sealed.data, sealed.len, 0, 777};
		OK(seal_decrypt(&key, NAME, src_read, &s, buf_write, &back, &n));
		assert_int_equal(n, sizes[i]);
		assert_int_equal(back.len, sizes[i]);
		assert_true(sizes[i] == 0 || memcmp(back.data, data, sizes[i]) == 0);
		buf_free(&sealed);
		buf_free(&back);
	}
	free(data);
}

static void test_refused(void **state)
{
	unsigned char data[3 * SEAL_CHUNK];
	struct buf sealed = BUF_INIT, bad = BUF_INIT, back = BUF_INIT;
	const size_t head = 6 + 1 + 8 + 24;

	(void)state;
	memset(data, 'x', sizeof data);
	seal(data, sizeof data, SIZE_MAX, &sealed);
	/* the same content sealed twice differs (a new stream header) */
	seal(data, sizeof data, SIZE_MAX, &bad);
	assert_int_equal(bad.len, sealed.len);
	assert_int_not_equal(memcmp(bad.data, sealed.data, sealed.len), 0);
	buf_free(&bad);

	FAILS(open_with(&other, &sealed, &back));
	assert_string_equal(last_msg(), "the object was sealed with another key");
	buf_free(&back);

	/* Each byte flipped somewhere: header, first chunk, last chunk. */
	for (size_t off = 0; off < sealed.len; off += off < head ? 1 : 9973) {
		buf_free(&bad);
		buf_append(&bad, sealed.data, sealed.len);
		bad.data[off] ^= 0x40;
		FAILS(open_with(&key, &bad, &back));
		buf_free(&back);
	}
	buf_free(&bad);
	buf_append(&bad, sealed.data, sealed.len);
	bad.data[sealed.len - 1] ^= 1;
	FAILS(open_with(&key, &bad, &back));
	assert_non_null(strstr(last_msg(), "was modified, damaged or cut short (its chunk 3 fails its check)"));
	buf_free(&back);
	bad.data[sealed.len - 1] ^= 1;
	bad.data[head + 5] ^= 1;
	FAILS(open_with(&key, &bad, &back));
	assert_non_null(strstr(last_msg(), "its chunk 1 fails"));
	buf_free(&back);

	/* Cut at a chunk's end (the last chunk gone), inside a chunk, in the
	 * header; bytes after the end. */
	buf_free(&bad);
	buf_append(&bad, sealed.data, head + 2 * (SEAL_CHUNK + 17));
	FAILS(open_with(&key, &bad, &back));
	assert_string_equal(last_msg(), "the sealed object is cut short (after 131072 bytes of content)");
	buf_free(&back);
	bad.len -= 100;
	FAILS(open_with(&key, &bad, &back));
	assert_non_null(strstr(last_msg(), "cut short"));
	buf_free(&back);
	bad.len = 20;
	FAILS(open_with(&key, &bad, &back));
	assert_string_equal(last_msg(), "the sealed object is cut short (in its header)");
	buf_free(&back);
	buf_free(&bad);
	buf_append(&bad, sealed.data, sealed.len);
	buf_append(&bad, "x", 1);
	FAILS(open_with(&key, &bad, &back));
	assert_string_equal(last_msg(), "the sealed object has bytes after its end");
	buf_free(&back);

	/* Not sealed, or sealed by a newer format. */
	bad.len = 0;
	buf_append(&bad, "plain text, long enough to be read as a header........", 54);
	FAILS(open_with(&key, &bad, &back));
	assert_non_null(strstr(last_msg(), "not a sealed object"));
	buf_free(&back);
	buf_free(&bad);
	buf_append(&bad, sealed.data, sealed.len);
	bad.data[6] = 3;
	FAILS(open_with(&key, &bad, &back));
	assert_non_null(strstr(last_msg(), "of format 3, which this korcluster does not read"));
	buf_free(&back);
	buf_free(&bad);
	buf_free(&sealed);
}

/* An object opens only under the name it was sealed under: one moved or
 * renamed on the target (an older snapshot passed off as a newer one,
 * another instance's) is refused.  One sealed without a name (format 1,
 * as the first pushes made them) opens under any. */
static void test_name_bound(void **state)
{
	unsigned char data[2 * SEAL_CHUNK + 5];
	struct buf sealed = BUF_INIT, back = BUF_INIT;

	(void)state;
	memset(data, 'y', sizeof data);
	seal(data, sizeof data, SIZE_MAX, &sealed);
	OK(open_with(&key, &sealed, &back));
	buf_free(&back);
	FAILS(open_as(&key, "c1/instances/a/a.20261202_000000.v1.tar.zst.kcs", &sealed, &back));
	assert_non_null(strstr(last_msg(), "or sealed under another name (moved on the target; its chunk 1 fails"));
	buf_free(&back);
	FAILS(open_as(&key, "c1/instances/b/a.20261201_000000.v1.tar.zst.kcs", &sealed, &back));
	buf_free(&back);
	FAILS(open_as(&key, NULL, &sealed, &back));
	assert_non_null(strstr(last_msg(), "bound to a name, and none was given"));
	buf_free(&back);
	buf_free(&sealed);

	seal_as(NULL, data, sizeof data, SIZE_MAX, &sealed);
	assert_int_equal(memcmp(sealed.data, "KCSEAL\1", 7), 0);
	OK(open_as(&key, "anything/at/all.kcs", &sealed, &back));
	assert_int_equal(back.len, sizeof data);
	buf_free(&back);
	buf_free(&sealed);
}

static void test_key(void **state)
{
	struct seal_key k, back;
	char phrase[SEAL_PHRASE_LEN], upper[SEAL_PHRASE_LEN];
	struct stat st;

	(void)state;
	assert_int_equal(fs_exists(at("key")), 1);
	assert_int_equal(stat(at("key"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	OK(seal_key_load(at("key"), &k));
	assert_int_equal(memcmp(k.k, key.k, sizeof k.k), 0);
	assert_int_not_equal(memcmp(key.k, other.k, sizeof k.k), 0);
	/* Never replaced. */
	FAILS(seal_key_create(at("key"), &k));
	assert_non_null(strstr(last_msg(), "exists already: a key is never replaced"));
	OK(seal_key_load(at("key"), &k));
	assert_int_equal(memcmp(k.k, key.k, sizeof k.k), 0);
	/* Readable by others: refused. */
	assert_int_equal(chmod(at("key"), 0640), 0);
	FAILS(seal_key_load(at("key"), &k));
	assert_non_null(strstr(last_msg(), "must be mode 0600"));
	assert_int_equal(chmod(at("key"), 0600), 0);
	/* The phrase: 16 groups of 4, back to the same key, in any case. */
	seal_key_phrase(&key, phrase);
	assert_int_equal(strlen(phrase), 79);
	assert_int_equal(phrase[4], '-');
	OK(seal_key_from_phrase(phrase, &back));
	assert_int_equal(memcmp(back.k, key.k, sizeof k.k), 0);
	for (size_t i = 0; i < sizeof upper; i++)
		upper[i] = (char)(phrase[i] >= 'a' && phrase[i] <= 'f' ? phrase[i] - 32 : phrase[i]);
	OK(seal_key_from_phrase(upper, &back));
	assert_int_equal(memcmp(back.k, key.k, sizeof k.k), 0);
	phrase[78] = '\0';
	FAILS(seal_key_from_phrase(phrase, &back));
	FAILS(seal_key_from_phrase("zz", &back));
	OK(fs_write_atomic(at("short"), "abcd\n", 5, 0600));
	FAILS(seal_key_load(at("short"), &k));
	assert_non_null(strstr(last_msg(), "64 hexadecimal digits"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_name_bound),
		cmocka_unit_test(test_key),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
