/* mysqlsvc: the cluster's MySQL service, as instances use it: where it
 * answers and a root login, a database dumped (mariadb-dump or mysqldump
 * of the service's image, in a short-lived container on the cluster
 * network), the folder on this host holding a database's files, and the
 * repair of an instance's grant made before names were escaped. */
#ifndef KC_MYSQLSVC_H
#define KC_MYSQLSVC_H

#include "clustercfg.h"
#include "db.h"
#include "dbload.h"
#include "engine.h"
#include "err.h"
#include "frame.h"
#include "instcfg.h"

/* Where the cluster's MySQL service answers, and its root password; fails
 * when the cluster is not booted. */
const struct error *mysqlsvc_server(struct engine *e, const struct cluster *cl, struct db_server *out);
/* Log in to it as root. */
const struct error *mysqlsvc_connect(struct engine *e, const struct cluster *cl, struct db **db);
/* Dump database dbname (mysqldump text, one consistent transaction);
 * ready(ctx) (may be NULL) is called just before it starts, then the text
 * goes to fn as it comes.  The tool runs in the service's container
 * (the engine's exec: no container to make), taking the root password from
 * the file the container has, and writes into a FIFO (mode 0600) in the
 * service's data folder, services/NAME/.korcluster-dump-RND: the engine's
 * output relay would take longer than the dump itself (1.4 s against 6.9 s
 * for 210 MiB). */
const struct error *mysqlsvc_dump(struct engine *e, const struct cluster *cl, const char *dbname,
				  const struct error *(*ready)(void *ctx), frame_fn fn, void *ctx);
/* Remove the FIFOs dumps of dbname left when their command was killed. */
const struct error *mysqlsvc_dump_clear(const struct cluster *cl, const char *dbname, int *did);
/* The folder on this host holding database dbname's files (the service's
 * data is bind-mounted), or NULL when it is not; caller frees. */
char *mysqlsvc_db_dir(const struct cluster *cl, const char *dbname);
/* Rows of a load run on this many connections at once: on two cores the
 * second gains about 8 % on a dump alone, a third nothing (the server's
 * inserts into one table wait on each other). */
#define MYSQLSVC_LOAD_CONNECTIONS 2
/* The bounds of a load into dbname from a dump that makes about base
 * bytes: the cluster's [limits], the size checked on the database's
 * folder when the service's data is on this host.  *dir (which lim points
 * at) is the caller's to free. */
void mysqlsvc_load_limits(const struct cluster *cl, const char *dbname, uint64_t base, char **dir,
			  struct dbload_limits *lim);
/* An instance made before database names were escaped in grants, whose
 * name holds "_", had a grant matching other instances' databases: it is
 * narrowed to its own (db_instance_fix_grants()). */
const struct error *mysqlsvc_fix_grants(struct engine *e, const struct instance *in, int *fixed);

/* How many tables database dbname holds (0 if it does not exist). */
const struct error *mysqlsvc_tables(struct engine *e, const struct cluster *cl, const char *dbname, long *n);

#endif
