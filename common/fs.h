/* fs: filesystem helpers that keep files whole and secrets private. */
#ifndef KC_FS_H
#define KC_FS_H

#include <stddef.h>
#include <sys/types.h>

/* Write len bytes to path atomically: a temporary file in the same folder,
 * fsync, chmod mode, rename over path, fsync of the folder. */
int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode);
/* Read a whole (small) file; *out is owned by the caller, NUL-terminated. */
int fs_read(const char *path, char **out, size_t *len);
/* mkdir -p with mode for the folders it creates. */
int fs_mkdirs(const char *path, mode_t mode);
/* Point link at target, replacing whatever link was there, atomically. */
int fs_symlink_atomic(const char *target, const char *link);
int fs_exists(const char *path);
int fs_is_dir(const char *path);
/* Remove a folder tree without following symlinks. */
int fs_remove_tree(const char *path);
/* Absolute form of path without resolving symlinks (caller frees). */
char *fs_absolute(const char *path);
/* A formatted path, or NULL with err set; caller frees. */
char *fs_pathf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* 1 if path is a folder holding anything. */
int fs_nonempty_dir(const char *path);
/* Folder of the running binary, resolved (caller frees). */
char *fs_self_exe(void);

#endif
