#include "envcopy.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "clock.h"
#include "dbload.h"
#include "fs.h"
#include "mysqlsvc.h"
#include "report.h"
#include "searchidx.h"
#include "treecopy.h"

static const struct error *load_frame(void *ctx, int stream, const char *data, size_t len)
{
	(void)stream;
	return dbload_feed(ctx, data, len);
}

const struct error *envcopy_run(struct engine *e, struct instance *in, const char *from, const char *to)
{
	const struct error *err;
	struct db_server srv = {0};
	struct dbload *l = NULL;
	struct dbload_limits lim;
	char *src = instance_database(in, from), *dst = instance_database(in, to);
	char *sdir = instance_data_dir(in, from), *ddir = instance_data_dir(in, to);
	char *srcdb = mysqlsvc_db_dir(&in->cl, src), *dbdir = NULL;
	double t0 = clock_seconds();
	int sfd = -1, dfd = -1;

	/* The database: one consistent transaction, streamed into the copy,
	 * which may grow to load_growth times the source's size. */
	mysqlsvc_load_limits(&in->cl, dst, srcdb ? dbload_dir_bytes(srcdb) : 0, &dbdir, &lim);
	if ((err = searchidx_drop(e, in, to)) || (err = mysqlsvc_server(e, &in->cl, &srv)) || (err = dbload_open(&l, &srv, dst, &lim)) ||
	    (err = mysqlsvc_dump(e, &in->cl, src, NULL, load_frame, l)) || (err = dbload_finish(l)))
		goto out;
	report_line("copied database %s to %s (%zu statements) in %.1f s", src, dst, dbload_statements(l),
		    clock_seconds() - t0);
	/* The files: real copies (reflinks where the file system has them), so
	 * that whatever the new environment does to them, these stay. */
	t0 = clock_seconds();
	/* Emptied, not replaced: the new environment's containers may be
	 * started already (runtime_prepare()), its folder mounted. */
	if ((err = fs_empty_tree(ddir)) || (err = fs_mkdirs(sdir, 0755)) || (err = fs_mkdirs(ddir, 0755)))
		goto out;
	if ((sfd = open(sdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    (dfd = open(ddir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		err = error_errno("opening the data folders");
		goto out;
	}
	err = treecopy_copy(sfd, dfd, sdir);
	sfd = -1;
	if (!err)
		report_line("copied files of %s to %s in %.1f s", from, to, clock_seconds() - t0);
out:
	dbload_close(l);
	db_server_free(&srv);
	if (sfd >= 0)
		close(sfd);
	if (dfd >= 0)
		close(dfd);
	free(src);
	free(dst);
	free(sdir);
	free(ddir);
	free(srcdb);
	free(dbdir);
	return error_wrap(err, "copying environment %s to %s", from, to);
}
