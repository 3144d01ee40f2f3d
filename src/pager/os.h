/*
 * os.h -- the file interface under the pager: a table of function pointers
 * so that the pager runs the same over real files (os_unix.c) and over an
 * in-memory file system that injects crashes and I/O errors (os_mem.c).
 *
 * Layer:  pager (only the pager and tests call it).  May include err.h,
 *         mem.h, rdb.h.
 * Contract:
 *   - Every method returns rdb_rc; on failure it records the reason, with
 *     the file's name, in err (which may be NULL).  Nothing prints.
 *   - read() stores the number of bytes read in *got; fewer than n only at
 *     the end of the file.  write() writes all n bytes or fails.
 *   - lock() takes the whole-file lock without waiting; if another open
 *     file (in this or another process) holds it, RDB_BUSY.
 *   - A file may be used by several threads at once (positional I/O).
 *   - I/O failures map to RDB_IOERR, a full disk to RDB_FULL, a missing
 *     file to RDB_CANTOPEN.
 */
#ifndef RDB_OS_H
#define RDB_OS_H
#include <stddef.h>
#include <stdint.h>
#include "rdb.h"
#include "err.h"

typedef struct os_vfs os_vfs;
typedef struct os_file os_file;

/* open() flags */
#define OS_OPEN_READONLY 0x1   /* open for reading only */
#define OS_OPEN_CREATE 0x2     /* create the file if it does not exist */

typedef struct os_file_methods {
	rdb_rc (*read)(os_file *f, uint64_t off, void *buf, size_t n,
		       size_t *got, rdb_err *err);
	rdb_rc (*write)(os_file *f, uint64_t off, const void *buf, size_t n,
			rdb_err *err);
	rdb_rc (*sync)(os_file *f, rdb_err *err);
	rdb_rc (*truncate)(os_file *f, uint64_t size, rdb_err *err);
	rdb_rc (*size)(os_file *f, uint64_t *out, rdb_err *err);
	rdb_rc (*lock)(os_file *f, rdb_err *err);
	void (*close)(os_file *f);     /* releases the lock; NULL-safe */
} os_file_methods;

/* Every implementation's file struct starts with this. */
struct os_file {
	const os_file_methods *m;
};

struct os_vfs {
	/* On RDB_OK the caller owns *out and closes it with os_close(). */
	rdb_rc (*open)(os_vfs *v, const char *path, int flags, os_file **out,
		       rdb_err *err);
	/* Remove path; a missing file is not an error. */
	rdb_rc (*remove)(os_vfs *v, const char *path, rdb_err *err);
	/* *out = 1 if path exists, else 0. */
	rdb_rc (*exists)(os_vfs *v, const char *path, int *out, rdb_err *err);
	/* Make the creation or removal of path durable (fsync its folder). */
	rdb_rc (*sync_dir)(os_vfs *v, const char *path, rdb_err *err);
};

/* Thin wrappers so that callers read naturally. */
static inline rdb_rc os_read(os_file *f, uint64_t off, void *buf, size_t n,
			     size_t *got, rdb_err *err)
{
	return f->m->read(f, off, buf, n, got, err);
}
static inline rdb_rc os_write(os_file *f, uint64_t off, const void *buf,
			      size_t n, rdb_err *err)
{
	return f->m->write(f, off, buf, n, err);
}
static inline rdb_rc os_sync(os_file *f, rdb_err *err)
{
	return f->m->sync(f, err);
}
static inline rdb_rc os_truncate(os_file *f, uint64_t size, rdb_err *err)
{
	return f->m->truncate(f, size, err);
}
static inline rdb_rc os_size(os_file *f, uint64_t *out, rdb_err *err)
{
	return f->m->size(f, out, err);
}
static inline rdb_rc os_lock(os_file *f, rdb_err *err)
{
	return f->m->lock(f, err);
}
static inline void os_close(os_file *f)
{
	if (f != NULL)
		f->m->close(f);
}

/* ---- POSIX files (os_unix.c) ---------------------------------------- *
 * pread/pwrite/fdatasync; lock() is flock(LOCK_EX|LOCK_NB), so a second
 * open of the same database, from this process or another, gets RDB_BUSY.
 * The returned vfs is a static singleton: never free it. */
os_vfs *os_unix_vfs(void);

/* ---- in-memory files with fault injection (os_mem.c) ---------------- *
 * A private file system in memory.  Each file keeps its current bytes and
 * the bytes as of its last sync(); creating and removing a file count as
 * durable at once.  Every call through the vfs or a file (open, remove,
 * exists, sync_dir, read, write, sync, truncate, size, lock) is numbered
 * from 1; a fault can be armed to fire at call number N:
 *   OS_FAULT_CRASH      call N and every later call fail with RDB_IOERR, as
 *                       if the process died; the bytes stay as they are.
 *   OS_FAULT_POWERLOSS  as CRASH, and os_mem_restart() then drops every
 *                       write not yet synced.
 *   OS_FAULT_TORN       as CRASH, and the most recent write (call N itself
 *                       if it is a write) keeps only a random prefix of
 *                       its bytes; the rest revert to what was there.
 *   OS_FAULT_EIO        call N fails with RDB_IOERR (with sticky, every
 *                       later call too); nothing else happens.
 *   OS_FAULT_ENOSPC     the first write or growing truncate at or after call
 *                       N fails with RDB_FULL having written nothing (with
 *                       sticky, every later one too).
 * The vfs is thread-safe.  Paths are plain names (no folders needed). */
typedef enum os_fault {
	OS_FAULT_NONE = 0,
	OS_FAULT_CRASH,
	OS_FAULT_POWERLOSS,
	OS_FAULT_TORN,
	OS_FAULT_EIO,
	OS_FAULT_ENOSPC
} os_fault;

/* Caller owns the result; free with os_mem_free().  NULL if out of memory. */
os_vfs *os_mem_new(void);
/* Frees every file; all files must be closed.  NULL-safe. */
void os_mem_free(os_vfs *v);
/* Arm a fault at call number `at` counted from 1 after this call; the
 * seed drives the torn-write cut.  OS_FAULT_NONE disarms. */
void os_mem_set_fault(os_vfs *v, os_fault kind, uint64_t at, int sticky,
		      uint64_t seed);
/* Calls made since the last os_mem_set_fault() (or since creation). */
uint64_t os_mem_calls(os_vfs *v);
/* 1 once a CRASH, POWERLOSS or TORN fault has fired. */
int os_mem_crashed(os_vfs *v);
/* 1 once any fault has fired. */
int os_mem_fault_fired(os_vfs *v);
/* Simulate a reboot: apply a pending power loss (drop unsynced writes),
 * clear the crash and any fault, release all locks.  Files still open
 * keep working as before only for closing. */
void os_mem_restart(os_vfs *v);
/* Copy of a file's current bytes for tests: caller owns *out (rdb_free);
 * RDB_CANTOPEN if there is no such file. */
rdb_rc os_mem_file_bytes(os_vfs *v, const char *path, unsigned char **out,
			 size_t *len);
/* Replace (or create) a file's bytes, durable at once. */
rdb_rc os_mem_file_set(os_vfs *v, const char *path, const void *bytes,
		       size_t len);

#endif /* RDB_OS_H */
