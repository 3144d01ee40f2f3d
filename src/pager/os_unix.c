/*
 * os_unix.c -- the os.h file interface over POSIX files: pread/pwrite
 * loops, fdatasync, ftruncate, and flock() for the whole-file lock.  The
 * contract is in os.h; the vfs is a stateless static singleton.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE     /* flock, fdatasync, O_CLOEXEC under -std=c11 */
#endif
#include "pager/os.h"
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "err.h"
#include "mem.h"

typedef struct unix_file {
	os_file base;           /* must be first */
	int fd;                 /* owned */
	int readonly;           /* opened with OS_OPEN_READONLY */
	char *path;             /* owned: copy of the name given to open() */
} unix_file;

#define ERRBUF_SIZE 128

/* Thread-safe strerror into buf (both the GNU and the XSI strerror_r). */
static const char *errtext(int e, char *buf, size_t n)
{
#if defined(__GLIBC__) && defined(_GNU_SOURCE)
	return strerror_r(e, buf, n);
#else
	if (strerror_r(e, buf, n) != 0)
		snprintf(buf, n, "error %d", e);
	return buf;
#endif
}

/* Record "<what> 'path': <strerror(e)>" under rc. */
static rdb_rc fail_errno(rdb_err *err, rdb_rc rc, const char *what,
			 const char *path, int e)
{
	char buf[ERRBUF_SIZE];

	return rdb_err_set(err, rc, "%s '%s': %s", what, path,
			   errtext(e, buf, sizeof(buf)));
}

static int is_full_errno(int e)
{
	return e == ENOSPC || e == EFBIG
#ifdef EDQUOT
	       || e == EDQUOT
#endif
	       ;
}

/* off_t is signed: reject ranges a pread/pwrite could not address. */
static int range_ok(uint64_t off, size_t n)
{
	return off <= (uint64_t)INT64_MAX && n <= (uint64_t)INT64_MAX - off;
}

/* ---- file methods ---------------------------------------------------- */

static rdb_rc unix_read(os_file *f, uint64_t off, void *buf, size_t n,
			size_t *got, rdb_err *err)
{
	unix_file *uf = (unix_file *)f;
	size_t done = 0;

	assert(uf != NULL && (buf != NULL || n == 0) && got != NULL);
	*got = 0;
	if (!range_ok(off, n))
		return rdb_err_set(err, RDB_IOERR,
				   "cannot read '%s': offset out of range",
				   uf->path);
	while (done < n) {
		ssize_t r = pread(uf->fd, (char *)buf + done, n - done,
				  (off_t)(off + done));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return fail_errno(err, RDB_IOERR, "cannot read",
					  uf->path, errno);
		}
		if (r == 0)
			break;          /* end of file */
		done += (size_t)r;
	}
	*got = done;
	return RDB_OK;
}

static rdb_rc unix_write(os_file *f, uint64_t off, const void *buf, size_t n,
			 rdb_err *err)
{
	unix_file *uf = (unix_file *)f;
	size_t done = 0;

	assert(uf != NULL && (buf != NULL || n == 0));
	if (uf->readonly)
		return rdb_err_set(err, RDB_READONLY,
				   "cannot write '%s': opened read-only",
				   uf->path);
	if (!range_ok(off, n))
		return rdb_err_set(err, RDB_FULL, "disk full writing '%s'",
				   uf->path);
	while (done < n) {
		ssize_t r = pwrite(uf->fd, (const char *)buf + done, n - done,
				   (off_t)(off + done));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (is_full_errno(errno))
				return rdb_err_set(err, RDB_FULL,
						   "disk full writing '%s'",
						   uf->path);
			return fail_errno(err, RDB_IOERR, "cannot write",
					  uf->path, errno);
		}
		/* A zero-byte pwrite of a non-empty buffer would loop forever;
		 * POSIX leaves it unspecified, so treat it as an I/O error. */
		if (r == 0)
			return rdb_err_set(err, RDB_IOERR,
					   "cannot write '%s': no progress",
					   uf->path);
		done += (size_t)r;
	}
	return RDB_OK;
}

static rdb_rc unix_sync(os_file *f, rdb_err *err)
{
	unix_file *uf = (unix_file *)f;
	int r;

	assert(uf != NULL);
	do {
#if defined(__APPLE__)
		r = fsync(uf->fd);
#else
		r = fdatasync(uf->fd);
#endif
	} while (r != 0 && errno == EINTR);
	if (r != 0)
		return fail_errno(err, RDB_IOERR, "cannot sync", uf->path,
				  errno);
	return RDB_OK;
}

static rdb_rc unix_truncate(os_file *f, uint64_t size, rdb_err *err)
{
	unix_file *uf = (unix_file *)f;
	int r;

	assert(uf != NULL);
	if (uf->readonly)
		return rdb_err_set(err, RDB_READONLY,
				   "cannot truncate '%s': opened read-only",
				   uf->path);
	if (size > (uint64_t)INT64_MAX)
		return rdb_err_set(err, RDB_FULL, "disk full growing '%s'",
				   uf->path);
	do
		r = ftruncate(uf->fd, (off_t)size);
	while (r != 0 && errno == EINTR);
	if (r != 0) {
		if (is_full_errno(errno))
			return rdb_err_set(err, RDB_FULL,
					   "disk full growing '%s'", uf->path);
		return fail_errno(err, RDB_IOERR, "cannot truncate", uf->path,
				  errno);
	}
	return RDB_OK;
}

static rdb_rc unix_size(os_file *f, uint64_t *out, rdb_err *err)
{
	unix_file *uf = (unix_file *)f;
	struct stat st;

	assert(uf != NULL && out != NULL);
	*out = 0;
	if (fstat(uf->fd, &st) != 0)
		return fail_errno(err, RDB_IOERR, "cannot stat", uf->path,
				  errno);
	*out = (uint64_t)st.st_size;
	return RDB_OK;
}

/* flock() locks belong to the open file description, so a second open of
 * the same file in this process conflicts just as another process does. */
static rdb_rc unix_lock(os_file *f, rdb_err *err)
{
	unix_file *uf = (unix_file *)f;
	int r;

	assert(uf != NULL);
	do
		r = flock(uf->fd, LOCK_EX | LOCK_NB);
	while (r != 0 && errno == EINTR);
	if (r == 0)
		return RDB_OK;
	if (errno == EWOULDBLOCK || errno == EAGAIN)
		return rdb_err_set(err, RDB_BUSY,
				   "database '%s' is locked by another "
				   "connection or process", uf->path);
	return fail_errno(err, RDB_IOERR, "cannot lock", uf->path, errno);
}

static void unix_close(os_file *f)
{
	unix_file *uf = (unix_file *)f;

	if (uf == NULL)
		return;
	/* The lock goes with the last descriptor of the open file
	 * description, which is this one.  close() errors are not
	 * actionable here: data that mattered was synced already. */
	(void)close(uf->fd);
	rdb_free(uf->path);
	rdb_free(uf);
}

static const os_file_methods unix_methods = {
	unix_read, unix_write, unix_sync, unix_truncate, unix_size,
	unix_lock, unix_close
};

/* ---- vfs methods ----------------------------------------------------- */

static char *copy_str(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = rdb_malloc(n);

	if (p != NULL)
		memcpy(p, s, n);
	return p;
}

static rdb_rc unix_open(os_vfs *v, const char *path, int flags,
			os_file **out, rdb_err *err)
{
	int oflags = O_CLOEXEC;
	unix_file *uf;
	rdb_rc rc;

	assert(v != NULL && path != NULL && out != NULL);
	(void)v;
	*out = NULL;
	oflags |= (flags & OS_OPEN_READONLY) ? O_RDONLY : O_RDWR;
	if (flags & OS_OPEN_CREATE)
		oflags |= O_CREAT;

	uf = rdb_calloc(1, sizeof(*uf));
	if (uf == NULL)
		return rdb_err_set(err, RDB_NOMEM, "out of memory opening '%s'",
				   path);
	uf->fd = -1;
	uf->path = copy_str(path);
	if (uf->path == NULL) {
		rc = rdb_err_set(err, RDB_NOMEM, "out of memory opening '%s'",
				 path);
		goto fail;
	}
	do
		uf->fd = open(path, oflags, 0644);
	while (uf->fd < 0 && errno == EINTR);
	if (uf->fd < 0) {
		rc = fail_errno(err, RDB_CANTOPEN, "cannot open", path, errno);
		goto fail;
	}
	uf->base.m = &unix_methods;
	uf->readonly = (flags & OS_OPEN_READONLY) != 0;
	*out = &uf->base;
	return RDB_OK;

fail:
	rdb_free(uf->path);
	rdb_free(uf);
	return rc;
}

static rdb_rc unix_remove(os_vfs *v, const char *path, rdb_err *err)
{
	assert(v != NULL && path != NULL);
	(void)v;
	if (unlink(path) != 0 && errno != ENOENT)
		return fail_errno(err, RDB_IOERR, "cannot remove", path, errno);
	return RDB_OK;
}

static rdb_rc unix_exists(os_vfs *v, const char *path, int *out,
			  rdb_err *err)
{
	struct stat st;

	assert(v != NULL && path != NULL && out != NULL);
	(void)v;
	*out = 0;
	if (stat(path, &st) == 0) {
		*out = 1;
		return RDB_OK;
	}
	if (errno == ENOENT || errno == ENOTDIR)
		return RDB_OK;
	return fail_errno(err, RDB_IOERR, "cannot check", path, errno);
}

/* The folder holding path, in a new string: "." if path has no slash. */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t n;
	char *d;

	if (slash == NULL)
		return copy_str(".");
	n = slash == path ? 1 : (size_t)(slash - path);   /* "/x" -> "/" */
	d = rdb_malloc(n + 1);
	if (d != NULL) {
		memcpy(d, path, n);
		d[n] = '\0';
	}
	return d;
}

static rdb_rc unix_sync_dir(os_vfs *v, const char *path, rdb_err *err)
{
	char *dir;
	int fd, r;
	rdb_rc rc = RDB_OK;

	assert(v != NULL && path != NULL);
	(void)v;
	dir = dir_of(path);
	if (dir == NULL)
		return rdb_err_set(err, RDB_NOMEM,
				   "out of memory syncing folder of '%s'",
				   path);
	do
		fd = open(dir, O_RDONLY | O_CLOEXEC | O_DIRECTORY);
	while (fd < 0 && errno == EINTR);
	if (fd < 0) {
		rc = fail_errno(err, RDB_IOERR, "cannot open folder of", path,
				errno);
		goto done;
	}
	do
		r = fsync(fd);
	while (r != 0 && errno == EINTR);
	/* Some file systems cannot sync a folder (EINVAL); there is nothing
	 * more durable to ask for, so that is not an error. */
	if (r != 0 && errno != EINVAL)
		rc = fail_errno(err, RDB_IOERR, "cannot sync folder of", path,
				errno);
	(void)close(fd);
done:
	rdb_free(dir);
	return rc;
}

static os_vfs unix_vfs = {
	unix_open, unix_remove, unix_exists, unix_sync_dir
};

os_vfs *os_unix_vfs(void)
{
	return &unix_vfs;
}
