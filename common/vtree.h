/* vtree: the tree an archive's members will make once restored, judged
 * before anything is written.
 *
 * Members are added by their path below the folder they will be restored
 * into (data/ENV, or the folder KorCluster's config files go to).  Then
 * vtree_check() refuses the tree unless:
 *  - every symlink, resolved the way the kernel will resolve it once the
 *    whole tree is there (from the folder it lives in, following the
 *    tree's own links, at most VTREE_HOPS of them), stays inside the tree;
 *  - no member lies below a symlink or below a file (the restore never
 *    follows a link, and a file is no folder).
 * Pure: no I/O, unit tested. */
#ifndef KC_VTREE_H
#define KC_VTREE_H

#include <jansson.h>

#include "err.h"

#define VTREE_HOPS 40

struct vtree {
	json_t *nodes; /* path -> {"t": "f" | "d" | "l", "to": target} */
	const char *what; /* the tree's name in messages, e.g. "data/" */
};

void vtree_init(struct vtree *t, const char *what);
/* type: 'f' file, 'd' folder, 'l' symlink (target not NULL).  path and
 * target are UTF-8 (archread.h refuses other names first). */
void vtree_add(struct vtree *t, const char *path, char type, const char *target);
const struct error *vtree_check(const struct vtree *t);
void vtree_free(struct vtree *t);

#endif
