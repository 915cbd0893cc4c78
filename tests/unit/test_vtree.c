/* Unit tests for common/vtree.c: symlinks judged as the kernel will
 * resolve them in the restored tree. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "../../common/err.h"
#include "../../common/vtree.h"
#include "check.h"

static void assert_err_has(const char *needle)
{
	if (!strstr(last_msg(), needle))
		fail_msg("error \"%s\" lacks \"%s\"", last_msg(), needle);
}

/* A tree of "path" (folder if it ends in "/"), "path=>target" (link) or
 * "path" (file); 0 if vtree_check() passes it. */
static int judge(const char *const *members)
{
	struct vtree t;
	int rc;

	vtree_init(&t, "data/");
	for (; *members; members++) {
		const char *arrow = strstr(*members, "=>");
		char path[256];
		size_t n = arrow ? (size_t)(arrow - *members) : strlen(*members);

		memcpy(path, *members, n);
		path[n] = '\0';
		if (arrow) {
			vtree_add(&t, path, 'l', arrow + 2);
		} else if (n && path[n - 1] == '/') {
			path[n - 1] = '\0';
			vtree_add(&t, path, 'd', NULL);
		} else {
			vtree_add(&t, path, 'f', NULL);
		}
	}
	rc = (check_err = vtree_check(&t)) ? -1 : 0;
	vtree_free(&t);
	return rc;
}

static void test_inside(void **state)
{
	static const char *const a[] = {"items/", "items/1.txt", "latest=>items/1.txt", NULL};
	static const char *const b[] = {"items/", "items/a=>../b", "b", NULL};
	static const char *const c[] = {"items/", "items/a=>./x/../y", NULL};
	static const char *const d[] = {"a/", "a/b/", "a/b/up=>../..", "x=>a/b/up/items", NULL};
	static const char *const e[] = {"self=>.", NULL};
	static const char *const f[] = {"dangling=>nowhere/at/all", NULL};

	(void)state;
	assert_int_equal(judge(a), 0);
	assert_int_equal(judge(b), 0);
	assert_int_equal(judge(c), 0);
	assert_int_equal(judge(d), 0);
	assert_int_equal(judge(e), 0);
	assert_int_equal(judge(f), 0);
}

static void test_out(void **state)
{
	/* Judged from data/, where it is restored, not from the archive's
	 * root: this reaches the other environment. */
	static const char *const a[] = {"x=>../blue", NULL};
	/* KorCluster's layout with a top folder: top/data/ini is data/ini. */
	static const char *const b[] = {"ini=>../../instance.ini", NULL};
	/* Chains: each link stays inside alone, together they leave. */
	static const char *const c[] = {"a/", "a/b/", "a/b/up=>../..", "x=>a/b/up/../../../../secrets/db_root_password",
					NULL};
	static const char *const d[] = {"a/", "a/b/", "a/b/up=>../..", "x=>a/b/up/../y", NULL};
	static const char *const e[] = {"top=>.", "x=>top/../z", NULL};
	static const char *const f[] = {"l1=>l2", "l2=>l3", "l3=>..", "x=>l1/y", NULL};
	static const char *const g[] = {"abs=>/etc/passwd", NULL};
	static const char *const h[] = {"loop=>loop", NULL};
	static const char *const i[] = {"a=>b", "b=>a", "x=>a/z", NULL};
	/* The order of the members makes no difference: the whole tree. */
	static const char *const j[] = {"x=>q/..", "q=>..", NULL};

	(void)state;
	assert_int_equal(judge(a), -1);
	assert_err_has("symlink \"data/x\" points out of data/ (\"../blue\")");
	assert_int_equal(judge(b), -1);
	assert_int_equal(judge(c), -1);
	assert_int_equal(judge(d), -1);
	assert_int_equal(judge(e), -1);
	assert_int_equal(judge(f), -1);
	assert_int_equal(judge(g), -1);
	assert_err_has("absolute path");
	assert_int_equal(judge(h), -1);
	assert_err_has("more than 40 links");
	assert_int_equal(judge(i), -1);
	assert_int_equal(judge(j), -1);
}

static void test_below(void **state)
{
	static const char *const a[] = {"dir=>elsewhere", "dir/file", NULL};
	static const char *const b[] = {"file", "file/inner", NULL};

	(void)state;
	assert_int_equal(judge(a), -1);
	assert_err_has("\"data/dir/file\" lies below the symlink \"data/dir\"");
	assert_int_equal(judge(b), -1);
	assert_err_has("lies below the file");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inside),
		cmocka_unit_test(test_out),
		cmocka_unit_test(test_below),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
