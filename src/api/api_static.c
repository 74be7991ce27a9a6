/*
 * Serving the built dashboard; see api_static.h for the rules.
 */
#include "base/common.h"
#include "api/api_static.h"
#include "api/api_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define PATH_MAX_LEN 1024

struct api_static {
	char *root; /* real path, no trailing slash */
	size_t root_len;
};

static const struct {
	const char *ext, *type;
} mime_types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json"},
    {".map", "application/json"},
    {".webmanifest", "application/manifest+json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".jpg", "image/jpeg"},
    {".jpeg", "image/jpeg"},
    {".gif", "image/gif"},
    {".webp", "image/webp"},
    {".ico", "image/x-icon"},
    {".woff", "font/woff"},
    {".woff2", "font/woff2"},
    {".ttf", "font/ttf"},
    {".txt", "text/plain; charset=utf-8"},
    {".wasm", "application/wasm"},
};

const char *api_static_mime(const char *name)
{
	const char *dot = strrchr(name, '.'), *slash = strrchr(name, '/');

	if (dot && (!slash || dot > slash))
		for (size_t i = 0; i < ARRAY_SIZE(mime_types); i++)
			if (!strcasecmp(dot, mime_types[i].ext))
				return mime_types[i].type;
	return "application/octet-stream";
}

int api_static_check_path(const char *path)
{
	size_t len = strlen(path);

	if (path[0] != '/' || len > PATH_MAX_LEN)
		return 400;
	for (const char *p = path; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '\\')
			return 400;
	for (const char *seg = path + 1; *seg;) {
		size_t n = strcspn(seg, "/");

		if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
			return 400;
		if (n && seg[0] == '.')
			return 404;
		if (!n && seg[n] == '/')
			return 400; /* "//" */
		seg += n + (seg[n] == '/');
	}
	return 0;
}

int api_static_new(const char *dir, struct api_static **out, struct ts_err *err)
{
	struct api_static *s;
	char index[PATH_MAX + 16];
	char *root = realpath(dir, NULL);

	if (!root)
		return ts_err_set(err, TS_ENOTFOUND, "%s: %s", dir, strerror(errno));
	snprintf(index, sizeof(index), "%s/index.html", root);
	if (access(index, R_OK)) {
		free(root);
		return ts_err_set(err, TS_ENOTFOUND, "%s: no index.html (build the page: make web)",
		                  dir);
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		free(root);
		return ts_err_set(err, TS_ENOMEM, "out of memory");
	}
	s->root = root;
	s->root_len = strlen(root);
	*out = s;
	return 0;
}

void api_static_free(struct api_static *s)
{
	if (!s)
		return;
	free(s->root);
	free(s);
}

/* Opens root + rel if it resolves to a regular file inside root. */
static int open_inside(struct api_static *s, const char *rel, struct stat *st)
{
	char full[PATH_MAX + PATH_MAX_LEN + 2], *real;
	int fd, inside;

	snprintf(full, sizeof(full), "%s%s", s->root, rel);
	real = realpath(full, NULL);
	if (!real)
		return -1;
	inside = !strncmp(real, s->root, s->root_len) && real[s->root_len] == '/';
	fd = inside ? open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) : -1;
	free(real);
	if (fd >= 0 && (fstat(fd, st) || !S_ISREG(st->st_mode))) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static int wants_html(struct api_request *req, const char *path)
{
	const char *accept = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Accept");
	const char *last = strrchr(path, '/');

	return accept && strstr(accept, "text/html") && !strchr(last ? last : path, '.');
}

void api_static_handle(struct api_static *s, struct api_request *req, const char *path,
                       struct api_reply *reply)
{
	int bad = api_static_check_path(path), fd = -1;
	const char *rel = path;
	struct stat st;
	uint64_t h;

	if (bad == 400 || req->path_nul) {
		api_reply_error(reply, 400, "bad path", NULL);
		return;
	}
	if (!strcmp(path, "/"))
		rel = "/index.html";
	if (!bad)
		fd = open_inside(s, rel, &st);
	if (fd < 0 && wants_html(req, path)) {
		rel = "/index.html";
		fd = open_inside(s, rel, &st);
	}
	if (fd < 0) {
		api_reply_error(reply, 404, "not found", NULL);
		return;
	}
	reply->status = 200;
	reply->content_type = api_static_mime(rel);
	reply->cache_control = !strcmp(rel, "/index.html") ? "no-cache"
	                       : !strncmp(rel, "/assets/", 8)
	                           ? "public, max-age=31536000, immutable"
	                           : "public, max-age=3600";
	reply->file_fd = fd;
	reply->has_file = 1;
	reply->file_size = (uint64_t)st.st_size;
	h = text_fnv1a(&st.st_size, sizeof(st.st_size), TEXT_FNV_SEED);
	h = text_fnv1a(&st.st_mtim, sizeof(st.st_mtim), h);
	h = text_fnv1a(&st.st_ino, sizeof(st.st_ino), h);
	api_reply_etag(req, reply, h);
	if (reply->status == 304) {
		close(fd);
		reply->has_file = 0;
	}
}
