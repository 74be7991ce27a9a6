/*
 * The local-folder store backend; see store_local.h. Paths are built as
 * root + "/" + key; store.c has already refused keys with "..", empty or
 * over-long segments, so a key cannot leave the root.
 */
#include "base/common.h"
#include "store/store_local.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <unistd.h>

#define PATH_MAX_       4096
#define READ_CHUNK      65536
#define DIR_MAX_ENTRIES (1u << 20)

struct local {
	char root[PATH_MAX_];
};

int store_local_mkdirs(const char *path)
{
	char buf[PATH_MAX_];
	struct stat st;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return ENAMETOOLONG;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) && errno != EEXIST)
			return errno;
		*p = '/';
	}
	if (mkdir(buf, 0755) && errno != EEXIST)
		return errno;
	if (stat(buf, &st))
		return errno;
	return S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
}

static int absolute(const char *path, char *out, size_t size)
{
	char cwd[PATH_MAX_];
	size_t n;

	if (path[0] == '/' || !getcwd(cwd, sizeof(cwd)))
		n = (size_t)snprintf(out, size, "%s", path);
	else
		n = (size_t)snprintf(out, size, "%s/%s", cwd, path);
	if (n >= size)
		return TS_EINVAL;
	while (n > 1 && out[n - 1] == '/')
		out[--n] = '\0';
	return 0;
}

int store_local_open(const char *dir, void **ctx, char *desc, size_t desc_size, struct ts_err *err)
{
	struct local *l;
	int rc;

	*ctx = NULL;
	l = calloc(1, sizeof(*l));
	if (!l)
		return ts_err_set(err, TS_ENOMEM, "out of memory");
	if (absolute(dir, l->root, sizeof(l->root) - STORE_KEY_MAX - 64)) {
		free(l);
		return ts_err_set(err, TS_EINVAL, "the lake folder name is too long");
	}
	snprintf(desc, desc_size, "%s", l->root);
	rc = store_local_mkdirs(l->root);
	if (rc) {
		ts_err_set(err, TS_EIO, "cannot create folder %s: %s", l->root, strerror(rc));
		free(l);
		return TS_EIO;
	}
	*ctx = l;
	return 0;
}

static void local_free(void *ctx)
{
	free(ctx);
}

/* Splits root/key into its folder and file name (both in caller buffers). */
static void key_path(const struct local *l, const char *key, char *path, size_t size, char *dir,
                     size_t dsize)
{
	const char *slash = strrchr(key, '/');

	snprintf(path, size, "%s/%s", l->root, key);
	if (slash)
		snprintf(dir, dsize, "%s/%.*s", l->root, (int)(slash - key), key);
	else
		snprintf(dir, dsize, "%s", l->root);
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? errno : EIO;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

static int sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return errno;
	if (fsync(fd) && errno != EINVAL)
		rc = errno;
	close(fd);
	return rc;
}

/* Writes and fsyncs tmp; returns 0 or an errno value. */
static int write_tmp(const char *tmp, const void *data, size_t len)
{
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	int rc;

	if (fd < 0)
		return errno;
	rc = write_all(fd, data, len);
	if (!rc && fsync(fd))
		rc = errno;
	if (close(fd) && !rc)
		rc = errno;
	return rc;
}

static int local_put(void *ctx, const char *key, const void *data, size_t len, struct ts_err *err)
{
	static atomic_uint seq;
	struct local *l = ctx;
	char path[PATH_MAX_], dir[PATH_MAX_], tmp[PATH_MAX_ + 64];
	int rc;

	key_path(l, key, path, sizeof(path), dir, sizeof(dir));
	rc = store_local_mkdirs(dir);
	if (rc)
		return ts_err_set(err, TS_EIO, "cannot create folder %s: %s", dir, strerror(rc));
	snprintf(tmp, sizeof(tmp), "%s/" STORE_LOCAL_TMP_PREFIX "%ld-%u", dir, (long)getpid(),
	         atomic_fetch_add(&seq, 1));
	rc = write_tmp(tmp, data, len);
	if (!rc && rename(tmp, path))
		rc = errno;
	if (!rc)
		rc = sync_dir(dir);
	if (rc) {
		unlink(tmp);
		return ts_err_set(err, TS_EIO, "cannot write a file in %s: %s", dir, strerror(rc));
	}
	return 0;
}

/* A rename, made durable: the target folder is created and both folders
 * are synced. */
static int local_move(void *ctx, const char *from, const char *to, struct ts_err *err)
{
	struct local *l = ctx;
	char src[PATH_MAX_], sdir[PATH_MAX_], dst[PATH_MAX_], ddir[PATH_MAX_];
	int rc;

	key_path(l, from, src, sizeof(src), sdir, sizeof(sdir));
	key_path(l, to, dst, sizeof(dst), ddir, sizeof(ddir));
	if (access(src, F_OK))
		return ts_err_set(err, TS_ENOTFOUND, "%s: no such file", src);
	rc = store_local_mkdirs(ddir);
	if (!rc && rename(src, dst))
		rc = errno;
	if (!rc)
		rc = sync_dir(ddir);
	if (!rc && strcmp(sdir, ddir))
		rc = sync_dir(sdir);
	if (rc == ENOENT)
		return ts_err_set(err, TS_ENOTFOUND, "%s: no such file", src);
	return rc ? ts_err_set(err, TS_EIO, "cannot move %s to %s: %s", src, dst, strerror(rc)) : 0;
}

/* Reads fd to its end into out, failing past max. */
static int read_all(int fd, size_t max, struct dbuf *out, const char *path, struct ts_err *err)
{
	char buf[READ_CHUNK];
	size_t total = 0;
	int rc;

	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return ts_err_set(err, TS_EIO, "cannot read %s: %s", path, strerror(errno));
		if (!n)
			return 0;
		total += (size_t)n;
		if (total > max)
			return ts_err_set(err, TS_ETOOBIG, "%s is larger than %zu bytes", path,
			                  max);
		rc = dbuf_add(out, buf, (size_t)n);
		if (rc)
			return ts_err_set(err, rc, "%s: %s", path,
			                  rc == TS_ETOOBIG ? "larger than the buffer allows"
			                                   : "out of memory");
	}
}

/* Opens key's file for reading into *fd, its size into *size; an absent
 * key or a folder is TS_ENOTFOUND. */
static int open_object(const struct local *l, const char *key, char *path, size_t path_size,
                       int *fd, uint64_t *size, struct ts_err *err)
{
	char dir[PATH_MAX_];
	struct stat st;
	int rc = 0;

	key_path(l, key, path, path_size, dir, sizeof(dir));
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0 && (errno == ENOENT || errno == ENOTDIR))
		return ts_err_set(err, TS_ENOTFOUND, "%s: no such object in %s", key, l->root);
	if (*fd < 0)
		return ts_err_set(err, TS_EIO, "cannot open %s: %s", path, strerror(errno));
	if (fstat(*fd, &st))
		rc = ts_err_set(err, TS_EIO, "cannot stat %s: %s", path, strerror(errno));
	else if (S_ISDIR(st.st_mode))
		rc = ts_err_set(err, TS_ENOTFOUND, "%s: no such object in %s (a folder)", key,
		                l->root);
	else if (!S_ISREG(st.st_mode))
		rc = ts_err_set(err, TS_EIO, "%s: not a regular file", path);
	if (rc) {
		close(*fd);
		*fd = -1;
		return rc;
	}
	*size = (uint64_t)st.st_size;
	return 0;
}

static int local_get(void *ctx, const char *key, size_t max_size, struct dbuf *out,
                     struct ts_err *err)
{
	char path[PATH_MAX_];
	uint64_t size;
	int fd, rc = open_object(ctx, key, path, sizeof(path), &fd, &size, err);

	if (rc)
		return rc;
	if (size > max_size) {
		rc = ts_err_set(err, TS_ETOOBIG, "%s has %llu bytes, more than the %zu allowed",
		                path, (unsigned long long)size, max_size);
	} else {
		dbuf_reset(out);
		rc = read_all(fd, max_size, out, path, err);
	}
	close(fd);
	return rc;
}

/* len bytes of fd at off into dst; a file that ends sooner is an error. */
static int pread_all(int fd, void *dst, size_t len, uint64_t off, const char *path,
                     struct ts_err *err)
{
	size_t done = 0;

	while (done < len) {
		ssize_t k = pread(fd, (char *)dst + done, len - done, (off_t)(off + done));

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return ts_err_set(err, TS_EIO, "cannot read %s: %s", path,
			                  k ? strerror(errno) : "it shrank");
		done += (size_t)k;
	}
	return 0;
}

static int local_get_tail(void *ctx, const char *key, size_t n, struct dbuf *out, uint64_t *size,
                          struct ts_err *err)
{
	char path[PATH_MAX_];
	size_t want;
	int fd, rc = open_object(ctx, key, path, sizeof(path), &fd, size, err);

	if (rc)
		return rc;
	want = *size < n ? (size_t)*size : n;
	dbuf_reset(out);
	if ((rc = dbuf_reserve(out, want)))
		rc = ts_err_set(err, rc, "%s: no room for %zu bytes", path, want);
	rc = rc ? rc : pread_all(fd, out->buf, want, *size - want, path, err);
	if (!rc) {
		out->len = want;
		out->buf[want] = '\0';
	}
	close(fd);
	return rc;
}

static int local_get_range(void *ctx, const char *key, uint64_t off, size_t len, void *dst,
                           struct ts_err *err)
{
	char path[PATH_MAX_];
	uint64_t size;
	int fd, rc = open_object(ctx, key, path, sizeof(path), &fd, &size, err);

	if (rc)
		return rc;
	if (off > size || len > size - off)
		rc = ts_err_set(err, TS_ECORRUPT,
		                "%s: %zu bytes at %llu are past its end (%llu bytes)", path, len,
		                (unsigned long long)off, (unsigned long long)size);
	rc = rc ? rc : pread_all(fd, dst, len, off, path, err);
	close(fd);
	return rc;
}

static int local_del(void *ctx, const char *key, struct ts_err *err)
{
	struct local *l = ctx;
	char path[PATH_MAX_], dir[PATH_MAX_];

	key_path(l, key, path, sizeof(path), dir, sizeof(dir));
	if (unlink(path) && errno != ENOENT && errno != ENOTDIR)
		return ts_err_set(err, TS_EIO, "cannot delete %s: %s", path, strerror(errno));
	return 0;
}

/* ---- listing: a depth-first walk in key byte order ---- */

struct dir_entry {
	char *name;
	int is_dir;
};

/* Orders entries as their keys sort: a folder "a" as "a/". */
static int entry_cmp(const void *pa, const void *pb)
{
	const struct dir_entry *a = pa, *b = pb;
	const unsigned char *x = (const unsigned char *)a->name,
	                    *y = (const unsigned char *)b->name;

	while (*x && *x == *y)
		x++, y++;
	int cx = *x ? *x : (a->is_dir ? '/' : 0);
	int cy = *y ? *y : (b->is_dir ? '/' : 0);
	return cx - cy;
}

struct walk {
	const char *root;
	const char *prefix;
	store_list_fn fn;
	void *arg;
	struct ts_err *err;
};

static void free_entries(struct dir_entry *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

static int entry_kind(DIR *d, const struct dirent *e, int *is_dir)
{
	struct stat st;

	if (e->d_type != DT_UNKNOWN && e->d_type != DT_LNK) {
		*is_dir = e->d_type == DT_DIR;
		return e->d_type == DT_DIR || e->d_type == DT_REG;
	}
	if (fstatat(dirfd(d), e->d_name, &st, 0))
		return 0;
	*is_dir = S_ISDIR(st.st_mode);
	return S_ISDIR(st.st_mode) || S_ISREG(st.st_mode);
}

/* Appends a copy of name to v[0..*n), growing it up to DIR_MAX_ENTRIES. */
static int add_entry(struct dir_entry **v, size_t *n, size_t *cap, const char *name, int is_dir,
                     const char *path, struct ts_err *err)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct dir_entry *nv;

		if (ncap > DIR_MAX_ENTRIES)
			return ts_err_set(err, TS_ETOOBIG, "%s has more than %u entries", path,
			                  DIR_MAX_ENTRIES);
		nv = realloc(*v, ncap * sizeof(**v));
		if (!nv)
			return ts_err_set(err, TS_ENOMEM, "out of memory");
		*v = nv;
		*cap = ncap;
	}
	(*v)[*n].name = strdup(name);
	(*v)[*n].is_dir = is_dir;
	if (!(*v)[*n].name)
		return ts_err_set(err, TS_ENOMEM, "out of memory");
	(*n)++;
	return 0;
}

static int skipped(DIR *d, const struct dirent *e, int *is_dir)
{
	return !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
	       !strncmp(e->d_name, STORE_LOCAL_TMP_PREFIX, strlen(STORE_LOCAL_TMP_PREFIX)) ||
	       !entry_kind(d, e, is_dir);
}

/* Reads the folder's files and sub-folders (not temporaries), sorted; an
 * absent folder has none. */
static int read_dir(const char *path, struct dir_entry **out, size_t *n, struct ts_err *err)
{
	DIR *d = opendir(path);
	struct dir_entry *v = NULL;
	size_t cap = 0;
	struct dirent *e;
	int rc = 0, is_dir = 0;

	*n = 0;
	if (!d)
		return errno == ENOENT || errno == ENOTDIR
		           ? 0
		           : ts_err_set(err, TS_EIO, "cannot list %s: %s", path, strerror(errno));
	while (!rc && (e = readdir(d)))
		if (!skipped(d, e, &is_dir))
			rc = add_entry(&v, n, &cap, e->d_name, is_dir, path, err);
	closedir(d);
	if (rc) {
		free_entries(v, *n);
		*n = 0;
		return rc;
	}
	if (*n)
		qsort(v, *n, sizeof(*v), entry_cmp);
	*out = v;
	return 0;
}

/* Whether key (a file) or key + "/" (a folder) can hold keys with the prefix. */
static int may_match(const char *key, int is_dir, const char *prefix)
{
	size_t kl = strlen(key), pl = strlen(prefix);

	if (kl >= pl)
		return !strncmp(key, prefix, pl);
	return is_dir && !strncmp(key, prefix, kl) && prefix[kl] == '/';
}

static int report_file(struct walk *w, const char *key, const char *path)
{
	struct store_entry e;
	struct stat st;

	if (stat(path, &st))
		return 0; /* deleted meanwhile */
	e.key = key;
	e.size = (uint64_t)st.st_size;
	e.mtime_us = (int64_t)st.st_mtim.tv_sec * 1000000 + st.st_mtim.tv_nsec / 1000;
	return w->fn(&e, w->arg);
}

static int walk_dir(struct walk *w, const char *rel)
{
	char path[PATH_MAX_], key[PATH_MAX_], child[PATH_MAX_];
	struct dir_entry *v = NULL;
	size_t n = 0;
	int rc;

	snprintf(path, sizeof(path), "%s%s%s", w->root, *rel ? "/" : "", rel);
	rc = read_dir(path, &v, &n, w->err);
	for (size_t i = 0; !rc && i < n; i++) {
		if (snprintf(key, sizeof(key), "%s%s%s", rel, *rel ? "/" : "", v[i].name) >=
		        (int)sizeof(key) - 1 ||
		    store_key_check(key, NULL) || !may_match(key, v[i].is_dir, w->prefix))
			continue; /* a file no key can name (control characters, too long) */
		snprintf(child, sizeof(child), "%s/%s", w->root, key);
		rc = v[i].is_dir ? walk_dir(w, key) : report_file(w, key, child);
	}
	free_entries(v, n);
	return rc;
}

static int local_list(void *ctx, const char *prefix, store_list_fn fn, void *arg,
                      struct ts_err *err)
{
	struct local *l = ctx;
	struct walk w = {l->root, prefix, fn, arg, err};

	return walk_dir(&w, "");
}

const struct store_ops store_local_ops = {
    "local",   local_put,  local_get,  local_get_tail, local_get_range,
    local_del, local_list, local_free, local_move,
};
