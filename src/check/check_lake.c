/*
 * The lake probe; see check_lake.h. The calls here cannot be given a
 * deadline (an fsync on a hung network mount blocks), so the runner's hard
 * deadline in check.c is what bounds this probe.
 */
#include "base/common.h"
#include "base/error.h"
#include "base/timeutil.h"
#include "check/check_lake.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define PATH_MAX_ 4096

/* mkdir -p: creates every missing folder of path. Returns 0 or an errno. */
static int make_dirs(const char *path)
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

static int write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	int rc = 0;

	if (fd < 0)
		return errno;
	errno = 0;
	if (write(fd, data, len) != (ssize_t)len)
		rc = errno ? errno : EIO;
	else if (fsync(fd))
		rc = errno;
	if (close(fd) && !rc)
		rc = errno;
	return rc;
}

/* Reads path and compares it with data; 0, an errno, or -1 if it differs. */
static int read_back(const char *path, const char *data, size_t len)
{
	char buf[256];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return errno;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0)
		return errno;
	return (size_t)n == len && !memcmp(buf, data, len) ? 0 : -1;
}

static void free_space(const char *dir, char *out, size_t size)
{
	struct statvfs vfs;

	if (statvfs(dir, &vfs)) {
		snprintf(out, size, "free space unknown");
		return;
	}
	snprintf(out, size, "%.1f GiB free",
	         (double)vfs.f_bavail * (double)vfs.f_frsize / (1024.0 * 1024.0 * 1024.0));
}

/* Writes, reads back and deletes one probe file in dir. */
static int probe_file(const char *dir, struct check_result *out)
{
	static atomic_uint seq;
	char path[PATH_MAX_], data[128], space[64];
	size_t len;
	int rc;

	snprintf(path, sizeof(path), "%s/.topsongs-check-%ld-%u", dir, (long)getpid(),
	         atomic_fetch_add(&seq, 1));
	len = (size_t)snprintf(data, sizeof(data), "topsongs check probe %lld\n",
	                       (long long)time_now_us());
	rc = write_file(path, data, len);
	if (rc) {
		unlink(path);
		return check_result_fail(out, TS_EIO, "cannot write a file in %s: %s", dir,
		                         strerror(rc));
	}
	rc = read_back(path, data, len);
	if (rc) {
		unlink(path);
		return check_result_fail(out, rc < 0 ? TS_ECORRUPT : TS_EIO, "probe file in %s %s",
		                         dir, rc < 0 ? "read back different bytes" : strerror(rc));
	}
	if (unlink(path))
		return check_result_fail(out, TS_EIO, "cannot delete %s: %s", path,
		                         strerror(errno));
	free_space(dir, space, sizeof(space));
	return check_result_ok(out, "wrote, synced, read back and deleted a file; %s", space);
}

/* The folder as an absolute path, for messages a person can act on. */
static int absolute(const char *path, char *out, size_t size)
{
	char cwd[PATH_MAX_];

	if (path[0] == '/' || !getcwd(cwd, sizeof(cwd)))
		return snprintf(out, size, "%s", path) >= (int)size;
	return snprintf(out, size, "%s/%s", cwd, path) >= (int)size;
}

int check_lake_probe(const struct ts_config *cfg, int64_t timeout_ms, struct check_result *out)
{
	char dir[PATH_MAX_];
	int rc;

	(void)timeout_ms; /* bounded by the runner; see above */
	check_result_target(out, "%s", cfg->lake_url);
	if (!strncmp(cfg->lake_url, "s3://", 5))
		return check_result_fail(out, TS_EINVAL, "S3 lake not supported yet");
	if (!cfg->lake_url[0])
		return check_result_fail(out, TS_EINVAL, "lake.url is empty");
	if (absolute(cfg->lake_url, dir, sizeof(dir)))
		return check_result_fail(out, TS_EINVAL, "lake.url is too long");
	check_result_target(out, "%s", dir);
	rc = make_dirs(dir);
	if (rc)
		return check_result_fail(out, TS_EIO, "cannot create folder %s: %s", dir,
		                         strerror(rc));
	return probe_file(dir, out);
}
