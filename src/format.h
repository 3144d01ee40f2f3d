/*
 * format.h -- every on-disk constant of rdb and the helpers that read and
 * write on-disk integers.  Nothing else.
 *
 * Byte order: every on-disk integer is little-endian, always written and
 * read through fmt_put_* / fmt_get_* (never by memcpy of a struct).
 * The same bytes are documented as tables in docs/format.md; change both in
 * one commit and bump FMT_VERSION.
 */
#ifndef RDB_FORMAT_H
#define RDB_FORMAT_H
#include <stdint.h>

#define FMT_VERSION 4u   /* 2: KV meta page counts the user namespace;
			  * 3: B+ tree cells' lengths are varints;
			  * 4: compact numbers in keys, no null bitmap
			  * in a row without NULLs */

/* ---- page sizes ------------------------------------------------------ */
#define FMT_MIN_PAGE_SIZE 512u
#define FMT_MAX_PAGE_SIZE 65536u
#define FMT_DEFAULT_PAGE_SIZE 4096u

/* ---- every page ------------------------------------------------------- *
 * | 0 checksum u64 | 8 type u8 | 9..16 owner bytes | 16.. body |
 * checksum = XXH3-64 of bytes [8, page_size) with seed = page number. */
#define FMT_PAGE_CKSUM 0u
#define FMT_PAGE_TYPE 8u
#define FMT_PAGE_OWNER 9u       /* 7 bytes the owning layer may use */
#define FMT_PAGE_BODY 16u       /* first byte of the body */

/* Page types (byte at FMT_PAGE_TYPE).  0 never appears on a valid page. */
#define FMT_PT_HEADER 0x01u     /* page 0 */
#define FMT_PT_FREE 0x02u       /* free-list trunk page */
#define FMT_PT_BT_INNER 0x10u   /* reserved for src/btree */
#define FMT_PT_BT_LEAF 0x11u
#define FMT_PT_BT_OVERFLOW 0x12u
#define FMT_PT_KV 0x20u         /* KV store: log page */
#define FMT_PT_KV_META 0x21u    /* KV store: meta page */

/* ---- page 0: the database header ------------------------------------- */
#define FMT_MAGIC "rdb database\0\0\0\0"   /* 16 bytes */
#define FMT_MAGIC_LEN 16u
#define FMT_HDR_MAGIC 16u        /* 16 bytes */
#define FMT_HDR_VERSION 32u      /* u32 FMT_VERSION */
#define FMT_HDR_PAGE_SIZE 36u    /* u32 */
#define FMT_HDR_PAGE_COUNT 40u   /* u32, pages in the database incl. 0 */
#define FMT_HDR_FREE_HEAD 44u    /* u32, first free-list trunk, 0 = none */
#define FMT_HDR_FREE_COUNT 48u   /* u32, free pages (trunks and leaves) */
#define FMT_HDR_RESERVED 52u     /* u32, zero */
#define FMT_HDR_CHANGE 56u       /* u64, committed write transactions */
#define FMT_HDR_DB_ID 64u        /* u64, random id chosen at creation */
#define FMT_HDR_ANCHORS 72u      /* u64 x FMT_N_ANCHORS, for upper layers */
#define FMT_N_ANCHORS 8u
#define FMT_HDR_END (FMT_HDR_ANCHORS + 8u * FMT_N_ANCHORS)  /* 136 */

/* Anchor slots used by later layers. */
#define FMT_ANCHOR_KV 0u
#define FMT_ANCHOR_CATALOG 1u    /* catalog version, +1 per DDL */

/* KV key namespaces: the first byte of every stored KV key.  Users' keys
 * (rdb_kv_*) are stored behind FMT_KV_NS_USER and never see the others;
 * the system tables' rows live behind FMT_KV_NS_SYS. */
#define FMT_KV_NS_USER 0x75u     /* 'u' */
#define FMT_KV_NS_SYS 0x73u      /* 's' */

/* System tables (src/table/systab.c): a row's KV key is FMT_KV_NS_SYS,
 * the table's tag, then the row's encoded primary key; the value is the
 * row's encoding. */
#define FMT_SYS_TABLES 1u        /* rdb_tables */
#define FMT_SYS_COLUMNS 2u       /* rdb_columns */
#define FMT_SYS_INDEXES 3u       /* rdb_indexes */
#define FMT_SYS_INDEX_COLUMNS 4u /* rdb_index_columns */
#define FMT_SYS_TRIGGERS 5u      /* rdb_triggers */

/* ---- free-list trunk page ------------------------------------------- *
 * | page header | 16 next trunk u32 | 20 count u32 | 24 pgno u32 x count | */
#define FMT_FREE_NEXT 16u
#define FMT_FREE_COUNT 20u
#define FMT_FREE_ENTRIES 24u
#define FMT_FREE_CAPACITY(ps) (((ps) - FMT_FREE_ENTRIES) / 4u)

/* ---- write-ahead log (<db>-wal) --------------------------------------- *
 * header (40 bytes), then frames of FMT_WAL_FRAME_HDR + page_size bytes. */
#define FMT_WAL_MAGIC 0x4c415752u  /* "RWAL" */
#define FMT_WAL_HDR_SIZE 40u
#define FMT_WALH_MAGIC 0u          /* u32 */
#define FMT_WALH_VERSION 4u        /* u32 FMT_VERSION */
#define FMT_WALH_PAGE_SIZE 8u      /* u32 */
#define FMT_WALH_GEN 12u           /* u32, bumped at every WAL restart */
#define FMT_WALH_SALT 16u          /* u64, random per generation */
#define FMT_WALH_DB_ID 24u         /* u64, the database's id (header) */
#define FMT_WALH_CKSUM 32u         /* u64, XXH3-64 of bytes [0, 32) */

#define FMT_WAL_FRAME_HDR 24u
#define FMT_WALF_PGNO 0u           /* u32 */
#define FMT_WALF_COMMIT 4u         /* u32, page count if commit, else 0 */
#define FMT_WALF_SALT 8u           /* u64, equals the header's salt */
#define FMT_WALF_CKSUM 16u         /* u64, chained, see docs/format.md */

/* ---- tables: key encoding (src/table/key.c) ------------------------- *
 * Each key component starts with a tag byte; a DESC component has every
 * byte inverted.  No tag is 0x00 or 0xFF in either direction, so a key
 * prefix followed by 0x00 sorts below, and followed by 0xFF above, every
 * key that extends it.  Numbers by magnitude class:
 *   1 <= |x| <= 2^63: w, an order-preserving code (a tag and 0..8
 *     big-endian bytes) of w = 2 (floor(x) - 1) + (x has a fraction) for
 *     x > 0, of w = 2 (ceil(|x|) - 1) - (x has a fraction) with every
 *     byte inverted for x < 0; an odd w is followed by the fraction (of
 *     x, or ceil(|x|) - |x| for x < 0) in 7-bit groups (low bit = "more
 *     follow", the last group non-zero);
 *   |x| < 1 and |x| > 2^63 (and +-inf): the tag, a 2-byte big-endian
 *     biased exponent and 1..9 fraction groups (the bits after the leading
 *     1), inverted for a negative number. */
#define FMT_KEY_NULL 0x02u
#define FMT_KEY_NEG_HUGE 0x03u   /* x < -2^63 and -inf */
#define FMT_KEY_NEG_INT 0x04u    /* 0x04..0x7d: -2^63 <= x <= -1 */
#define FMT_KEY_NEG_TINY 0x7eu   /* -1 < x < 0 */
#define FMT_KEY_ZERO 0x80u       /* 0, 0.0 and -0.0; nothing follows */
#define FMT_KEY_POS_TINY 0x81u   /* 0 < x < 1 */
#define FMT_KEY_POS_INT 0x82u    /* 0x82..0xfb: 1 <= x < 2^63 */
#define FMT_KEY_POS_HUGE 0xfcu   /* x >= 2^63 and +inf */
#define FMT_KEY_TEXT 0xfdu       /* escaped bytes, then the terminator */
#define FMT_KEY_BLOB 0xfeu
/* The code of w >= 0: tags FMT_KEY_POS_INT + 0.. in classes of (number of
 * tags, bytes after the tag); each class continues where the previous
 * one ended, the tag carrying the high part: */
#define FMT_KEY_INT_1 8u         /* w = 0..7: the tag alone */
#define FMT_KEY_INT_2 40u        /* tag + 1 byte: 10,240 values */
#define FMT_KEY_INT_3 48u        /* tag + 2 bytes: w < 3,155,976 */
#define FMT_KEY_INT_4 21u        /* tag + 3 bytes: w < 355,477,512 */
#define FMT_KEY_INT_TAGS 122u    /* then one tag each for 4..8 bytes */
#define FMT_KEY_EXP_BIAS 1075    /* stored exponent = E + bias, 1..2099 */
#define FMT_KEY_EXP_MIN (-1074)  /* smallest denormal: 2^-1074 */
#define FMT_KEY_EXP_INF 1024     /* exponent of +-inf (fraction 0) */
#define FMT_KEY_FRAC_MAX 9u      /* fraction groups: 63 bits / 7 */
#define FMT_KEY_ESC 0x00u        /* text/blob: 0x00 0xFF is a 0x00 byte, */
#define FMT_KEY_ESC_NUL 0xFFu    /* 0x00 0x01 ends the component */
#define FMT_KEY_ESC_END 0x01u

/* ---- tables: row encoding (src/table/row.c) ------------------------- *
 * | varint h = 2k + (some stored column is NULL) | null bitmap, ceil(k/8)
 * bytes, only if h is odd | the non-NULL values of the k stored columns in
 * column order |.  Varints: unsigned LEB128,
 * at most 10 bytes, canonical (no 0x80 padding).  Integers are zigzag
 * varints, reals 8-byte little-endian IEEE 754, text and blobs a varint
 * length then the bytes.  An ANY column's value starts with its class: */
#define FMT_ROW_INT 1u
#define FMT_ROW_REAL 2u
#define FMT_ROW_TEXT 3u
#define FMT_ROW_BLOB 4u
#define FMT_VARINT_MAX 10u

/* ---- integer helpers (little-endian) ------------------------------- */
static inline uint16_t fmt_get_u16(const unsigned char *p)
{
	return (uint16_t)(p[0] | (uint16_t)p[1] << 8);
}

static inline uint32_t fmt_get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline uint64_t fmt_get_u64(const unsigned char *p)
{
	return (uint64_t)fmt_get_u32(p) | (uint64_t)fmt_get_u32(p + 4) << 32;
}

static inline void fmt_put_u16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static inline void fmt_put_u32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static inline void fmt_put_u64(unsigned char *p, uint64_t v)
{
	fmt_put_u32(p, (uint32_t)v);
	fmt_put_u32(p + 4, (uint32_t)(v >> 32));
}

static inline int fmt_page_size_ok(uint32_t ps)
{
	return ps >= FMT_MIN_PAGE_SIZE && ps <= FMT_MAX_PAGE_SIZE &&
	       (ps & (ps - 1)) == 0;
}

#endif /* RDB_FORMAT_H */
