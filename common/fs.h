/* fs: filesystem helpers that keep files whole and secrets private. */
#ifndef KC_FS_H
#define KC_FS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

/* Write len bytes to path atomically: a temporary file in the same folder,
 * fsync, chmod mode, rename over path, fsync of the folder. */
const struct error *fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode);
/* Remove the file path (absent is done), then fsync its folder. */
const struct error *fs_unlink_durable(const char *path);
/* fsync the file tmp, then rename it to path (a file written in place). */
const struct error *fs_sync_rename(const char *tmp, const char *path);
/* Read a whole (small) file; *out is the caller's, NUL-terminated. */
const struct error *fs_read(const char *path, char **out, size_t *len);
/* mkdir -p with mode for the folders it creates. */
const struct error *fs_mkdirs(const char *path, mode_t mode);
/* Point link at target, replacing whatever link was there, atomically. */
const struct error *fs_symlink_atomic(const char *target, const char *link);
int fs_exists(const char *path);
int fs_is_dir(const char *path);
/* 1 if path is a folder holding anything. */
int fs_nonempty_dir(const char *path);
/* A file that holds a secret: an error unless only its owner may read it
 * (mode 0600 or less). */
const struct error *fs_private(const char *path);
/* Whether path is a folder whose entries all have one of names (NULL-ended). */
int fs_only(const char *path, const char *const *names);
/* Remove what path is, a folder tree at any depth too, without following
 * links: it descends and climbs by descriptors, never by paths that could
 * pass PATH_MAX.  Absent is done. */
const struct error *fs_remove_tree(const char *path);
/* Remove what the folder path holds, as fs_remove_tree() does; the folder
 * itself stays (a container's bind mount of it stays good).  Absent is done. */
const struct error *fs_empty_tree(const char *path);
/* Absolute form of path without resolving symlinks; *out is the caller's. */
const struct error *fs_absolute(const char *path, char **out);
/* The running binary, resolved; *out is the caller's. */
const struct error *fs_self_exe(char **out);
/* Bytes free for an unprivileged writer on the file system of path
 * (UINT64_MAX if it cannot be told). */
uint64_t fs_free_space(const char *path);

#endif
