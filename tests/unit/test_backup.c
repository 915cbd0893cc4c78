/* Unit tests of what a configuration's backup holds (common/backup.c's
 * backup_check_file): what a push sends and restore-cluster takes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../common/err.h"
#include "check.h"
#include "../../common/backup.h"

/* The paths a push writes. */
static void test_paths_a_push_writes(void **state)
{
	(void)state;
	OK(backup_check_file("cluster.ini"));
	OK(backup_check_file("backup.json"));
	OK(backup_check_file("pool/size"));
	OK(backup_check_file("secrets/db_root_password"));
	OK(backup_check_file("secrets/app_secret-2.txt"));
	OK(backup_check_file("proxy/tls/kor.example.org.crt"));
	OK(backup_check_file("instances/a/instance.ini"));
	OK(backup_check_file("instances/site_2/routes"));
}

/* Anything else, and every way out of the folder, is refused. */
static void test_others_refused(void **state)
{
	(void)state;
	FAILS(backup_check_file(""));
	FAILS(backup_check_file("/etc/passwd"));
	FAILS(backup_check_file("../cluster.ini"));
	FAILS(backup_check_file("./cluster.ini"));
	FAILS(backup_check_file("cluster.sh"));
	FAILS(backup_check_file("secrets/../../etc/cron.d/x"));
	FAILS(backup_check_file("secrets/.."));
	FAILS(backup_check_file("secrets/.hidden"));
	FAILS(backup_check_file("secrets/a/b"));
	FAILS(backup_check_file("secrets/"));
	FAILS(backup_check_file("proxy/tls/../../x"));
	FAILS(backup_check_file("proxy/conf.d/a.conf"));
	FAILS(backup_check_file("instances/a/../../x/instance.ini"));
	FAILS(backup_check_file("instances/../instance.ini"));
	FAILS(backup_check_file("instances/A/instance.ini"));
	FAILS(backup_check_file("instances/a/data/blue/x"));
	FAILS(backup_check_file("instances/a/instance.sh"));
	FAILS(backup_check_file("instances/a/routes/x"));
	FAILS(backup_check_file("pool/size/x"));
	FAILS(backup_check_file("snapshots/a.20260101_000000.v1.tar.zst"));
}

/* The backup's own login and key never come from the target: a tar that
 * holds them is refused (they are the operator's, on the new host). */
static void test_backup_login_refused(void **state)
{
	(void)state;
	FAILS(backup_check_file("secrets/backup.key"));
	FAILS(backup_check_file("secrets/backup_ssh_key"));
	FAILS(backup_check_file("secrets/backup_known_hosts"));
	FAILS(backup_check_file("secrets/backup_s3"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paths_a_push_writes),
		cmocka_unit_test(test_others_refused),
		cmocka_unit_test(test_backup_login_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
