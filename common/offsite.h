/* offsite: the place backups go, away from this host (libcurl).
 *
 * A target is a URL, cluster.ini's [backup] target:
 *   sftp://USER@HOST[:PORT]/PATH   SFTP; the key korcluster logs in with is
 *                                  secrets/backup_ssh_key (mode 0600), and
 *                                  the server's host key must be in
 *                                  secrets/backup_known_hosts (ssh-keyscan's
 *                                  lines): any other server is refused
 *   s3://HOST[:PORT]/BUCKET[/PREFIX]       S3-compatible object storage
 *   s3+http://HOST[:PORT]/BUCKET[/PREFIX]  the same over plain http (a
 *                                  server on this host); the login is
 *                                  secrets/backup_s3 (mode 0600): lines
 *                                  access_key = ..., secret_key = ...,
 *                                  region = ... (default us-east-1); see s3.h
 * [backup] rate_limit bounds every transfer, either way.
 * Paths given here are relative to the target's PATH; folders are made as
 * needed.  An object is written whole or not at all: over SFTP under
 * NAME.part, renamed to NAME once whole; on S3 as one object, or as a
 * multipart upload that the server completes.  Nothing here
 * reads or writes what objects hold: seal.h does. */
#ifndef KC_OFFSITE_H
#define KC_OFFSITE_H

#include <stdint.h>

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
 * put removes it once path is whole on the target.  It holds, over SFTP,
 * the file's size (the .part on the server goes on from its end); on S3,
 * the key, the size and the multipart upload's id (parts the server holds
 * are not sent again). */
const struct error *offsite_put(struct offsite *o, const char *path, int fd, const char *state);
/* The bytes of the file the last put sent (less than its size when it
 * went on from an interrupted one). */
uint64_t offsite_sent(const struct offsite *o);
/* Read path into wr as it comes. */
const struct error *offsite_get(struct offsite *o, const char *path, seal_write_fn wr, void *ctx);
/* The names in folder dir ("" for the top), sorted, without . and ..; a
 * folder that is not there holds none. */
const struct error *offsite_list(struct offsite *o, const char *dir, struct strv *names);
/* Remove path. */
const struct error *offsite_remove(struct offsite *o, const char *path);

#endif
