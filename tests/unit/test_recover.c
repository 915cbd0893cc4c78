/* Unit tests for common/recover.c: what restore-cluster takes from a
 * configuration's tar. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../common/err.h"
#include "check.h"
#include "../../common/recover.h"

/* The paths a push writes. */
static void test_paths_a_push_writes(void **state)
{
	(void)state;
	OK(recover_check_path("cluster.ini"));
	OK(recover_check_path("backup.json"));
	OK(recover_check_path("pool/size"));
	OK(recover_check_path("secrets/db_root_password"));
	OK(recover_check_path("secrets/app_secret-2.txt"));
	OK(recover_check_path("proxy/tls/kor.example.org.crt"));
	OK(recover_check_path("instances/a/instance.ini"));
	OK(recover_check_path("instances/site_2/routes"));
}

/* Anything else, and every way out of the folder, is refused. */
static void test_others_refused(void **state)
{
	(void)state;
	FAILS(recover_check_path(""));
	FAILS(recover_check_path("/etc/passwd"));
	FAILS(recover_check_path("../cluster.ini"));
	FAILS(recover_check_path("./cluster.ini"));
	FAILS(recover_check_path("cluster.sh"));
	FAILS(recover_check_path("secrets/../../etc/cron.d/x"));
	FAILS(recover_check_path("secrets/.."));
	FAILS(recover_check_path("secrets/.hidden"));
	FAILS(recover_check_path("secrets/a/b"));
	FAILS(recover_check_path("secrets/"));
	FAILS(recover_check_path("proxy/tls/../../x"));
	FAILS(recover_check_path("proxy/conf.d/a.conf"));
	FAILS(recover_check_path("instances/a/../../x/instance.ini"));
	FAILS(recover_check_path("instances/../instance.ini"));
	FAILS(recover_check_path("instances/A/instance.ini"));
	FAILS(recover_check_path("instances/a/data/blue/x"));
	FAILS(recover_check_path("instances/a/instance.sh"));
	FAILS(recover_check_path("instances/a/routes/x"));
	FAILS(recover_check_path("pool/size/x"));
	FAILS(recover_check_path("snapshots/a.20260101_000000.v1.tar.zst"));
}

/* The backup's own login and key never come from the target: a tar that
 * holds them is refused (they are the operator's, on the new host). */
static void test_backup_login_refused(void **state)
{
	(void)state;
	FAILS(recover_check_path("secrets/backup.key"));
	FAILS(recover_check_path("secrets/backup_ssh_key"));
	FAILS(recover_check_path("secrets/backup_known_hosts"));
	FAILS(recover_check_path("secrets/backup_s3"));
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
