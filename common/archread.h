/* archread: reading a snapshot (the format is in archive.h): checked,
 * and restored.
 *
 * The archive is opened once and only that open file is read, so what is
 * restored is what was checked even if the path is replaced meanwhile.
 * One reader decides alike in every pass what each member is:
 *
 *   korcluster's format (it has manifest.json): exactly the members the
 *   manifest lists, each once, with their type, size, sha256 or link
 *   target; config/instance.ini, db/dump.NNNNNN.sql (the dump, in order),
 *   data/... and nothing else;
 *   KorCluster's (no manifest): one db.sql.gz (the dump), version.txt,
 *   data/..., log/... (left out) and config files (kept aside), all at the
 *   top or in one top folder.
 *
 * The checks refuse the archive for: a member name that is absolute,
 * holds "." or ".." or an empty component, is longer than
 * ARCHIVE_NAME_MAX bytes, has a component longer than 255 bytes or more
 * than ARCHIVE_DEPTH_MAX of them, or is not UTF-8 (nor may a link's
 * target be); a hard link, device or FIFO; a member twice; a symlink that
 * leads out of the folder it is restored into, resolved as the kernel
 * will (vtree.h); a member below a symlink; a statement of the dump that
 * sqlcheck.h refuses or that is longer than the server takes; more
 * unpacked bytes than the limits allow (free space, a fixed maximum, a
 * ratio to the archive's size); a truncated or corrupt stream.
 *
 * korcluster's snapshots are read once, into an environment nothing
 * serves: each member is checked as it comes, before it is written (its
 * sha256 when it ends), the manifest and where the links lead at the end;
 * the dump's statements are checked by the sink, before each runs
 * (dbload.h).  Any other archive is read twice: a first pass checks it
 * whole, writing nothing; the second restores it and compares every
 * member with what the first read.  Either way a failure leaves what was
 * restored for the caller to discard. */
#ifndef KC_ARCHREAD_H
#define KC_ARCHREAD_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct archread;

struct archread_limits {
	uint64_t space;         /* free bytes where it is restored */
	uint64_t unpack_max;    /* most bytes it may unpack to; 0: no limit but space */
	unsigned ratio;         /* most unpacked bytes per archive byte (past ARCHREAD_FLOOR); 0: none */
	size_t max_statement;   /* the longest statement of the dump */
	const char *target_db;  /* the database the dump goes into (sqlcheck.h), or NULL */
};

/* Unpacked bytes every archive may reach whatever its ratio. */
#define ARCHREAD_FLOOR (64ull << 20)

struct archread_info {
	json_t *manifest;       /* owned; NULL for KorCluster's format */
	json_t *members;        /* owned: name -> {type, size, sha256 | target} as the first pass read it */
	int legacy;             /* KorCluster's format */
	char *prefix;           /* legacy: "" or the one top folder, with "/" */
	char *version;          /* the app version it was taken of (not yet checked) */
	char *template;         /* NULL for KorCluster's format */
	char *instance;         /* NULL for KorCluster's format */
	uint64_t data_bytes, dump_bytes, archive_bytes;
	size_t files;
};

struct archread_sink {
	/* The dump's text, in order (decompressed for KorCluster's db.sql.gz). */
	const struct error *(*sql)(void *ctx, const char *data, size_t len);
	void *ctx;
	const char *data_dir;  /* empty folder data/ is restored into */
	const char *extra_dir; /* KorCluster's config files go here; NULL: left out */
};

const struct error *archread_open(struct archread **out, const char *path);
void archread_close(struct archread *r);
/* The first pass: nothing is written anywhere. */
const struct error *archread_verify(struct archread *r, const struct archread_limits *lim, struct archread_info *info);
/* What archread_restore() needs before it starts.  An archive that begins
 * as korcluster writes its snapshots (config/instance.ini first) is read
 * once: only that member now (info gets its version, template and
 * instance, to be checked against the manifest at the end), the rest as
 * it is restored.  Any other is verified whole here (archread_verify()). */
const struct error *archread_inspect(struct archread *r, const struct archread_limits *lim, struct archread_info *info);
/* Files into s->data_dir (never following a link; runs of zeros become
 * holes), the dump to s->sql.  After archread_verify(), the second pass:
 * every member must be what the first read.  After an archread_inspect()
 * that read only the first member, the one pass: every check of the first
 * pass as each member comes (one that fails stops it at that member), the
 * manifest and the links at the end; info is then complete.  On an error,
 * what it restored is the caller's to discard. */
const struct error *archread_restore(struct archread *r, struct archread_info *info, const struct archread_sink *s);
void archread_info_free(struct archread_info *info);

#endif
