/* clustermake: a new cluster's folder.
 *
 *   DIR/cluster.ini   written last: its presence makes the folder a cluster
 *   DIR/cluster.sh    link to the korcluster binary
 *   DIR/secrets/      mode 0700; a root password (getrandom(2)) per MySQL
 *                     service, mode 0600
 *   DIR/services/SERVICE/, DIR/instances/, DIR/snapshots/
 *
 * Every input is checked before the disk is touched; a folder that holds
 * a cluster or an instance, or anything at all, is refused; a name in use
 * on this engine is refused.  On failure what was made goes again. */
#ifndef KC_CLUSTERMAKE_H
#define KC_CLUSTERMAKE_H

#include "err.h"
#include "template.h"

/* dir as given; name NULL: 6 random characters.  *root gets the cluster's
 * absolute folder, *made_name its name (both the caller's). */
const struct error *clustermake_create(const char *dir, const char *name, const char *template_name, const char *bind,
				       char **root, char **made_name);

/* Checks create makes, for restore-cluster (recover.h) too.  The folder
 * dir (absolute): new or empty; secrets (or NULL) names the files it may
 * nonetheless hold in secrets/, and nothing else. */
const struct error *clustermake_check_folder(const char *dir, const char *const *secrets);
/* A cluster name in use on this engine is refused (no engine: no objection). */
const struct error *clustermake_check_name(const char *name);
/* What a cluster's folder holds besides its configuration: instances/,
 * snapshots/, services/SERVICE/ for t's services, secrets/ (mode 0700)
 * with a root password per MySQL service unless one is there, the link
 * cluster.sh; then cluster.ini with the text ini, last. */
const struct error *clustermake_fill(const char *dir, const struct template *t, const char *ini);

#endif
