/*
 * fault_util.h -- one injected fault per trial, as the fault loops of the
 * storage suites run it: an I/O error at the at-th call of an in-memory
 * file system (src/pager/os.h) or a failure of the at-th allocation
 * (src/mem.h), once; then the check that the workload either succeeded
 * or failed with that fault's code after the fault fired.
 */
#ifndef RDB_FAULT_UTIL_H
#define RDB_FAULT_UTIL_H
#include <stdint.h>
#include "pager/os.h"

/* Make I/O call `at` of vfs fail once with EIO (io != 0), or allocation
 * `at` fail once (io == 0). */
void fu_arm(os_vfs *vfs, int io, uint64_t at);
/* Take back what fu_arm() set and fail the test unless rc is RDB_OK or,
 * after the fault fired, RDB_IOERR (io) or RDB_NOMEM; msg is the
 * workload's error message, for the report. */
void fu_end(os_vfs *vfs, int io, uint64_t at, rdb_rc rc, const char *msg);

#endif /* RDB_FAULT_UTIL_H */
