/*
 * fault_util.c -- one injected fault per trial (fault_util.h).
 */
#include "fault_util.h"
#include <check.h>
#include "mem.h"

void fu_arm(os_vfs *vfs, int io, uint64_t at)
{
	if (io)
		os_mem_set_fault(vfs, OS_FAULT_EIO, at, 0, 0);
	else
		rdb_mem_fail_at((long)at, 0);
}

void fu_end(os_vfs *vfs, int io, uint64_t at, rdb_rc rc, const char *msg)
{
	int fired = io ? os_mem_fault_fired(vfs) : rdb_mem_failed();

	if (io)
		os_mem_set_fault(vfs, OS_FAULT_NONE, 0, 0, 0);
	else
		rdb_mem_fail_at(0, 0);
	ck_assert_msg(rc == RDB_OK || rc == (io ? RDB_IOERR : RDB_NOMEM),
		      "%s fault at %llu: rc %d (%s)", io ? "I/O" : "memory",
		      (unsigned long long)at, rc, msg);
	ck_assert_msg(rc == RDB_OK || fired, "failed with no fault fired");
}
