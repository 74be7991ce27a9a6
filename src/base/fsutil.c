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

int fs_mkdirs(const char *path, struct ts_err *err)
{
	char buf[4096];
	size_t len = strlen(path);

	if (len >= sizeof(buf))
		return ts_err_set(err, TS_EINVAL, "%s: path too long", path);
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) && errno != EEXIST)
			return ts_err_set(err, TS_EIO, "mkdir %s: %s", buf, strerror(errno));
		*p = '/';
	}
	if (mkdir(buf, 0755) && errno != EEXIST)
		return ts_err_set(err, TS_EIO, "mkdir %s: %s", buf, strerror(errno));
	return 0;
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

int fs_sync_dir_of(const char *path, struct ts_err *err)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	int fd, rc;

	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return ts_err_set(err, TS_EIO, "cannot open the folder %s: %s", dir,
		                  strerror(errno));
	rc = fsync(fd) ? errno : 0;
	close(fd);
	return rc ? ts_err_set(err, TS_EIO, "fsync of the folder %s: %s", dir, strerror(rc)) : 0;
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
