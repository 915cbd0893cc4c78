/* Unit tests for common/sqlsplit.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/buf.h"
#include "../../common/err.h"
#include "../../common/sqlsplit.h"
#include "../../common/strv.h"
#include "check.h"

#define MAX (256u << 20)

/* What mariadb-dump 11.4 writes for one table with a trigger, in three parts:
 * before the extended INSERT, the INSERT (made by make_dump()), after it. */
static const char dump_head[] =
	"/*M!999999\\- enable the sandbox mode */ \n"
	"-- MariaDB dump 10.19-11.4.3-MariaDB, for debian-linux-gnu (x86_64)\n"
	"--\n"
	"-- Host: 127.0.0.1    Database: kor\n"
	"-- ------------------------------------------------------\n"
	"-- Server version\t11.4.3-MariaDB-ubu2404\n"
	"\n"
	"/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;\n"
	"/*!40101 SET @OLD_CHARACTER_SET_RESULTS=@@CHARACTER_SET_RESULTS */;\n"
	"/*!40101 SET @OLD_COLLATION_CONNECTION=@@COLLATION_CONNECTION */;\n"
	"/*!40101 SET NAMES utf8mb4 */;\n"
	"/*!40103 SET @OLD_TIME_ZONE=@@TIME_ZONE */;\n"
	"/*!40103 SET TIME_ZONE='+00:00' */;\n"
	"/*!40014 SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0 */;\n"
	"/*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0 */;\n"
	"/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;\n"
	"/*M!100616 SET @OLD_NOTE_VERBOSITY=@@NOTE_VERBOSITY, NOTE_VERBOSITY=0 */;\n"
	"\n"
	"--\n"
	"-- Table structure for table `entities`\n"
	"--\n"
	"\n"
	"DROP TABLE IF EXISTS `entities`;\n"
	"/*!40101 SET @saved_cs_client     = @@character_set_client */;\n"
	"/*!40101 SET character_set_client = utf8mb4 */;\n"
	"CREATE TABLE `entities` (\n"
	"  `id` int(11) NOT NULL AUTO_INCREMENT,\n"
	"  `name` varchar(255) DEFAULT NULL,\n"
	"  `note` text DEFAULT NULL,\n"
	"  PRIMARY KEY (`id`)\n"
	") ENGINE=InnoDB AUTO_INCREMENT=20001 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_uca1400_ai_ci;\n"
	"/*!40101 SET character_set_client = @saved_cs_client */;\n"
	"\n"
	"--\n"
	"-- Dumping data for table `entities`\n"
	"--\n"
	"\n"
	"LOCK TABLES `entities` WRITE;\n"
	"/*!40000 ALTER TABLE `entities` DISABLE KEYS */;\n";

static const char dump_tail[] =
	"/*!40000 ALTER TABLE `entities` ENABLE KEYS */;\n"
	"UNLOCK TABLES;\n"
	"/*!50003 SET @saved_cs_client      = @@character_set_client */ ;\n"
	"/*!50003 SET @saved_cs_results     = @@character_set_results */ ;\n"
	"/*!50003 SET @saved_col_connection = @@collation_connection */ ;\n"
	"/*!50003 SET character_set_client  = utf8mb4 */ ;\n"
	"/*!50003 SET character_set_results = utf8mb4 */ ;\n"
	"/*!50003 SET collation_connection  = utf8mb4_uca1400_ai_ci */ ;\n"
	"/*!50003 SET @saved_sql_mode       = @@sql_mode */ ;\n"
	"/*!50003 SET sql_mode              = 'STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,"
	"NO_ENGINE_SUBSTITUTION' */ ;\n"
	"DELIMITER ;;\n"
	"/*!50003 CREATE*/ /*!50017 DEFINER=`kor`@`%`*/ /*!50003 TRIGGER `entities_bi` BEFORE INSERT ON `entities` "
	"FOR EACH ROW\n"
	"BEGIN\n"
	"  SET NEW.name = TRIM(NEW.name);\n"
	"  IF NEW.note IS NULL THEN SET NEW.note = ''; END IF;\n"
	"END */;;\n"
	"DELIMITER ;\n"
	"/*!50003 SET sql_mode              = @saved_sql_mode */ ;\n"
	"/*!50003 SET character_set_client  = @saved_cs_client */ ;\n"
	"/*!50003 SET character_set_results = @saved_cs_results */ ;\n"
	"/*!50003 SET collation_connection  = @saved_col_connection */ ;\n"
	"/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */;\n"
	"\n"
	"/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;\n"
	"/*!40014 SET FOREIGN_KEY_CHECKS=@OLD_FOREIGN_KEY_CHECKS */;\n"
	"/*!40014 SET UNIQUE_CHECKS=@OLD_UNIQUE_CHECKS */;\n"
	"/*!40101 SET CHARACTER_SET_CLIENT=@OLD_CHARACTER_SET_CLIENT */;\n"
	"/*!40101 SET CHARACTER_SET_RESULTS=@OLD_CHARACTER_SET_RESULTS */;\n"
	"/*!40101 SET COLLATION_CONNECTION=@OLD_COLLATION_CONNECTION */;\n"
	"/*M!100616 SET NOTE_VERBOSITY=@OLD_NOTE_VERBOSITY */;\n"
	"\n"
	"-- Dump completed on 2026-11-23 17:00:00\n";

/* The statements of the dump, NULL standing for the INSERT. */
static const char *const want[] = {
	"/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */",
	"/*!40101 SET @OLD_CHARACTER_SET_RESULTS=@@CHARACTER_SET_RESULTS */",
	"/*!40101 SET @OLD_COLLATION_CONNECTION=@@COLLATION_CONNECTION */",
	"/*!40101 SET NAMES utf8mb4 */",
	"/*!40103 SET @OLD_TIME_ZONE=@@TIME_ZONE */",
	"/*!40103 SET TIME_ZONE='+00:00' */",
	"/*!40014 SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0 */",
	"/*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0 */",
	"/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */",
	"/*M!100616 SET @OLD_NOTE_VERBOSITY=@@NOTE_VERBOSITY, NOTE_VERBOSITY=0 */",
	"DROP TABLE IF EXISTS `entities`",
	"/*!40101 SET @saved_cs_client     = @@character_set_client */",
	"/*!40101 SET character_set_client = utf8mb4 */",
	"CREATE TABLE `entities` (\n"
	"  `id` int(11) NOT NULL AUTO_INCREMENT,\n"
	"  `name` varchar(255) DEFAULT NULL,\n"
	"  `note` text DEFAULT NULL,\n"
	"  PRIMARY KEY (`id`)\n"
	") ENGINE=InnoDB AUTO_INCREMENT=20001 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_uca1400_ai_ci",
	"/*!40101 SET character_set_client = @saved_cs_client */",
	"LOCK TABLES `entities` WRITE",
	"/*!40000 ALTER TABLE `entities` DISABLE KEYS */",
	NULL,
	"/*!40000 ALTER TABLE `entities` ENABLE KEYS */",
	"UNLOCK TABLES",
	"/*!50003 SET @saved_cs_client      = @@character_set_client */",
	"/*!50003 SET @saved_cs_results     = @@character_set_results */",
	"/*!50003 SET @saved_col_connection = @@collation_connection */",
	"/*!50003 SET character_set_client  = utf8mb4 */",
	"/*!50003 SET character_set_results = utf8mb4 */",
	"/*!50003 SET collation_connection  = utf8mb4_uca1400_ai_ci */",
	"/*!50003 SET @saved_sql_mode       = @@sql_mode */",
	"/*!50003 SET sql_mode              = 'STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,"
	"NO_ENGINE_SUBSTITUTION' */",
	"/*!50003 CREATE*/ /*!50017 DEFINER=`kor`@`%`*/ /*!50003 TRIGGER `entities_bi` BEFORE INSERT ON `entities` "
	"FOR EACH ROW\n"
	"BEGIN\n"
	"  SET NEW.name = TRIM(NEW.name);\n"
	"  IF NEW.note IS NULL THEN SET NEW.note = ''; END IF;\n"
	"END */",
	"/*!50003 SET sql_mode              = @saved_sql_mode */",
	"/*!50003 SET character_set_client  = @saved_cs_client */",
	"/*!50003 SET character_set_results = @saved_cs_results */",
	"/*!50003 SET collation_connection  = @saved_col_connection */",
	"/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */",
	"/*!40101 SET SQL_MODE=@OLD_SQL_MODE */",
	"/*!40014 SET FOREIGN_KEY_CHECKS=@OLD_FOREIGN_KEY_CHECKS */",
	"/*!40014 SET UNIQUE_CHECKS=@OLD_UNIQUE_CHECKS */",
	"/*!40101 SET CHARACTER_SET_CLIENT=@OLD_CHARACTER_SET_CLIENT */",
	"/*!40101 SET CHARACTER_SET_RESULTS=@OLD_CHARACTER_SET_RESULTS */",
	"/*!40101 SET COLLATION_CONNECTION=@OLD_COLLATION_CONNECTION */",
	"/*M!100616 SET NOTE_VERBOSITY=@OLD_NOTE_VERBOSITY */",
};
#define NWANT (sizeof want / sizeof *want)

static struct buf dump = BUF_INIT;   /* the whole dump */
static struct buf insert = BUF_INIT; /* the INSERT statement, without ";" */

/* An extended INSERT of 20000 rows (about 1.5 MB on one line), with strings
 * holding escaped newlines, ';', "--" and "DELIMITER". */
static int make_dump(void **state)
{
	(void)state;
	if (dump.len)
		return 0;
	buf_printf(&insert, "INSERT INTO `entities` VALUES ");
	for (int i = 1; i <= 20000; i++)
		buf_printf(&insert,
			   "%s(%d,'name %d;','line one\\nline two;\\r\\n-- not a comment;\\nDELIMITER ;;\\n','%s')",
			   i > 1 ? "," : "", i, i, i % 7 ? "it\\'s;" : "");
	buf_append(&dump, dump_head, strlen(dump_head));
	buf_append(&dump, insert.data, insert.len);
	buf_append(&dump, ";\n", 2);
	buf_append(&dump, dump_tail, strlen(dump_tail));
	return dump.data && insert.data ? 0 : -1;
}

static int free_dump(void **state)
{
	(void)state;
	buf_free(&dump);
	buf_free(&insert);
	return 0;
}

struct got {
	struct sqlsplit *s;
	struct strv stmts;
	size_t lines[100]; /* s->line at each statement */
	size_t stop_at;    /* fail on this statement (from 1), 0 never */
};

static const struct error *collect(void *ctx, const char *stmt, size_t len)
{
	struct got *g = ctx;

	if (strlen(stmt) != len)
		fail_msg("statement of %zu bytes passed on with length %zu", strlen(stmt), len);
	if (g->stmts.n + 1 == g->stop_at)
		return error_fmt("stop here");
	if (g->stmts.n < sizeof g->lines / sizeof *g->lines)
		g->lines[g->stmts.n] = g->s->line;
	strv_push(&g->stmts, stmt);
	return NULL;
}

/* Split text in chunks of random sizes from 1 to maxchunk (0: all at once). */
static int split(struct got *g, struct sqlsplit *s, const char *text, size_t len, size_t maxchunk, size_t max)
{
	size_t off = 0;

	memset(g, 0, sizeof *g);
	g->s = s;
	sqlsplit_init(s, max);
	while (off < len) {
		size_t n = maxchunk ? 1 + (size_t)rand() % maxchunk : len;

		if (n > len - off)
			n = len - off;
		if ((check_err = sqlsplit_feed(s, text + off, n, collect, g)))
			return -1;
		off += n;
	}
	return (check_err = sqlsplit_finish(s, collect, g)) ? -1 : 0;
}

/* Split a NUL-terminated text whole into g (the splitter freed). */
static int split_str(struct got *g, const char *text, size_t max)
{
	struct sqlsplit s;
	int rc = split(g, &s, text, strlen(text), 0, max);

	sqlsplit_free(&s);
	g->s = NULL;
	return rc;
}

static void assert_err_has(const char *needle)
{
	if (!strstr(last_msg(), needle))
		fail_msg("error \"%s\" lacks \"%s\"", last_msg(), needle);
}

static void assert_stmts(const struct got *g, const char *const *v, size_t n)
{
	if (g->stmts.n != n)
		fail_msg("%zu statements, want %zu", g->stmts.n, n);
	for (size_t i = 0; i < n; i++)
		if (strcmp(g->stmts.v[i], v[i]) != 0)
			fail_msg("statement %zu is \"%.200s\", want \"%.200s\"", i + 1, g->stmts.v[i], v[i]);
}

static void assert_dump_stmts(const struct got *g)
{
	const char *v[NWANT];

	for (size_t i = 0; i < NWANT; i++)
		v[i] = want[i] ? want[i] : insert.data;
	assert_stmts(g, v, NWANT);
}

static void test_dump_whole(void **state)
{
	struct sqlsplit s;
	struct got g;
	const char *from = dump.data;

	(void)state;
	assert_int_equal(split(&g, &s, dump.data, dump.len, 0, MAX), 0);
	assert_dump_stmts(&g);
	/* Each statement starts on the line where its first line comes next in the dump. */
	for (size_t i = 0; i < NWANT; i++) {
		const char *w = want[i] ? want[i] : insert.data;
		size_t first = strcspn(w, "\n"), line = 1;
		char *at = memmem(from, dump.len - (size_t)(from - dump.data), w, first);

		assert_non_null(at);
		for (const char *p = dump.data; p < at; p++)
			line += *p == '\n';
		if (g.lines[i] != line)
			fail_msg("statement %zu starts at line %zu, not %zu", i + 1, line, g.lines[i]);
		from = at + first;
	}
	assert_int_equal(g.lines[13], 26); /* CREATE TABLE */
	/* One buffer, grown to the longest statement only. */
	assert_true(s.b.cap > insert.len);
	assert_true(s.b.cap <= 2 * (insert.len + 64));
	strv_free(&g.stmts);
	sqlsplit_free(&s);
}

static void test_dump_chunks(void **state)
{
	static const size_t maxchunks[] = {1, 2, 7, 64, 1000, 70000, 3000000};

	(void)state;
	srand(4242);
	for (size_t i = 0; i < sizeof maxchunks / sizeof *maxchunks; i++)
		for (int round = 0; round < (maxchunks[i] == 1 ? 1 : 5); round++) {
			struct sqlsplit s;
			struct got g;

			if (split(&g, &s, dump.data, dump.len, maxchunks[i], MAX) < 0)
				fail_msg("chunks of up to %zu: %s", maxchunks[i], last_msg());
			assert_dump_stmts(&g);
			strv_free(&g.stmts);
			sqlsplit_free(&s);
		}
}

/* The same dump with "\r\n" line ends: the inner lines of a statement keep
 * their "\r", the delimiter and the line ends are still found. */
static void test_dump_crlf(void **state)
{
	struct buf crlf = BUF_INIT;
	struct sqlsplit s;
	struct got g;

	(void)state;
	for (size_t i = 0; i < dump.len; i++) {
		if (dump.data[i] == '\n')
			buf_append(&crlf, "\r\n", 2);
		else
			buf_append(&crlf, dump.data + i, 1);
	}
	assert_int_equal(split(&g, &s, crlf.data, crlf.len, 100, MAX), 0);
	for (size_t i = 0; i < g.stmts.n; i++) {
		char *r, *w;

		for (r = w = g.stmts.v[i]; *r; r++)
			if (*r != '\r')
				*w++ = *r;
		*w = '\0';
	}
	assert_dump_stmts(&g);
	strv_free(&g.stmts);
	sqlsplit_free(&s);
	buf_free(&crlf);
}

static void test_truncated(void **state)
{
	const char *ins = strstr(dump.data, "INSERT INTO"), *create = strstr(dump.data, "CREATE TABLE");
	const char *trigger_end = strstr(dump.data, "END */;;"), *unlock = strstr(dump.data, "UNLOCK TABLES;");
	struct {
		size_t cut;
		size_t stmts; /* passed on before the end */
		const char *err;
	} v[] = {
		{(size_t)(ins - dump.data) + 100000, 17,
		 "line 40: \"INSERT INTO `entities` VALUES (1,'name 1;','line one\\n"},
		{(size_t)(ins - dump.data) + insert.len, 17, "line 40: \"INSERT INTO"},
		{(size_t)(create - dump.data) + 40, 13, "line 26: \"CREATE TABLE `entities` (   `id` int"},
		{(size_t)(trigger_end - dump.data) + 7, 28, "line 52: \"/*!50003 CREATE*/ /*!50017"},
		{(size_t)(unlock - dump.data) + 14, 20, NULL}, /* after the ";", no line end */
		{(size_t)(unlock - dump.data) + 15, 20, NULL},
		{0, 0, NULL},
		{dump.len - 1, NWANT, NULL},
	};

	(void)state;
	for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
		struct sqlsplit s;
		struct got g;
		int rc = split(&g, &s, dump.data, v[i].cut, 1000, MAX);

		if (g.stmts.n != v[i].stmts)
			fail_msg("cut at %zu: %zu statements, want %zu", v[i].cut, g.stmts.n, v[i].stmts);
		if (!v[i].err && rc != 0)
			fail_msg("cut at %zu: %s", v[i].cut, last_msg());
		if (v[i].err) {
			assert_int_equal(rc, -1);
			assert_err_has("the dump ends inside a statement (truncated?)");
			assert_err_has(v[i].err);
		}
		strv_free(&g.stmts);
		sqlsplit_free(&s);
	}
}

static void test_too_long(void **state)
{
	char text[300];
	struct got g;
	struct sqlsplit s;
	size_t limit = 1000;
	char *big = malloc(1000000);

	(void)state;
	/* 100 bytes are fine, 101 are not, on one line or on several. */
	snprintf(text, sizeof text, "SELECT 1;\nSELECT '%091d'  ;  \r\n", 0);
	assert_int_equal(split_str(&g, text, 100), 0);
	assert_int_equal(g.stmts.n, 2);
	assert_int_equal(strlen(g.stmts.v[1]), 100);
	strv_free(&g.stmts);
	snprintf(text, sizeof text, "SELECT 1;\nSELECT '%092d';\n", 0);
	assert_int_equal(split_str(&g, text, 100), -1);
	assert_err_has("line 2: statement longer than 100 bytes (\"SELECT '000");
	assert_int_equal(g.stmts.n, 1);
	strv_free(&g.stmts);
	snprintf(text, sizeof text, "\nSELECT\n'%045d',\n'%045d'\n,1;\n", 0, 0);
	assert_int_equal(split_str(&g, text, 100), -1);
	assert_err_has("line 2: statement longer than 100 bytes (\"SELECT '000");
	strv_free(&g.stmts);
	/* A long line is refused before it is all in memory. */
	assert_non_null(big);
	memset(big, 'x', 1000000);
	memcpy(big, "SELECT ", 7);
	assert_int_equal(split(&g, &s, big, 1000000, 1, limit), -1);
	assert_err_has("line 1: statement longer than 1000 bytes (\"SELECT xxx");
	assert_true(s.b.cap <= 2 * (limit + 64 + 1));
	strv_free(&g.stmts);
	sqlsplit_free(&s);
	/* Also a long comment or blank line outside a statement. */
	memset(big, ' ', 1000000);
	memcpy(big, "SELECT 1;\n-- ", 13);
	assert_int_equal(split(&g, &s, big, 1000000, 4096, limit), -1);
	assert_err_has("line 2: statement longer than 1000 bytes (\"-- ");
	assert_true(s.b.cap <= 2 * (limit + 64 + 1));
	strv_free(&g.stmts);
	sqlsplit_free(&s);
	free(big);
}

/* The buffer is reused: after a long statement, short ones allocate nothing. */
static void test_reuse(void **state)
{
	struct buf text = BUF_INIT;
	struct sqlsplit s;
	struct got g;
	char *data;
	size_t cap;

	(void)state;
	buf_printf(&text, "SELECT '%0100000d';\n", 0);
	sqlsplit_init(&s, MAX);
	memset(&g, 0, sizeof g);
	g.s = &s;
	OK(sqlsplit_feed(&s, text.data, text.len, collect, &g));
	data = s.b.data;
	cap = s.b.cap;
	assert_true(cap > 100000 && cap <= 2 * (100010 + 64));
	for (int i = 0; i < 1000; i++)
		OK(sqlsplit_feed(&s, "SELECT 1,\n2;\n", 13, collect, &g));
	OK(sqlsplit_finish(&s, collect, &g));
	assert_int_equal(g.stmts.n, 1001);
	assert_string_equal(g.stmts.v[1000], "SELECT 1,\n2");
	assert_ptr_equal(s.b.data, data);
	assert_int_equal(s.b.cap, cap);
	strv_free(&g.stmts);
	sqlsplit_free(&s);
	buf_free(&text);
}

static void test_skipped_lines(void **state)
{
	static const char *const v[] = {
		"SELECT 1",
		"--x",
		"SELECT\n-- inside a statement: kept\n2",
		"/*M!999999\\- enable the sandbox mode */ SELECT 3",
		"/*!40101 SET NAMES utf8mb4 */",
		"  SELECT 4",
	};
	struct got g;

	(void)state;
	assert_int_equal(split_str(&g,
				   "--\n-- x;\n--\t\n--\r\n\n   \n\t\r\n;\n ; \n"
				   "/*M!999999\\- enable the sandbox mode */\n"
				   "  /*M!999999\\- enable the sandbox mode */  \r\n"
				   "SELECT 1 ;\r\n--x;\nSELECT\n-- inside a statement: kept\n2;\n"
				   "/*M!999999\\- enable the sandbox mode */ SELECT 3;\n"
				   "/*!40101 SET NAMES utf8mb4 */;\n"
				   "  SELECT 4;", /* no final line end */
				   MAX),
			 0);
	assert_stmts(&g, v, sizeof v / sizeof *v);
	strv_free(&g.stmts);
}

static void test_delimiter(void **state)
{
	static const char *const v[] = {
		"SELECT 1; SELECT 2",
		"CREATE PROCEDURE p()\nBEGIN\n  SELECT 1;\n  SELECT 2;\nEND",
		"SELECT 3",
		"SELECT 4;\nSELECT 5",
		"SELECT\nDELIMITER ;", /* not special inside a statement */
		"DELIMITER",            /* no DELIMITER line without a blank after it */
		"x",
	};
	static const char *const bad[][2] = {
		{"DELIMITER\n", "line 1: DELIMITER without a delimiter"},
		{"SELECT 1;\ndelimiter   \t\n", "line 2: DELIMITER without a delimiter"},
		{"DELIMITER a\\b\n", "line 1: a delimiter cannot hold a backslash"},
		{"DELIMITER ;; x\n", "line 1: DELIMITER takes one word"},
		{"DELIMITER 0123456789abcdef\n", "line 1: delimiter longer than 15 characters"},
	};
	struct got g;

	(void)state;
	assert_int_equal(split_str(&g,
				   "delimiter $$\nSELECT 1; SELECT 2$$\n"
				   "  DELIMITER //  \r\n"
				   "CREATE PROCEDURE p()\nBEGIN\n  SELECT 1;\n  SELECT 2;\nEND  //\n"
				   "DeLiMiTeR ;\nSELECT 3;\n"
				   "DELIMITER 0123456789abcde\nSELECT 4;\nSELECT 5 0123456789abcde\n"
				   "DELIMITER ;\nSELECT\nDELIMITER ;;\nDELIMITER;\nx;\n",
				   MAX),
			 0);
	assert_stmts(&g, v, sizeof v / sizeof *v);
	strv_free(&g.stmts);
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		assert_int_equal(split_str(&g, bad[i][0], MAX), -1);
		assert_err_has(bad[i][1]);
		strv_free(&g.stmts);
	}
}

static void test_lines_and_stop(void **state)
{
	struct sqlsplit s;
	struct got g;

	(void)state;
	assert_int_equal(split_str(&g, "\n\nSELECT\n1;\n-- c\n\nSELECT 2;\nSELECT 3;", MAX), 0);
	assert_int_equal(g.stmts.n, 3);
	assert_int_equal(g.lines[0], 3);
	assert_int_equal(g.lines[1], 7);
	assert_int_equal(g.lines[2], 8);
	strv_free(&g.stmts);
	/* fn fails on the 18th statement, the INSERT: feed stops there. */
	memset(&g, 0, sizeof g);
	g.s = &s;
	g.stop_at = 18;
	sqlsplit_init(&s, MAX);
	FAILS(sqlsplit_feed(&s, dump.data, dump.len, collect, &g));
	assert_string_equal(last_msg(), "stop here");
	assert_int_equal(g.stmts.n, 17);
	assert_int_equal(s.line, 40);
	strv_free(&g.stmts);
	sqlsplit_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dump_whole),
		cmocka_unit_test(test_dump_chunks),
		cmocka_unit_test(test_dump_crlf),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_reuse),
		cmocka_unit_test(test_skipped_lines),
		cmocka_unit_test(test_delimiter),
		cmocka_unit_test(test_lines_and_stop),
	};

	return cmocka_run_group_tests(tests, make_dump, free_dump);
}
