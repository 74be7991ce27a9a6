/*
 * The local-folder backend of the store (see store.h): each key is a file
 * under the root folder, its '/' segments sub-folders created on demand.
 * A put writes ".topsongs-tmp-*" in the target folder, fsyncs it, renames it
 * over the key and fsyncs the folder, so a crash leaves the old file or the
 * new one (and at worst a temporary file, which listings skip).
 */
#ifndef STORE_STORE_LOCAL_H
#define STORE_STORE_LOCAL_H

#include <stddef.h>

#include "base/error.h"
#include "store/store.h"

#define STORE_LOCAL_TMP_PREFIX ".topsongs-tmp-"

extern const struct store_ops store_local_ops;

/* Makes dir absolute, creates it when missing and writes that absolute path
 * into desc. Errors: TS_EINVAL (too long), TS_EIO ("cannot create folder
 * DIR: reason"), TS_ENOMEM. */
int store_local_open(const char *dir, void **ctx, char *desc, size_t desc_size, struct ts_err *err);

/* mkdir -p; returns 0 or an errno value. */
int store_local_mkdirs(const char *path);

#endif
