/*
 * bt_util.c -- the B+ tree suites' rig (bt_util.h).
 */
#include "bt_util.h"
#include <check.h>
#include <string.h>

void bt_rig_new(bt_rig *r, uint32_t ps, uint32_t cache)
{
	memset(r, 0, sizeof(*r));
	r->vfs = os_mem_new();
	ck_assert_ptr_nonnull(r->vfs);
	pager_opts_default(&r->o);
	r->o.page_size = ps;
	r->o.cache_pages = cache;
	r->o.create = 1;
	bt_rig_open(r);
}

void bt_rig_open(bt_rig *r)
{
	rdb_rc rc = pager_open(r->vfs, BT_RIG_DB, &r->o, &r->err, &r->p);

	ck_assert_msg(rc == RDB_OK, "pager_open: %d %s", rc, r->err.msg);
}

rdb_rc bt_rig_reopen(bt_rig *r)
{
	rdb_rc rc = pager_close(r->p);

	r->p = NULL;
	bt_rig_open(r);
	return rc;
}

pager_txn *bt_rig_begin(bt_rig *r, int write)
{
	pager_txn *t = NULL;

	ck_assert_int_eq(pager_begin(r->p, write, &r->err, &t), RDB_OK);
	return t;
}

void bt_rig_free(bt_rig *r)
{
	if (r->p != NULL)
		(void)pager_close(r->p);
	r->p = NULL;
	os_mem_free(r->vfs);
	r->vfs = NULL;
}
