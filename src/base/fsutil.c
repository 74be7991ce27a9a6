/*
 * See fsutil.h.
 */
#include "base/common.h"
#include "base/fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

/* Makes one folder of a chain; a new folder's entry in its parent is made
 * durable at once. Otherwise a crash could lose the folder after files in
 * it were synced and committed: the later fsync of the folder's own
 * contents does not cover its entry in the parent on every file system. */
static int make_dir(const char *path, struct ts_err *err)
{
	if (mkdir(path, 0755) == 0)
		return fs_sync_dir_of(path, err);
	return errno == EEXIST ? 0 : ts_err_set(err, TS_EIO, "mkdir %s: %s", path, strerror(errno));
}

int fs_mkdirs(const char *path, struct ts_err *err)
{
	char buf[4096];
	size_t len = strlen(path);
	struct stat st;
	int rc = 0;

	if (len >= sizeof(buf))
		return ts_err_set(err, TS_EINVAL, "%s: path too long", path);
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p && !rc; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		rc = make_dir(buf, err); /* a file here fails the next mkdir (ENOTDIR) */
		*p = '/';
	}
	rc = rc ? rc : make_dir(buf, err);
	if (!rc && stat(buf, &st) == 0 && !S_ISDIR(st.st_mode))
		rc = ts_err_set(err, TS_EIO, "mkdir %s: a file of that name is in the way", buf);
	return rc;
}

int fs_mkdirs_for(const char *file, struct ts_err *err)
{
	char dir[4096];
	const char *slash = strrchr(file, '/');

	if (!slash)
		return 0;
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - file), file);
	return dir[0] ? fs_mkdirs(dir, err) : 0;
}

int fs_sync_dir(const char *dir, struct ts_err *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

	if (fd < 0)
		return ts_err_set(err, TS_EIO, "cannot open the folder %s: %s", dir,
		                  strerror(errno));
	rc = fsync(fd) ? errno : 0;
	close(fd);
	return rc ? ts_err_set(err, TS_EIO, "fsync of the folder %s: %s", dir, strerror(rc)) : 0;
}

int fs_sync_dir_of(const char *path, struct ts_err *err)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
	return fs_sync_dir(dir, err);
}

int fs_remove_tree(const char *path, struct ts_err *err)
{
	struct stat st;
	struct dirent *e;
	DIR *d;
	int rc = 0;

	if (lstat(path, &st))
		return errno == ENOENT ? 0
		                       : ts_err_set(err, TS_EIO, "%s: %s", path, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return unlink(path) ? ts_err_set(err, TS_EIO, "rm %s: %s", path, strerror(errno))
		                    : 0;
	d = opendir(path);
	if (!d)
		return ts_err_set(err, TS_EIO, "%s: %s", path, strerror(errno));
	while (!rc && (e = readdir(d))) {
		char child[4096];

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(child, sizeof(child), "%s/%s", path, e->d_name);
		rc = fs_remove_tree(child, err);
	}
	closedir(d);
	if (!rc && rmdir(path))
		rc = ts_err_set(err, TS_EIO, "rmdir %s: %s", path, strerror(errno));
	return rc;
}

int fs_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}
