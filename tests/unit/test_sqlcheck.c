/* Unit tests for common/sqlcheck.c: what a dump restored into one database
 * may hold, read the way MariaDB and MySQL read it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "../../common/err.h"
#include "check.h"
#include "../../common/sqlcheck.h"

static void assert_err_has(const char *needle)
{
	if (!strstr(last_msg(), needle))
		fail_msg("error \"%s\" lacks \"%s\"", last_msg(), needle);
}

static int check(struct sqlcheck *c, const char *stmt)
{
	return (check_err = sqlcheck_statement(c, stmt, strlen(stmt))) ? -1 : 0;
}

/* Each statement in order through one checker (state carries over). */
static void all_pass(const char *target, const char *const *stmts, size_t n)
{
	struct sqlcheck c;

	sqlcheck_init(&c, target);
	for (size_t i = 0; i < n; i++)
		if (check(&c, stmts[i]) != 0)
			fail_msg("\"%s\" refused: %s", stmts[i], last_msg());
	sqlcheck_free(&c);
}

static void each_refused(const char *target, const char *const *stmts, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct sqlcheck c;

		sqlcheck_init(&c, target);
		if (check(&c, stmts[i]) != -1)
			fail_msg("\"%s\" accepted", stmts[i]);
		sqlcheck_free(&c);
	}
}

/* What mariadb-dump 11.4 and MySQL 5.7's mysqldump write: tables, data,
 * a trigger, a view, a routine, with their saved and restored settings. */
static void test_real_dumps(void **state)
{
	static const char *const mariadb[] = {
		"/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */",
		"/*!40101 SET NAMES utf8mb4 */",
		"/*!40103 SET @OLD_TIME_ZONE=@@TIME_ZONE */",
		"/*!40103 SET TIME_ZONE='+00:00' */",
		"/*!40014 SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0 */",
		"/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */",
		"/*M!100616 SET @OLD_NOTE_VERBOSITY=@@NOTE_VERBOSITY, NOTE_VERBOSITY=0 */",
		"DROP TABLE IF EXISTS `entities`",
		"/*!40101 SET @saved_cs_client     = @@character_set_client */",
		"CREATE TABLE `entities` (\n  `id` int(11) NOT NULL AUTO_INCREMENT,\n  `name` varchar(255) DEFAULT "
		"NULL,\n  PRIMARY KEY (`id`)\n) ENGINE=InnoDB AUTO_INCREMENT=20001 DEFAULT CHARSET=utf8mb4 "
		"COLLATE=utf8mb4_uca1400_ai_ci",
		"/*!40101 SET character_set_client = @saved_cs_client */",
		"LOCK TABLES `entities` WRITE",
		"/*!40000 ALTER TABLE `entities` DISABLE KEYS */",
		"INSERT INTO `entities` VALUES (1,'USE x; DROP DATABASE y'),(2,'it\\'s \"quoted\" -- not a comment'),"
		"(3,'/*!50000 USE x */'),(4,'a_green.x mysql.user INTO OUTFILE')",
		"/*!40000 ALTER TABLE `entities` ENABLE KEYS */",
		"UNLOCK TABLES",
		"/*!50003 SET @saved_sql_mode       = @@sql_mode */",
		"/*!50003 SET sql_mode              = 'STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,"
		"NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION' */",
		"/*!50003 CREATE*/ /*!50017 DEFINER=`kor`@`%`*/ /*!50003 TRIGGER `entities_bi` BEFORE INSERT ON "
		"`entities` FOR EACH ROW\nBEGIN\n  SET NEW.name = TRIM(NEW.name);\n  IF NEW.name IS NULL THEN SET "
		"NEW.name = ''; END IF;\nEND */",
		"/*!50003 SET sql_mode              = @saved_sql_mode */",
		"/*!50001 DROP VIEW IF EXISTS `names`*/",
		"/*!50001 CREATE ALGORITHM=UNDEFINED */\n/*!50013 DEFINER=`kor`@`%` SQL SECURITY DEFINER */\n"
		"/*!50001 VIEW `names` AS select `entities`.`name` AS `name` from `entities` USE INDEX (PRIMARY) */",
		"CREATE DEFINER=`kor`@`%` PROCEDURE `database_p`()\nBEGIN\n  SELECT COUNT(*) FROM entities;\nEND",
		"/*!40101 SET SQL_MODE=@OLD_SQL_MODE */",
		"/*M!100616 SET NOTE_VERBOSITY=@OLD_NOTE_VERBOSITY */",
	};
	static const char *const mysql57[] = {
		"/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */",
		"/*!40111 SET @OLD_SQL_NOTES=@@SQL_NOTES, SQL_NOTES=0 */",
		"CREATE TABLE `t` (`a` int) ENGINE=InnoDB /*!50100 PARTITION BY HASH (a) PARTITIONS 2 */",
		"/*!50001 CREATE VIEW `v` AS SELECT \n 1 AS `a`*/",
		"set autocommit=0",
		"INSERT INTO `t` VALUES (1)",
		"commit",
		"REPLACE INTO `t` VALUES (2)",
		"/*!40101 SET SQL_MODE=@OLD_SQL_MODE */",
		"/*!40111 SET SQL_NOTES=@OLD_SQL_NOTES */",
	};

	(void)state;
	all_pass("kor_green", mariadb, sizeof mariadb / sizeof *mariadb);
	all_pass("kor_green", mysql57, sizeof mysql57 / sizeof *mysql57);
	all_pass(NULL, mysql57, sizeof mysql57 / sizeof *mysql57);
}

static void test_databases(void **state)
{
	static const char *const ok[] = {
		"CREATE TABLE `user_database` (`id` int)",
		"/*!40101 SET NAMES utf8mb4 */",
		"DROP TABLE IF EXISTS `database`",
		"ALTER TABLE schema_x ADD COLUMN d int",
		"CREATE OR REPLACE VIEW v AS SELECT 1",
		"CREATE DEFINER=`x`@`%` PROCEDURE database_p() BEGIN END",
		"INSERT INTO t SELECT * FROM kor_green.t",
		"INSERT INTO t SELECT t.a FROM t",
		"",
		"   ",
		"/* only a comment */",
	};
	static const char *const bad[] = {
		"USE `other`",
		"use other",
		"USE`other`",
		"CREATE DATABASE x",
		"/*!40000 DROP DATABASE x*/",
		"/*!40000 DROP DATABASE IF EXISTS `x`*/",
		" drop schema x",
		"CREATE DATABASE /*!32312 IF NOT EXISTS*/ `x`",
		"CREATE DATABASE /*!32312 IF NOT EXISTS*/ `x` /*!40100 DEFAULT CHARACTER SET utf8mb4 */",
		"ALTER DATABASE `x` CHARACTER SET utf8mb4",
		"alter Schema x",
		"CREATE OR REPLACE DATABASE x",
		"/*M!100000 CREATE OR REPLACE SCHEMA x */",
		/* a word after "name." is a name: what follows says the kind */
		"CREATE DEFINER=`u`@CE.PROCEDURE `p`() ROLE",
		"/*! USE x */",
		"/* a comment */ -- another\n# a third\n\t USE x",
		"/*!40000 CREATE */ /*!40000 DATABASE x */",
		"CREATE/**/DATABASE x",
		"\n\nUSE x",
		/* What a server skips, read as the server does (issue: these
		 * passed a check of the first word and were executed). */
		"/*!99999 SELECT 1 */ USE other",
		"/*!50700 x */ USE other",
		"/*!50700 x */ CREATE DATABASE other",
		"/*!50700 x */ DROP DATABASE other",
		"/*!999999 SELECT 1 */ DROP DATABASE other",
		"SELECT 1 /*M!999999\\- x */",
		"/*M!999999\\- enable the sandbox mode */ USE other",
		"--\x01 comment\nUSE other",
		"--\x1f comment\nCREATE DATABASE other",
		"--\t\nDROP SCHEMA other",
		"#\nUSE other",
		/* Inside a routine body: a database is not a dump's business. */
		"CREATE PROCEDURE p() BEGIN CREATE DATABASE x; END",
		"CREATE PROCEDURE p() BEGIN DROP SCHEMA x; END",
		/* Another database by name. */
		"INSERT INTO t SELECT * FROM other_blue.items",
		"INSERT INTO t SELECT * FROM `other_green`.`items`",
		"INSERT INTO t SELECT * FROM \"other_green\".items",
		"INSERT INTO t SELECT User FROM mysql.user",
		"INSERT INTO t SELECT * FROM `MySQL`.db",
		"INSERT INTO t SELECT table_name FROM information_schema.tables",
		"DROP TABLE axb_blue.items",
		"CREATE TABLE t AS SELECT * FROM axb_blue.items",
		"CREATE TRIGGER tr AFTER INSERT ON t FOR EACH ROW INSERT INTO axb_blue.items VALUES (1)",
		"INSERT INTO t SELECT * FROM /*!50000 axb_blue.items */",
		"GRANT ALL ON *.* TO x",
		"INSERT INTO t SELECT * FROM kor_blue.*",
	};

	(void)state;
	all_pass("kor_green", ok, sizeof ok / sizeof *ok);
	each_refused("kor_green", bad, sizeof bad / sizeof *bad);
	{
		struct sqlcheck c;

		sqlcheck_init(&c, "kor_green");
		assert_int_equal(check(&c, "USE `other`"), -1);
		assert_err_has("the dump switches or creates databases (\"USE `other`\"): ");
		assert_int_equal(check(&c, "CREATE DATABASE /*!32312 IF NOT EXISTS*/ `a_rather_long_database_name` "
					   "/*!40100 DEFAULT CHARACTER SET utf8mb4 */"),
				 -1);
		assert_err_has("(\"CREATE DATABASE /*!32312 IF NOT EXISTS*/ `a_rather_long_data...\")");
		assert_int_equal(check(&c, "\n\nUSE x"), -1);
		assert_err_has("(\"  USE x\")");
		assert_int_equal(check(&c, "INSERT INTO t SELECT * FROM axb_blue.items"), -1);
		assert_err_has("names another database (\"axb_blue\")");
		sqlcheck_free(&c);
	}
	/* The target is the one database a dump may name; without a target,
	 * no instance database. */
	{
		static const char *const own[] = {"INSERT INTO t SELECT * FROM kor_green.t"};

		each_refused(NULL, own, 1);
		each_refused("kor_blue", own, 1);
	}
}

static void test_files_and_kinds(void **state)
{
	static const char *const bad[] = {
		"LOAD DATA LOCAL INFILE '/etc/passwd' INTO TABLE t",
		"load data infile '/var/lib/mysql/x' into table t",
		"/*!50000 LOAD DATA LOCAL INFILE '/x' INTO TABLE t */",
		"/*!99999 SELECT 1 */ LOAD DATA LOCAL INFILE '/x' INTO TABLE t",
		"LOAD XML LOCAL INFILE '/x' INTO TABLE t",
		"SELECT * FROM t INTO OUTFILE '/tmp/x'",
		"SELECT * FROM t INTO DUMPFILE '/tmp/x'",
		"CREATE PROCEDURE p() BEGIN SELECT 1 INTO OUTFILE '/tmp/x'; END",
		"INSERT INTO t VALUES (LOAD_FILE('/etc/passwd'))",
		"CREATE TABLE t (a int) DATA DIRECTORY = '/tmp'",
		"CREATE TABLE t (a int) INDEX DIRECTORY='/tmp'",
		"CREATE FUNCTION f RETURNS STRING SONAME 'evil.so'",
		"SELECT SLEEP(100)",
		"SELECT 'CREATE DATABASE x'",
		"/* USE x */ SELECT 1",
		"PREPARE s FROM @x",
		"EXECUTE s",
		"CALL p()",
		"DO SLEEP(10)",
		"HANDLER t OPEN",
		"FLUSH PRIVILEGES",
		"KILL 1",
		"SHUTDOWN",
		"INSTALL PLUGIN x SONAME 'x.so'",
		"CREATE USER x IDENTIFIED BY 'y'",
		"DROP USER kor",
		"ALTER USER kor IDENTIFIED BY 'x'",
		"CREATE ROLE r",
		"CREATE SERVER s FOREIGN DATA WRAPPER mysql OPTIONS (HOST 'x')",
		"CREATE TABLESPACE ts ADD DATAFILE 'x.ibd'",
		"RENAME TABLE t TO mysql.t",
		"SET GLOBAL general_log = 1",
		"SET @@global.max_connections = 1",
		"SET PASSWORD = PASSWORD('x')",
		"SET PASSWORD FOR kor = 'x'",
		"SET ROLE r",
		"SET DEFAULT ROLE r FOR kor",
		"SET STATEMENT max_statement_time=0 FOR INSERT INTO t VALUES (1)",
		"CREATE",
		"CREATE OR DATABASE x",
		"*/ USE x",
		"USER_FN()",
		"/*!50000 */ TABLE t",
	};
	static const char *const ok[] = {
		"INSERT INTO t VALUES ('LOAD DATA LOCAL INFILE')",
		"INSERT INTO `load` (`data`) VALUES (1)",
		"CREATE TABLE `outfile` (`into` int)",
		"SET @x = 1",
		"SET SESSION wait_timeout = 600",
		"SET TIME_ZONE='+00:00'",
	};

	(void)state;
	each_refused("kor_green", bad, sizeof bad / sizeof *bad);
	all_pass("kor_green", ok, sizeof ok / sizeof *ok);
	{
		struct sqlcheck c;

		sqlcheck_init(&c, "kor_green");
		assert_int_equal(check(&c, "LOAD DATA LOCAL INFILE '/x' INTO TABLE t"), -1);
		assert_err_has("reads files (LOAD DATA)");
		assert_int_equal(check(&c, "SELECT * FROM t INTO OUTFILE '/tmp/x'"), -1);
		assert_err_has("writes files (INTO OUTFILE)");
		assert_int_equal(check(&c, "SELECT SLEEP(100)"), -1);
		assert_err_has("holds a statement of a kind no dump holds");
		assert_int_equal(check(&c, "CREATE PROCEDURE p() BEGIN SELECT 1 INTO DUMPFILE '/x'; END"), -1);
		assert_err_has("writes files (INTO OUTFILE)");
		sqlcheck_free(&c);
	}
}

/* sql_mode decides how the server reads quotes and backslashes: a dump
 * may not switch to a mode in which the checks above read it wrong. */
static void test_sql_mode(void **state)
{
	static const char *const bad[] = {
		"SET sql_mode = 'NO_BACKSLASH_ESCAPES'",
		"SET sql_mode='STRICT_TRANS_TABLES,ANSI_QUOTES'",
		"SET SESSION sql_mode = 'ansi'",
		"SET @@session.sql_mode = 'ORACLE'",
		"SET @@sql_mode := \"MSSQL\"",
		"SET LOCAL sql_mode = 'postgresql'",
		"/*!40101 SET SQL_MODE='NO_BACKSLASH_ESCAPES' */",
		"SET sql_mode = CONCAT('NO_BACKSLASH', '_ESCAPES')",
		"SET sql_mode = 4",
		"SET sql_mode = @@global.sql_mode",
		"SET x = 1, sql_mode = (SELECT 'ANSI')",
	};

	(void)state;
	each_refused("kor_green", bad, sizeof bad / sizeof *bad);
	/* Back to what a variable saved; not to one assigned anything else. */
	{
		static const char *const saved[] = {
			"SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO'",
			"SET SQL_MODE=@OLD_SQL_MODE",
			"SET sql_mode = DEFAULT",
			"SET sql_mode = @never_assigned",
		};
		struct sqlcheck c;

		all_pass("kor_green", saved, sizeof saved / sizeof *saved);
		sqlcheck_init(&c, "kor_green");
		assert_int_equal(check(&c, "SET @m = 'NO_BACKSLASH_ESCAPES'"), 0);
		assert_int_equal(check(&c, "SET sql_mode = @m"), -1);
		assert_err_has("sets sql_mode");
		/* Once assigned something else, even @@sql_mode does not clean it. */
		assert_int_equal(check(&c, "SET @m = @@sql_mode"), 0);
		assert_int_equal(check(&c, "SET sql_mode = @M"), -1);
		/* Assigned inside another statement, or in a comment some
		 * server runs. */
		assert_int_equal(check(&c, "INSERT INTO t VALUES (@n := 'ANSI_QUOTES')"), 0);
		assert_int_equal(check(&c, "SET sql_mode = @n"), -1);
		assert_int_equal(check(&c, "SET @o = @@sql_mode /*!99999 , @o = 'ANSI' */"), 0);
		assert_int_equal(check(&c, "SET sql_mode = @o"), -1);
		assert_int_equal(check(&c, "SET /*!50000 @p = 'ANSI',*/ sql_mode = @p"), -1);
		sqlcheck_free(&c);
	}
}

/* Strings, identifiers and comments are told apart as the server does. */
static void test_lexing(void **state)
{
	static const char *const ok[] = {
		"INSERT INTO t VALUES ('a''b; USE x')",
		"INSERT INTO t VALUES ('a\\'; USE x')",
		"INSERT INTO t VALUES (\"a\"\"b mysql.user\")",
		"INSERT INTO `we``ird` VALUES (1)",
		"INSERT INTO t VALUES ('-- x\nUSE y')",
		"INSERT INTO t VALUES (1) -- USE x",
		"INSERT INTO t VALUES (1) # USE x",
		"INSERT INTO t VALUES (1) /* USE x */",
		"INSERT INTO t VALUES (1--1)",
		"INSERT INTO t VALUES (1.5, 1e10, .5, 0x1F, x'1F', _utf8mb4'a', N'b')",
	};
	static const char *const bad[] = {
		"INSERT INTO t VALUES ('a') /*!50000 , (1) */ ; USE x",
		"INSERT INTO t VALUES (1--1\n) ; USE x",
		"/*!50000 /* nested */ USE x */",
		"/*!5000 USE x */",
		"/*!M USE x */",
		"/*M! USE x */",
		"/*!100000 USE x */",
		"/*M!100000 USE x */",
		"/*!50699 USE x */",
		"INSERT INTO t VALUES (1) /*!99999 , (mysql.user) */",
	};

	(void)state;
	all_pass("kor_green", ok, sizeof ok / sizeof *ok);
	each_refused("kor_green", bad, sizeof bad / sizeof *bad);
}

/* What a statement begins with, read every way: the loader runs rows
 * (INSERT only) on several connections, a SET on each of them. */
static void test_first_word(void **state)
{
	static const struct {
		const char *stmt;
		unsigned first;
	} cases[] = {
		{"INSERT INTO `items` VALUES (1,'a'),(2,'b')", SQLCHECK_INSERT},
		{"insert into t values (1)", SQLCHECK_INSERT},
		{"--\n-- Dumping data for table `items`\n--\n\nINSERT INTO `items` VALUES (1)", SQLCHECK_INSERT},
		{"/*!40101 SET NAMES utf8mb4 */", SQLCHECK_SET},
		{"/*M!100616 SET @OLD_NOTE_VERBOSITY=@@NOTE_VERBOSITY, NOTE_VERBOSITY=0 */", SQLCHECK_SET},
		{"LOCK TABLES `items` WRITE", SQLCHECK_LOCK},
		{"/*!40000 ALTER TABLE `items` DISABLE KEYS */", SQLCHECK_OTHER},
		{"UNLOCK TABLES", SQLCHECK_LOCK},
		{"CREATE TABLE t (a int)", SQLCHECK_OTHER},
		/* An INSERT to one server, a SET to another. */
		{"/*!50700 SET @a = 1 */ INSERT INTO t VALUES (1)", SQLCHECK_INSERT | SQLCHECK_SET},
		{"/*!99999 INSERT INTO t VALUES (1) */", SQLCHECK_INSERT},
		{"/* nothing */", 0},
	};
	struct sqlcheck c;

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		sqlcheck_init(&c, "a_blue");
		if (check(&c, cases[i].stmt) != 0)
			fail_msg("\"%s\" refused: %s", cases[i].stmt, last_msg());
		if (c.first != cases[i].first)
			fail_msg("\"%s\": first %u, not %u", cases[i].stmt, c.first, cases[i].first);
		sqlcheck_free(&c);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_dumps),   cmocka_unit_test(test_databases), cmocka_unit_test(test_files_and_kinds),
		cmocka_unit_test(test_sql_mode), cmocka_unit_test(test_lexing), cmocka_unit_test(test_first_word),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
