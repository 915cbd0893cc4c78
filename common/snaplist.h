/* snaplist: the snapshots in a cluster's snapshots/ folder, by their names
 * (NAME.YYYYmmdd_HHMMSS.VERSION.tar.zst or .tar.gz): the name a new one
 * gets, the list, and retention. */
#ifndef KC_SNAPLIST_H
#define KC_SNAPLIST_H

#include <jansson.h>

#include "clustercfg.h"
#include "err.h"
#include "instcfg.h"

/* snapshots/NAME.YYYYmmdd_HHMMSS.VERSION.tar.zst (.tar.gz) for env's
 * version, a name no file has yet; caller frees. */
char *snaplist_default_path(const struct instance *in, const char *env, int gzip);
/* snapshots/FILE; caller frees. */
char *snaplist_path(const struct cluster *cl, const char *file);
/* NAME.YYYYmmdd_HHMMSS.VERSION.tar.(zst|gz): its parts (each of n bytes),
 * or -1 when file is not named so. */
int snaplist_parse_name(const char *file, char *name, char *ts, char *version, size_t n);
/* Newest first: [{file, path, instance, version, created, size}]. */
const struct error *snaplist_list(const struct cluster *cl, json_t **out);
/* Remove all but the newest keep snapshots of instance (NULL: of every
 * instance); *removed counts them.  Only files named as snapshots. */
const struct error *snaplist_prune(const struct cluster *cl, const char *instance, int keep, int *removed);

#endif
