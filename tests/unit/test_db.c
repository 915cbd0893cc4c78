/* Unit tests for common/db.c: identifiers, and what a connection announces
 * to a server (read by a stand-in server on 127.0.0.1). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../common/db.h"
#include "../../common/err.h"
#include "check.h"

static const char *rep(char c, size_t n)
{
	static char s[100];

	memset(s, c, n);
	s[n] = '\0';
	return s;
}

static const char *bad[] = {
	"", "Kor", "korA", "1kor", "_kor", "kor-db", "kor db", "kor;", "kor`", "`kor`",
	"kor`; DROP DATABASE mysql; --", "kor'", "kor' OR '1'='1", "kor\"", "kor\\", "kor.x",
	"kor\n", "k\xc3\xb6r",
};

static void test_check(void **state)
{
	(void)state;
	OK(db_ident_check("kor"));
	OK(db_ident_check("a"));
	OK(db_ident_check("prod_kor_1"));
	OK(db_ident_check(rep('d', 64)));
	FAILS(db_ident_check(rep('d', 65)));
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		if (!db_ident_check(bad[i]))
			fail_msg("\"%s\" accepted", bad[i]);
	FAILS(db_ident_check("Kor"));
	assert_non_null(strstr(last_msg(), "\"Kor\" is not a valid database name"));
}

static void test_quote(void **state)
{
	char out[100];

	(void)state;
	OK(db_ident_quote("kor", out, sizeof out));
	assert_string_equal(out, "`kor`");
	OK(db_ident_quote("prod_kor_1", out, sizeof out));
	assert_string_equal(out, "`prod_kor_1`");
	OK(db_ident_quote(rep('d', 64), out, sizeof out));
	assert_int_equal(strlen(out), 66);
	assert_int_equal(out[0], '`');
	assert_int_equal(out[65], '`');
	assert_memory_equal(out + 1, rep('d', 64), 64);
}

static void test_quote_refuses(void **state)
{
	char out[100];

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		strcpy(out, "untouched");
		if (!db_ident_quote(bad[i], out, sizeof out))
			fail_msg("\"%s\" quoted as %s", bad[i], out);
		assert_string_equal(out, "untouched");
	}
	FAILS(db_ident_quote(rep('d', 65), out, sizeof out));
}

static void test_quote_small_buffer(void **state)
{
	char out[8];

	(void)state;
	FAILS(db_ident_quote("kor", out, 2));
	FAILS(db_ident_quote("toolongname", out, sizeof out));
	OK(db_ident_quote("abcd", out, sizeof out));
	assert_string_equal(out, "`abcd`");
}

static void test_pattern_quote(void **state)
{
	char out[160];

	(void)state;
	OK(db_pattern_quote("kor", out, sizeof out));
	assert_string_equal(out, "`kor`");
	/* A GRANT on `a_b_blue` would match axb_blue, a1b_green...: the
	 * wildcard "_" is escaped. */
	OK(db_pattern_quote("a_b_blue", out, sizeof out));
	assert_string_equal(out, "`a\\_b\\_blue`");
	FAILS(db_pattern_quote(rep('_', 1), out, sizeof out));
	FAILS(db_pattern_quote("a%b", out, sizeof out));
	OK(db_pattern_quote(rep('d', 64), out, sizeof out));
	FAILS(db_pattern_quote("a_b", out, 6));
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		if (!db_pattern_quote(bad[i], out, sizeof out))
			fail_msg("\"%s\" quoted as %s", bad[i], out);
}

/* A stand-in MySQL server: sends a handshake offering LOAD DATA LOCAL,
 * reads the client's answer, keeps its capability flags, and hangs up. */
struct fake {
	int fd;
	unsigned long flags;
	int got;
};

static void *serve(void *arg)
{
	struct fake *f = arg;
	unsigned char p[256], *q = p + 4, r[512];
	int c = accept(f->fd, NULL, NULL);
	size_t n;
	ssize_t k, have = 0;
	/* CLIENT_LONG_PASSWORD | LONG_FLAG | CONNECT_WITH_DB | LOCAL_FILES |
	 * PROTOCOL_41 | TRANSACTIONS | SECURE_CONNECTION | PLUGIN_AUTH */
	unsigned long caps = 0x1 | 0x4 | 0x8 | 0x80 | 0x200 | 0x2000 | 0x8000 | 0x80000;

	if (c < 0)
		return NULL;
	*q++ = 10;
	memcpy(q, "5.5.5-10.11.6-MariaDB", 22);
	q += 22;
	memcpy(q, "\1\0\0\0", 4);
	q += 4;
	memcpy(q, "abcdefgh", 8);
	q += 8;
	*q++ = 0;
	*q++ = caps & 0xff;
	*q++ = (caps >> 8) & 0xff;
	*q++ = 33;
	*q++ = 2;
	*q++ = 0;
	*q++ = (caps >> 16) & 0xff;
	*q++ = (caps >> 24) & 0xff;
	*q++ = 21;
	memset(q, 0, 10);
	q += 10;
	memcpy(q, "ijklmnopqrst", 13);
	q += 13;
	memcpy(q, "mysql_native_password", 22);
	q += 22;
	n = (size_t)(q - p - 4);
	p[0] = n & 0xff;
	p[1] = (n >> 8) & 0xff;
	p[2] = 0;
	p[3] = 0;
	if (write(c, p, n + 4) == (ssize_t)(n + 4)) {
		while (have < 8 && (k = read(c, r + have, sizeof r - (size_t)have)) > 0)
			have += k;
		if (have >= 8) {
			f->flags = r[4] | (unsigned long)r[5] << 8 | (unsigned long)r[6] << 16 | (unsigned long)r[7] << 24;
			f->got = 1;
		}
	}
	close(c);
	return NULL;
}

static void test_no_local_infile(void **state)
{
	struct fake f = {0};
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof a;
	pthread_t t;
	struct db *db = NULL;

	(void)state;
	f.fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(f.fd >= 0);
	assert_int_equal(bind(f.fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(f.fd, 1), 0);
	assert_int_equal(getsockname(f.fd, (struct sockaddr *)&a, &al), 0);
	assert_int_equal(pthread_create(&t, NULL, serve, &f), 0);
	/* The stand-in hangs up: the login fails, after the client spoke. */
	FAILS(db_connect(&db, "127.0.0.1", ntohs(a.sin_port), "root", "pw", 5));
	pthread_join(t, NULL);
	close(f.fd);
	assert_true(f.got);
	/* Protocol 4.1 spoken, LOAD DATA LOCAL (CLIENT_LOCAL_FILES, 128) not
	 * offered, nor several statements a query (CLIENT_MULTI_STATEMENTS). */
	assert_true(f.flags & 0x200);
	if (f.flags & 0x80)
		fail_msg("the client announces LOAD DATA LOCAL (flags %#lx)", f.flags);
	if (f.flags & (1ul << 16))
		fail_msg("the client announces several statements a query (flags %#lx)", f.flags);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_quote),
		cmocka_unit_test(test_quote_refuses),
		cmocka_unit_test(test_quote_small_buffer),
		cmocka_unit_test(test_pattern_quote),
		cmocka_unit_test(test_no_local_infile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
