/*
 * File-system helpers for the lake's local folder: creating folder chains,
 * the fsync that makes a rename durable, and removing a tree.
 */
#ifndef BASE_FSUTIL_H
#define BASE_FSUTIL_H

#include "base/error.h"

/* mkdir -p; each folder it creates is made durable in its parent (an
 * fsync of the parent). Returns 0 or TS_EIO. */
int fs_mkdirs(const char *path, struct ts_err *err);
/* Creates the folders leading to the file path. */
int fs_mkdirs_for(const char *file, struct ts_err *err);
/* fsync of the folder dir itself: what makes the entries made in it
 * durable. */
int fs_sync_dir(const char *dir, struct ts_err *err);
/* fsync of the folder that holds path: what makes a rename to path, or its
 * creation, durable. */
int fs_sync_dir_of(const char *path, struct ts_err *err);
/* rm -rf path (no error when absent); does not follow symbolic links. */
int fs_remove_tree(const char *path, struct ts_err *err);
/* 1 if path exists. */
int fs_exists(const char *path);

#endif
