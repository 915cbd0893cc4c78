/* adopt: a cluster made by KorCluster's cluster.sh turned, in place, into a
 * korcluster cluster.
 *
 * What KorCluster left (its cluster.sh, templates/config.sh and
 * service_config.sh are the reference):
 *   DIR/config.sh        CLUSTER_NAME, CLUSTER_ROOT, DB_USERNAME (root), DB_PASSWORD
 *   DIR/mysql/           the MySQL server's data (container NAME_mysql, -v DIR/mysql:/var/lib/mysql)
 *   DIR/elastic/ mongo/ nginx/ ssmtp/ mysql.cnf cluster.sh (a link to KorCluster's script)
 *   DIR/instances/I/config.sh   NAME, VERSION, PORT, DB_NAME (kor_I), DB_USERNAME (kor_I), DB_PASSWORD
 *   DIR/instances/I/data/ log/ version.txt database.yml kor.yml kor.app.yml instance.sh ...
 *   DIR/snapshots/I.YYYYmmdd_HHMMSS.VERSION.tar.gz
 *   containers NAME_mysql, NAME_elastic, NAME_mongo, NAME_nginx, and per
 *   instance NAME_instance_I (-p PORT:8000) and NAME_bg_I
 *
 * What it becomes: cluster.ini (template kor-legacy, the name in lower case,
 * the images the old containers run), secrets/mysql_root_password (the old
 * root password), services/mysql a link to mysql/ (the data stays where it
 * is), instances/I/instance.ini keeping I's port, version, database, user
 * and password, I's files moved (renamed) from data/ to data/blue/, the
 * cluster.sh and instance.sh links pointing at korcluster.  Everything else
 * stays as it was.
 *
 * Nothing is read that cannot be understood: an instance name, version,
 * port or password korcluster cannot take, or an old cluster whose MySQL
 * container is gone (its image tells which server wrote mysql/), refuses
 * the whole adoption before anything changes.  The old containers are
 * stopped and kept (renamed) until the new cluster serves every instance
 * that was running; on any failure what was written goes again, the files
 * move back and the old containers start again. */
#ifndef KC_ADOPT_H
#define KC_ADOPT_H

#include "buf.h"
#include "engine.h"
#include "err.h"
#include "strv.h"

struct adopt_plan;

/* Read DIR and the old cluster's containers; template: the template the
 * cluster gets ("kor-legacy"). */
const struct error *adopt_read(struct engine *e, const char *dir, const char *template_name, struct adopt_plan **out);
/* What adopt_run() will do, in lines for the operator. */
void adopt_describe(const struct adopt_plan *p, struct buf *out);
/* Do it. */
const struct error *adopt_run(struct engine *e, struct adopt_plan *p);
/* The cluster's folder (absolute) and name after it. */
const char *adopt_root(const struct adopt_plan *p);
const char *adopt_name(const struct adopt_plan *p);
void adopt_free(struct adopt_plan *p);

/* KEY=VALUE lines of a shell file as KorCluster wrote them ("export" and
 * quotes allowed, nothing expanded) into vars ("KEY=VALUE"). */
void adopt_shell_vars(const char *text, struct strv *vars);

#endif
