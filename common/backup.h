/* backup: a cluster's copies away from this host (cluster.sh backup).
 *
 * On the target (offsite.h), in a folder of the cluster's name:
 *   NAME/cluster/YYYYmmdd_HHMMSS.tar.kcs   what rebuilding the cluster
 *       needs besides the data: cluster.ini, secrets/ (not the backup key
 *       nor the target's login), each instance's instance.ini and routes,
 *       proxy/tls/, pool/size
 *   NAME/instances/INSTANCE/SNAPSHOT.kcs   a snapshot (snaplist.h's name)
 * Every object is sealed (seal.h) on this host with secrets/backup.key,
 * which the first push makes; its recovery phrase is shown then, once.
 * A push sends, per instance, its newest snapshot when it is younger than
 * [backup] max_age, else takes one online first; one already on the target
 * is not sent again, so a push that stopped part-way goes on where it
 * stopped.  Local state: CLUSTER/backup/ (its lock; temporary files). */
#ifndef KC_BACKUP_H
#define KC_BACKUP_H

#include <jansson.h>

#include "clustercfg.h"
#include "err.h"
#include "strv.h"

/* Send the cluster's configuration and the instances' snapshots (names:
 * those, or every instance when empty) to target to (a URL as [backup]
 * target takes, with the same login files), or cluster.ini's when NULL. */
const struct error *backup_push(const struct cluster *cl, const char *to, const struct strv *names);
/* What the target holds for the cluster: [{object, kind (cluster or
 * snapshot), instance (snapshots)}], oldest first. */
const struct error *backup_list(const struct cluster *cl, json_t **out);
/* Fetch every object and check it whole with the key (nothing is kept);
 * *bad counts the ones that fail, each said as a warning. */
const struct error *backup_verify(const struct cluster *cl, int *ok, int *bad);
/* Fetch snapshot file (NAME.YYYYmmdd_HHMMSS.VERSION.tar.zst) from the
 * target, checked and opened, into snapshots/FILE; *path gets it. */
const struct error *backup_get(const struct cluster *cl, const char *file, char **path);
/* The newest snapshot of instance on the target, checked and opened, into
 * the file to (made whole or not at all), and noted in sent.json as the
 * instance's newest there; *file gets its name. */
const struct error *backup_fetch_newest(const struct cluster *cl, const char *instance, const char *to, char **file);

/* Remove, on the target, all but the newest keep (1 or more) snapshots of
 * each instance (names, or all when empty) and, when no names are given,
 * of the cluster's configuration; *removed counts them. */
const struct error *backup_prune(const struct cluster *cl, int keep, const struct strv *names, int *removed);
/* What the last pushes left on the target, per instance: {INSTANCE:
 * {snapshot, time, age (seconds; -1 unknown)}} (from backup/sent.json, so
 * without asking the target). */
const struct error *backup_ages(const struct cluster *cl, json_t **out);
/* A schedule that runs "backup push" every [backup] max_age (a day unless
 * set): systemd units (systemd_dir: where they go) or else a cron.d line
 * (cron_dir); written there when install.  *out: {kind, file, text,
 * timer_file, timer, installed}. */
const struct error *backup_schedule(const struct cluster *cl, int install, const char *systemd_dir,
				    const char *cron_dir, json_t **out);

/* For restore-cluster (recover.h). */

/* Note in backup/sent.json that the target holds snapshot file of
 * instance, its newest (backup_ages() reads it). */
const struct error *backup_note_sent(const struct cluster *cl, const char *instance, const char *file);

struct buf;
struct offsite;
struct seal_key;

/* The file in the configuration's tar that says what its files do not: {
 * format: 1, cluster, served: [the instances served at the push] }. */
#define BACKUP_MANIFEST "backup.json"
/* The most a file of the configuration's tar may hold. */
#define BACKUP_FILE_MAX (1 << 20)
/* The backup's own login and key in secrets/: never sent. */
extern const char *const backup_own_secrets[];
/* Whether p is a path a push writes into the configuration's tar:
 * cluster.ini, the manifest, pool/size, secrets/NAME but the backup's own,
 * proxy/tls/NAME, instances/INSTANCE/instance.ini and routes; NAME plain
 * ([A-Za-z0-9._-], not starting with "."), nothing else.  A push leaves
 * out (saying so) what fails it; restore-cluster refuses it. */
const struct error *backup_check_file(const char *p);

/* The newest object of folder dir on the target (its path; caller frees),
 * or NULL when dir holds none. */
const struct error *backup_newest(struct offsite *o, const char *dir, char **object);
/* backup_fetch_newest() from target o opened already, with key k. */
const struct error *backup_fetch_newest_from(struct offsite *o, const struct seal_key *k, const struct cluster *cl,
					     const char *instance, const char *to, char **file);
/* Object fetched and opened into out: small ones (64 MiB at most). */
const struct error *backup_fetch_mem(struct offsite *o, const struct seal_key *k, const char *object, struct buf *out);

#endif
