/* recover: a whole cluster rebuilt from its off-site backups, on a host
 * that has nothing of it (korcluster restore-cluster TARGET DIR).
 *
 * The operator brings the target's URL, its login in DIR/secrets/ as on the
 * old host (backup_ssh_key and backup_known_hosts, or backup_s3), and the
 * backup key (backup.h).  In turn:
 *  1. DIR is checked (new, or holding only those files in secrets/), the
 *     target listed, and the cluster's newest configuration fetched and
 *     opened in memory: a wrong key, a damaged object or a file a push does
 *     not write stops it here, before anything is made;
 *  2. its files are written (only the paths a push sends), with what create
 *     makes besides, cluster.ini last, and the key as secrets/backup.key;
 *  3. the cluster boots;
 *  4. each instance gets its newest off-site snapshot as its archive
 *     (instarchive.h) and is restored as "cluster.sh restore" does it; one
 *     that fails stays archived with that snapshot, for "cluster.sh restore
 *     NAME" to take up again, and the others go on;
 *  5. the instances the push saw served are served again.
 * An instance archived at the push had no snapshot sent: it is not made. */
#ifndef KC_RECOVER_H
#define KC_RECOVER_H

#include "err.h"
#include "seal.h"

/* url: the target as in cluster.ini's [backup] target; dir: where the
 * cluster goes; name: which of the target's clusters (NULL: its only one);
 * key: the backup key, or NULL to read DIR/secrets/backup.key. */
const struct error *recover_cluster(const char *url, const char *dir, const char *name, const struct seal_key *key);


#endif
