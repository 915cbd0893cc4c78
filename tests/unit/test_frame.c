/* Unit tests for common/frame.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "../../common/buf.h"
#include "../../common/err.h"
#include "../../common/frame.h"
#include "check.h"

/* What the demux callback saw: per-stream bytes, and a log of calls as
 * "<stream>:<payload>|" to check order and boundaries. */
struct seen {
	struct buf out, err, log;
	int calls, fail_after;
};

static const struct error *on_frame(void *ctx, int stream, const char *data, size_t len)
{
	struct seen *s = ctx;

	s->calls++;
	assert_true(len > 0);
	assert_true(stream == FRAME_STDOUT || stream == FRAME_STDERR);
	buf_append(stream == FRAME_STDOUT ? &s->out : &s->err, data, len);
	buf_printf(&s->log, "%d:%.*s|", stream, (int)len, data);
	if (s->fail_after && s->calls >= s->fail_after)
		return error_fmt("sink refused");
	return NULL;
}

static void seen_free(struct seen *s)
{
	buf_free(&s->out);
	buf_free(&s->err);
	buf_free(&s->log);
}

/* Append one frame (header + payload) to b. */
static void frame(struct buf *b, int stream, const char *payload)
{
	size_t n = strlen(payload);
	unsigned char h[8] = {(unsigned char)stream, 0, 0, 0, (unsigned char)(n >> 24),
			      (unsigned char)(n >> 16), (unsigned char)(n >> 8), (unsigned char)n};

	buf_append(b, h, 8);
	buf_append(b, payload, n);
}

/* stdout "hello\n", stderr "oops\n", an empty stdout frame, stdout "bye" */
static void sample(struct buf *b)
{
	frame(b, FRAME_STDOUT, "hello\n");
	frame(b, FRAME_STDERR, "oops\n");
	frame(b, FRAME_STDOUT, "");
	frame(b, FRAME_STDOUT, "bye");
}

static void check_sample(struct seen *s, struct demux *d)
{
	assert_string_equal(buf_str(&s->out), "hello\nbye");
	assert_string_equal(buf_str(&s->err), "oops\n");
	assert_int_equal(demux_partial(d), 0);
}

static void test_demux_whole(void **state)
{
	struct buf in = BUF_INIT;
	struct seen s = {0};
	struct demux d;

	(void)state;
	sample(&in);
	demux_init(&d, on_frame, &s);
	OK(demux_feed(&d, in.data, in.len));
	check_sample(&s, &d);
	assert_string_equal(buf_str(&s.log), "1:hello\n|2:oops\n|1:bye|");
	buf_free(&in);
	seen_free(&s);
}

static void test_demux_bytewise(void **state)
{
	struct buf in = BUF_INIT;
	struct seen s = {0};
	struct demux d;

	(void)state;
	sample(&in);
	demux_init(&d, on_frame, &s);
	for (size_t i = 0; i < in.len; i++) {
		OK(demux_feed(&d, in.data + i, 1));
		/* Between the bytes of a frame the stream is mid-frame. */
		if (i == 3 || i == 10)
			assert_int_equal(demux_partial(&d), 1);
	}
	check_sample(&s, &d);
	assert_int_equal(s.calls, 6 + 5 + 3);
	buf_free(&in);
	seen_free(&s);
}

static void test_demux_every_split(void **state)
{
	struct buf in = BUF_INIT;

	(void)state;
	sample(&in);
	/* Two feeds, cut at every position: inside headers and payloads. */
	for (size_t cut = 0; cut <= in.len; cut++) {
		struct seen s = {0};
		struct demux d;

		demux_init(&d, on_frame, &s);
		OK(demux_feed(&d, in.data, cut));
		OK(demux_feed(&d, in.data + cut, in.len - cut));
		check_sample(&s, &d);
		seen_free(&s);
	}
	buf_free(&in);
}

static void test_demux_zero_length(void **state)
{
	struct buf in = BUF_INIT;
	struct seen s = {0};
	struct demux d;

	(void)state;
	frame(&in, FRAME_STDERR, "");
	demux_init(&d, on_frame, &s);
	OK(demux_feed(&d, in.data, in.len));
	assert_int_equal(s.calls, 0);
	assert_int_equal(demux_partial(&d), 0);
	OK(demux_feed(&d, "", 0));
	assert_int_equal(s.calls, 0);
	buf_free(&in);
	seen_free(&s);
}

static void test_demux_malformed(void **state)
{
	struct buf in = BUF_INIT;
	struct seen s = {0};
	struct demux d;
	const unsigned char bad7[8] = {7, 0, 0, 0, 0, 0, 0, 1};
	const unsigned char bad_pad[8] = {1, 0, 1, 0, 0, 0, 0, 1};

	(void)state;
	frame(&in, FRAME_STDOUT, "ok");
	buf_append(&in, bad7, 8);
	buf_append(&in, "x", 1);
	demux_init(&d, on_frame, &s);
	FAILS(demux_feed(&d, in.data, in.len));
	assert_non_null(strstr(last_msg(), "malformed"));
	assert_string_equal(buf_str(&s.out), "ok"); /* what came before still went out */
	demux_init(&d, on_frame, &s);
	FAILS(demux_feed(&d, (const char *)bad_pad, 8));
	buf_free(&in);
	seen_free(&s);
}

static void test_demux_partial(void **state)
{
	struct buf in = BUF_INIT;
	struct seen s = {0};
	struct demux d;

	(void)state;
	frame(&in, FRAME_STDOUT, "truncated payload");
	demux_init(&d, on_frame, &s);
	assert_int_equal(demux_partial(&d), 0);
	OK(demux_feed(&d, in.data, 4)); /* half a header */
	assert_int_equal(demux_partial(&d), 1);
	assert_int_equal(s.calls, 0);
	OK(demux_feed(&d, in.data + 4, 4 + 9));
	assert_int_equal(demux_partial(&d), 1);
	assert_string_equal(buf_str(&s.out), "truncated");
	OK(demux_feed(&d, in.data + 17, in.len - 17));
	assert_int_equal(demux_partial(&d), 0);
	assert_string_equal(buf_str(&s.out), "truncated payload");
	buf_free(&in);
	seen_free(&s);
}

static void test_demux_sink_fails(void **state)
{
	struct buf in = BUF_INIT;
	struct seen s = {0};
	struct demux d;

	(void)state;
	sample(&in);
	s.fail_after = 1;
	demux_init(&d, on_frame, &s);
	FAILS(demux_feed(&d, in.data, in.len));
	assert_int_equal(s.calls, 1);
	buf_free(&in);
	seen_free(&s);
}

/* Lines seen, each followed by "|". */
static const struct error *on_line(void *ctx, const char *line, size_t len)
{
	struct buf *b = ctx;

	assert_null(memchr(line, '\n', len));
	buf_append(b, line, len);
	buf_append(b, "|", 1);
	return NULL;
}

static void test_lines_basic(void **state)
{
	const char *text = "{\"a\":1}\n{\"b\":2}\r\n\n\r\nlast";
	struct buf got = BUF_INIT;
	struct lines l;

	(void)state;
	lines_init(&l, on_line, &got);
	OK(lines_feed(&l, text, strlen(text)));
	assert_string_equal(buf_str(&got), "{\"a\":1}|{\"b\":2}|||");
	OK(lines_finish(&l));
	assert_string_equal(buf_str(&got), "{\"a\":1}|{\"b\":2}|||last|");
	OK(lines_finish(&l)); /* nothing left: no call */
	assert_string_equal(buf_str(&got), "{\"a\":1}|{\"b\":2}|||last|");
	lines_free(&l);
	buf_free(&got);
}

static void test_lines_split(void **state)
{
	const char *text = "first line\r\nsecond\n\nthird\r\n";
	struct buf got = BUF_INIT;
	struct lines l;

	(void)state;
	/* Byte by byte, so "\r" and "\n" arrive in different feeds too. */
	lines_init(&l, on_line, &got);
	for (size_t i = 0; text[i]; i++)
		OK(lines_feed(&l, text + i, 1));
	OK(lines_finish(&l));
	assert_string_equal(buf_str(&got), "first line|second||third|");
	lines_free(&l);
	/* In two feeds cut inside a line. */
	buf_consume(&got, got.len);
	lines_init(&l, on_line, &got);
	OK(lines_feed(&l, "par", 3));
	assert_string_equal(buf_str(&got), "");
	OK(lines_feed(&l, "tial\nnext", 9));
	assert_string_equal(buf_str(&got), "partial|");
	OK(lines_finish(&l));
	assert_string_equal(buf_str(&got), "partial|next|");
	lines_free(&l);
	buf_free(&got);
}

static void test_lines_finish_cr(void **state)
{
	struct buf got = BUF_INIT;
	struct lines l;

	(void)state;
	lines_init(&l, on_line, &got);
	OK(lines_feed(&l, "a\nunterminated\r", 15));
	OK(lines_finish(&l));
	assert_string_equal(buf_str(&got), "a|unterminated|");
	OK(lines_feed(&l, "again\n", 6));
	assert_string_equal(buf_str(&got), "a|unterminated|again|");
	lines_free(&l);
	buf_free(&got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_demux_whole),
		cmocka_unit_test(test_demux_bytewise),
		cmocka_unit_test(test_demux_every_split),
		cmocka_unit_test(test_demux_zero_length),
		cmocka_unit_test(test_demux_malformed),
		cmocka_unit_test(test_demux_partial),
		cmocka_unit_test(test_demux_sink_fails),
		cmocka_unit_test(test_lines_basic),
		cmocka_unit_test(test_lines_split),
		cmocka_unit_test(test_lines_finish_cr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
