/* The index file's layout, shared by the builder and the reader (private to the index
 * layer). All integers little-endian; every section starts on a 64-byte boundary.
 *
 *   header (128 bytes at 0) -> section table (64 bytes per section, at table_off)
 *   sections: STRINGS, SETS, CLASSES, MD5/SHA1/SHA256 slots + shapes, PDQ hashes,
 *   payloads and multi-index tables, records (offsets + data), META.
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
 * key's home, and the first slot not less than the key is within 8 slots of the home
 * 92% of the time at that load: a lookup reads one place of the file (3-4 cache lines,
 * one page walk), whatever the table's size. */
#ifndef KS_HASHDB_FORMAT_H
#define KS_HASHDB_FORMAT_H

#include <stdint.h>

#define HDB_MAGIC "KSHASHDB"
#define HDB_VERSION 2 /* 2: the PDQ tables keep a 16-bit tag per row (v1 files: rebuild) */
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
	SEC_ROWS = 4,	   /* arg = table (T_MD5..T_SHA256): count slots (digest + payload),
			    * rows and fillers */
	SEC_DIR = 5,	   /* arg = table: the table's shape, u64 homes H, u64 rows (the
			    * slots that are not fillers); count 2 */
	SEC_PDQ_HASH = 6,  /* count PDQ hashes, 32 bytes each, sorted */
	SEC_PDQ_PAY = 7,   /* count u32 payloads, parallel to SEC_PDQ_HASH */
	SEC_MIH = 8,	   /* count tables of 8 bytes: u16 bit offset, u8 key bits, u8 tag
			    * bits (16), u8 row-number bytes (0 for table 0, else 3 or 4),
			    * 3 zero */
	SEC_MIH_DIR = 9,   /* arg = table: (1 << key bits) + 1 u32 bucket bounds */
	SEC_MIH_ROWS = 10, /* arg = table: n u16 tags in bucket order, each the 16 hash
			    * bits that follow the row's key (wrapping past bit 255) */
	SEC_MIH_IDS = 11,  /* arg = table >= 1: n PDQ row numbers of 3 or 4 bytes in
			    * bucket order (table 0's order is the hashes' own) */
	SEC_REC_OFF = 12,  /* count + 1 u64 offsets into SEC_REC_DATA */
	SEC_REC_DATA = 13,
	SEC_META = 14, /* "key=value\n" text */
};

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

#define MIH_TAG_BITS 16
#define MIH_MAX_KEY_BITS 20 /* directories of at most 4 MiB a table */
#define MIH_MIN_TABLES 13   /* 256 / 13 rounds up to 20 bits */

/* The substring tables for n PDQ hashes: m tables (0 = chosen from n) cutting the
 * 256 bits into contiguous keys, longer ones first. */
struct hdb_mih_shape {
	int m;
	uint16_t off[MIH_MAX_TABLES];
	uint8_t len[MIH_MAX_TABLES];
};
void hdb_mih_shape(uint64_t n, int m, struct hdb_mih_shape *out);

#endif
