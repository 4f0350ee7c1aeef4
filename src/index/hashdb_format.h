/* The index file's layout, shared by the builder and the reader (private to the index
 * layer). All integers little-endian; every section starts on a 64-byte boundary.
 *
 *   header (128 bytes at 0) -> section table (64 bytes per section, at table_off)
 *   sections: STRINGS, SETS, CLASSES, MD5/SHA1/SHA256 slots + shapes, PDQ payloads
 *   and multi-index tables (which hold the PDQ hashes themselves), records (offsets +
 *   data), META.
 *
 * A digest row is the digest followed by a u32 payload. Payload bit 31 clear: the
 * payload is a class (set, scheme, category) and the row is the whole entry. Bit 31
 * set: the low 31 bits number a record, which holds the entry's every digest and the
 * metadata kept (entries with several digests or with metadata); HDB_FILLER marks a
 * filler slot (below).
 *
 * A digest table (MD5, SHA-1, SHA-256) of n rows is an array of slots with no directory:
 * H = hdb_homes(n) of them are homes (85% load), a digest's home is hdb_home(its first 8
 * bytes, H) (its share of H, so homes follow digest order), and the rows, in digest
 * order, each take the first slot not before their home and after the previous row's.
 * A slot skipped that way is a filler: the next row's digest with payload HDB_FILLER,
 * so that the whole array stays sorted. Every row equal to a key lies at or after the
 * key's home, and the first slot not less than the key is within 6 slots of the home
 * 84% of the time at that load (8: 92%, 12: 98%): a lookup reads one place of the file
 * (2-3 cache lines, one page), whatever the table's size. */
#ifndef KS_HASHDB_FORMAT_H
#define KS_HASHDB_FORMAT_H

#include <stdint.h>
#include <string.h>

#define HDB_MAGIC "KSHASHDB"
/* Version 2: the PDQ tables keep a 16-bit tag per row. Version 3: the PDQ tables are
 * linked in a ring and hold the hashes; digest tables without a directory. Older
 * files: rebuild. */
#define HDB_VERSION 3
#define HDB_HEADER_SIZE 128
#define HDB_SECTION_SIZE 64
#define HDB_ALIGN 64
#define HDB_MAX_SECTIONS 256
#define HDB_REC_FLAG 0x80000000u
#define HDB_NONE 0xFFFFFFFFu /* a string reference meaning NULL */
/* A digest slot's payload when it holds no row (record numbers stay below
 * HDB_REC_FLAG - 1). */
#define HDB_FILLER 0xFFFFFFFFu

/* Header fields (byte offsets). The header's own SHA-256 covers bytes [0, 96). */
enum {
	HDR_MAGIC = 0,	    /* 8 bytes */
	HDR_VERSION = 8,    /* u32 */
	HDR_HSIZE = 12,	    /* u32 = HDB_HEADER_SIZE */
	HDR_FILESIZE = 16,  /* u64 */
	HDR_CREATED = 24,   /* i64 unix seconds */
	HDR_NSECT = 32,	    /* u32 */
	HDR_FLAGS = 36,	    /* u32, 0 */
	HDR_TABLE_OFF = 40, /* u64 */
	HDR_TABLE_SHA = 48, /* 32 bytes: SHA-256 of the section table */
	HDR_SHA = 96,	    /* 32 bytes: SHA-256 of bytes [0, 96) */
};

/* Section table entry: u32 kind, u32 arg, u64 off, u64 size, u64 count, sha256[32]. */
enum hdb_kind {
	SEC_STRINGS = 1,   /* NUL-terminated strings; references are byte offsets */
	SEC_SETS = 2,	   /* count sets of SET_SIZE bytes */
	SEC_CLASSES = 3,   /* count classes of 16 bytes: set, scheme ref, category ref, 0 */
	SEC_ROWS = 4,	   /* arg = table (T_MD5..T_SHA256): count slots (digest +
			    * payload), rows and fillers */
	SEC_DIR = 5,	   /* arg = table: the table's shape, u64 homes H, u64 rows (the
			    * slots that are not fillers); count 2 */
	SEC_PDQ_HASH = 6,  /* version 2 only: the PDQ hashes, 32 bytes each, sorted */
	SEC_PDQ_PAY = 7,   /* arg = bytes (1-4): count payloads in table 0's order, which
			    * numbers the PDQ rows */
	SEC_MIH = 8,	   /* count tables of 8 bytes: u16 bit offset, u8 key bits, u8 tag
			    * bits (16), u8 link bits (1-32), 3 zero */
	SEC_MIH_DIR = 9,   /* arg = table: (1 << key bits) + 1 u32 bucket bounds */
	SEC_MIH_ROWS = 10, /* arg = table: its rows, bucket by bucket: bucket b of rows
			    * [lo, hi) at byte 2 lo + (w lo >> 3) + b (w = link bits) holds
			    * the rows' u16 tags (the 16 hash bits that follow each row's
			    * key, wrapping past bit 255), then from byte 2 hi + b the bits
			    * [w lo, w hi) of the table's links, row r's link at bit w r
			    * (little-endian); 8 zero bytes end it: 2 n + (w n >> 3) +
			    * buckets + 8 bytes */
	SEC_MIH_IDS = 11,  /* version 2 only: row numbers */
	SEC_REC_OFF = 12,  /* count + 1 u64 offsets into SEC_REC_DATA */
	SEC_REC_DATA = 13,
	SEC_META = 14,	  /* "key=value\n" text */
	SEC_MIH_EXC = 15, /* arg = table: count rows whose link is all one bits, 8 bytes
			   * each (u32 row of the table, u32 row of the next), sorted by row */
};

/* The PDQ tables (multi-index hashing, hashdb_near.c) cut the 256 bits into m
 * contiguous keys; table i's rows are the hashes in order of key i (bucket i holds the
 * hashes whose key i is the bucket number; inside a bucket, table 0's order). The
 * tables are read as a ring, table m-1 followed by table 0, and hold the hashes
 * themselves: a row of table i has its key (the bucket), its tag (the 16 bits after the
 * key, which begin the next key) and a link to the same hash's row in table j = i+1.
 * The tag names its group of buckets there (hdb_group); the link's high bits pick the
 * bucket in the group (the next key's bits past the tag, none for keys of 16 bits or
 * fewer), its low rbits the distance from the row predicted by the row's own place:
 * both tables order a bucket's rows by table 0's order, so row k of the s rows of its
 * bucket (in table 0: row k of all s) sits about (k + 1/2) / s of the way through its
 * bucket of table j (hdb_link_pred). The distance is stored zigzagged (hdb_zigzag); a
 * link of all one bits is in the table's SEC_MIH_EXC. At 10 million hashes a link
 * takes 7 bits where a row number would take 24. Following the links from any row
 * through the m tables spells the whole hash and reaches its row of table 0, which
 * numbers the hash. */

/* Digest tables. */
enum { T_MD5 = 0, T_SHA1 = 1, T_SHA256 = 2, T_PDQ = 3, T_COUNT = 4 };

/* Sets: string refs name, format, scheme, role, sources (u32 each), u32 flags
 * (bit 0 ignorable), i64 imported, u64 entries, n_md5, n_sha1, n_sha256, n_pdq,
 * low_quality, then zeros. */
#define SET_SIZE 128
enum {
	SET_NAME = 0,
	SET_FORMAT = 4,
	SET_SCHEME = 8,
	SET_ROLE = 12,
	SET_SOURCES = 16,
	SET_FLAGS = 20,
	SET_IMPORTED = 24,
	SET_ENTRIES = 32,
	SET_N = 40, /* 4 x u64: md5, sha1, sha256, pdq */
	SET_LOWQ = 72,
};
#define CLASS_SIZE 16

/* Record: u32 class, u8 has (KS_HAS_*), u8 flags (REC_*), then the digests present in
 * the order md5, sha1, sha256, pdq, then i64 size, u8 distributed, u8 quality as
 * flagged, then name, series, photodna as flagged, each u32 length + bytes + NUL. */
enum {
	REC_SIZE = 1,
	REC_DIST = 2,
	REC_QUALITY = 4,
	REC_NAME = 8,
	REC_SERIES = 16,
	REC_PHOTODNA = 32,
};
#define REC_MAX_STRING 65536

#define MIH_MAX_TABLES 32

static inline uint32_t hdb_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t hdb_le64(const uint8_t *p)
{
	return (uint64_t)hdb_le32(p) | (uint64_t)hdb_le32(p + 4) << 32;
}

static inline void hdb_put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void hdb_put64(uint8_t *p, uint64_t v)
{
	hdb_put32(p, (uint32_t)v);
	hdb_put32(p + 4, (uint32_t)(v >> 32));
}

static inline unsigned hdb_digest_len(int table)
{
	return table == T_MD5 ? 16 : table == T_SHA1 ? 20 : 32;
}

/* The home slots of a digest table of n rows: n / 0.85, rounded up. */
static inline uint64_t hdb_homes(uint64_t n)
{
	return n + (n * 3 + 16) / 17 + 1;
}

/* The home of a digest whose first 8 bytes, read big-endian, are k0, among homes slots:
 * k0's share of them, floor(k0 * homes / 2^64). */
static inline uint64_t hdb_home(uint64_t k0, uint64_t homes)
{
#ifdef __SIZEOF_INT128__
	return (uint64_t)(((unsigned __int128)k0 * homes) >> 64);
#else
	uint64_t a = k0 >> 32, b = k0 & 0xFFFFFFFFu, c = homes >> 32, d = homes & 0xFFFFFFFFu;
	uint64_t bd = b * d, ad = a * d, bc = b * c;
	uint64_t mid = (bd >> 32) + (ad & 0xFFFFFFFFu) + (bc & 0xFFFFFFFFu);
	return a * c + (ad >> 32) + (bc >> 32) + (mid >> 32);
#endif
}

/* Bits [off, off + len) of a 32-byte hash read as a big-endian integer (len <= 32);
 * bit offsets wrap past 255 to 0. */
static inline uint32_t hdb_bits(const uint8_t *h, unsigned off, unsigned len)
{
	off &= 255;
	unsigned byte = off >> 3, sh = off & 7;
	uint64_t v = 0;
	for (unsigned i = 0; i < 5; i++)
		v = v << 8 | h[(byte + i) & 31];
	return (uint32_t)((v >> (40 - sh - len)) & ((1ull << len) - 1));
}

/* Sets bits [off, off + len) of a 32-byte hash to v (the inverse of hdb_bits). */
static inline void hdb_put_bits(uint8_t *h, unsigned off, unsigned len, uint32_t v)
{
	off &= 255;
	unsigned byte = off >> 3, sh = 40 - (off & 7) - len;
	uint64_t val = (uint64_t)v << sh, mask = ((1ull << len) - 1) << sh;
	for (unsigned i = 0; i < 5; i++) {
		uint8_t mb = (uint8_t)(mask >> (32 - 8 * i));
		if (mb) {
			uint8_t *p = &h[(byte + i) & 31];
			*p = (uint8_t)((*p & ~mb) | ((uint8_t)(val >> (32 - 8 * i)) & mb));
		}
	}
}

#define MIH_TAG_BITS 16
#define MIH_MAX_KEY_BITS 20 /* directories of at most 4 MiB a table */
#define MIH_MIN_TABLES 13   /* 256 / 13 rounds up to 20 bits */
#define MIH_ENTRY_BYTES 48  /* the PDQ tables stay within this an entry where they can */
#define MIH_EXC_SHARE 1024  /* links left to SEC_MIH_EXC: at most 1 in this many rows */

/* The substring tables for n PDQ hashes whose payloads take pay_bytes each: m tables
 * (0 = chosen from n) cutting the 256 bits into contiguous keys, longer ones first. */
struct hdb_mih_shape {
	int m;
	uint16_t off[MIH_MAX_TABLES];
	uint8_t len[MIH_MAX_TABLES];
};
void hdb_mih_shape(uint64_t n, int m, unsigned pay_bytes, struct hdb_mih_shape *out);

/* The group a tag names in a table of key bits len: its first bucket and bucket count. */
static inline uint32_t hdb_group(unsigned len, uint32_t tag, uint32_t *nb)
{
	if (len <= MIH_TAG_BITS) {
		*nb = 1;
		return tag >> (MIH_TAG_BITS - len);
	}
	*nb = 1u << (len - MIH_TAG_BITS);
	return tag << (len - MIH_TAG_BITS);
}

/* The bits before the residue in a link into a table of key bits len. */
static inline unsigned hdb_link_sub_bits(unsigned len)
{
	return len > MIH_TAG_BITS ? len - MIH_TAG_BITS : 0;
}

/* Where row p of table i, in its bucket [lo, hi) of a table of n rows, predicts its
 * hash's row in the bucket [nlo, nhi) of the next table: as far through it as p is
 * through its bucket (through all n rows in table 0, whose order is the rows' own). */
static inline uint64_t hdb_link_pred(int i, uint64_t p, uint64_t lo, uint64_t hi, uint64_t n,
				     uint64_t nlo, uint64_t nhi)
{
	uint64_t k = i ? p - lo : p, s = i ? hi - lo : n;
	return nlo + ((2 * k + 1) * (nhi - nlo)) / (2 * s);
}

/* 0, -1, 1, -2, 2, ... as 0, 1, 2, 3, 4, ... */
static inline uint64_t hdb_zigzag(int64_t r)
{
	return ((uint64_t)r << 1) ^ (uint64_t)(r >> 63);
}

static inline int64_t hdb_unzigzag(uint64_t z)
{
	return (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
}

/* The w bits (1-32) from bit `bit` on of p (which has 8 bytes to spare after them). */
static inline uint32_t hdb_field(const uint8_t *p, uint64_t bit, unsigned w)
{
	uint64_t v = 0;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	memcpy(&v, p + (bit >> 3), 8);
#else
	for (unsigned k = 0; k < 8; k++)
		v |= (uint64_t)p[(bit >> 3) + k] << (8 * k);
#endif
	return (uint32_t)((v >> (bit & 7)) & ((1ull << w) - 1));
}

#endif
