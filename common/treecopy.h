/* treecopy: a copy of a folder tree, for a snapshot's work tree (hard
 * links: the files as they are at that moment, cheaply) or a new
 * environment's files (real copies: reflinks where the file system has
 * them, so that whatever the new environment does to them, the old files
 * stay).  Links are copied as links, never followed; owners, modes and
 * times are kept. */
#ifndef KC_TREECOPY_H
#define KC_TREECOPY_H

#include "err.h"

/* Every entry of the folder open as sfd into the one open as dfd: files
 * hard-linked (copied where linking is not possible).  sfd is closed;
 * where names sfd in messages. */
const struct error *treecopy_link(int sfd, int dfd, const char *where);
/* The same with real copies of the files. */
const struct error *treecopy_copy(int sfd, int dfd, const char *where);

#endif
