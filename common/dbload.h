/* dbload: a dump loaded into one database of the cluster's MySQL server.
 *
 * The database is emptied, then the dump (mysqldump text, fed in pieces of
 * any size) is split into statements (sqlsplit.h), each checked
 * (sqlcheck.h) and run as a temporary MySQL user made for the load and
 * granted on that database only: whatever the dump holds, it reaches no
 * other database, no file and no setting of the server.  The statements
 * are split and checked in a thread of the load's own, so that the
 * caller goes on (unpacking files) while the server works: a piece fed
 * waits in a queue (8 MiB at most), and an error shows at the next feed
 * or at the finish.  Rows (INSERTs) run on several connections at once
 * (lim->connections), each committing every DBLOAD_COMMIT bytes; any
 * other statement waits until the rows before it are in and committed,
 * then runs on the first connection, or on every one if it is a SET;
 * LOCK and UNLOCK TABLES are left out when there are several.
 *
 * A watchdog bounds the load: when it takes longer than its time limit,
 * or the database's folder on this host grows past its size limit, the
 * load's connections are killed and the load fails saying which.  The
 * loading user is dropped when the load is closed; one left by a killed
 * korcluster is named kcload_* (the instance's cleanup drops it). */
#ifndef KC_DBLOAD_H
#define KC_DBLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "err.h"

#define DBLOAD_COMMIT (64u << 20)
#define DBLOAD_USER_PREFIX "kcload_"
/* A load may always grow its database this far, whatever its dump. */
#define DBLOAD_FLOOR (64ull << 20)
#define DBLOAD_CONNECTIONS_MAX 8

struct dbload_limits {
	int timeout;          /* seconds the whole load may take; 0: no limit */
	uint64_t max_bytes;   /* the most the database's folder may hold; 0: no limit */
	unsigned growth;      /* and growth times the dump's bytes fed so far */
	const char *dir;      /* that folder on this host, or NULL (no size limit) */
	size_t max_statement; /* the longest statement; 0: the server's max_allowed_packet */
	int connections;      /* rows run on this many connections at once (at most
				 DBLOAD_CONNECTIONS_MAX); 0: one */
};

struct dbload;

/* Empty database dbname on srv and log in to it as a user of its own. */
const struct error *dbload_open(struct dbload **out, const struct db_server *srv, const char *dbname,
		const struct dbload_limits *lim);
/* The next piece of the dump (copied). */
const struct error *dbload_feed(struct dbload *l, const char *data, size_t len);
/* The end of the dump: its last statement, the last rows committed. */
const struct error *dbload_finish(struct dbload *l);
size_t dbload_statements(const struct dbload *l);
/* When the load failed because sqlcheck.h refused a statement: that
 * refusal, saying where the statement is; else NULL. */
const struct error *dbload_refusal(struct dbload *l);
/* Stop the watchdog, drop the loading user; l may be NULL. */
void dbload_close(struct dbload *l);

/* Bytes the files of folder dir take on disk (not below it); 0 if none. */
uint64_t dbload_dir_bytes(const char *dir);

#endif
