/* offsite: the place backups go, away from this host (libcurl).
 *
 * A target is a URL, cluster.ini's [backup] target:
 *   sftp://USER@HOST[:PORT]/PATH   SFTP; the key korcluster logs in with is
 *                                  secrets/backup_ssh_key (mode 0600), and
 *                                  the server's host key must be in
 *                                  secrets/backup_known_hosts (ssh-keyscan's
 *                                  lines): any other server is refused
 * Paths given here are relative to the target's PATH; folders are made as
 * needed.  An object is written under NAME.part and renamed to NAME once
 * whole, so a name on the target is always a whole object.  Nothing here
 * reads or writes what objects hold: seal.h does. */
#ifndef KC_OFFSITE_H
#define KC_OFFSITE_H

#include "clustercfg.h"
#include "err.h"
#include "seal.h"
#include "strv.h"

struct offsite;

/* Open cl's target (its [backup] target, or url when not NULL). */
const struct error *offsite_open(const struct cluster *cl, const char *url, struct offsite **out);
void offsite_close(struct offsite *o);
/* The target's URL without its user, for messages. */
const char *offsite_where(const struct offsite *o);
/* Write the file open at fd (from its start) as path.  state: a local file
 * (or NULL) where an interrupted put keeps what the next one needs to go on
 * where it stopped, when the caller sends the identical bytes again; the
 * put removes it once path is whole on the target. */
const struct error *offsite_put(struct offsite *o, const char *path, int fd, const char *state);
/* Read path into wr as it comes. */
const struct error *offsite_get(struct offsite *o, const char *path, seal_write_fn wr, void *ctx);
/* The names in folder dir ("" for the top), sorted, without . and ..; a
 * folder that is not there holds none. */
const struct error *offsite_list(struct offsite *o, const char *dir, struct strv *names);
/* Remove path. */
const struct error *offsite_remove(struct offsite *o, const char *path);

#endif
