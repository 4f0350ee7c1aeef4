/* Reading an index file: mmap it read-only, check the header, the section table and
 * the shape of every section (so that a damaged or hostile file can give wrong answers
 * at worst, never a read outside the map), then answer exact lookups from the sorted
 * digest tables from each digest's home slot, decode records, and walk entries for
 * export. Near lookup of PDQ hashes is in hashdb_near.c. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hashdb_int.h"

static const unsigned table_bit[T_COUNT] = {KS_HAS_MD5, KS_HAS_SHA1, KS_HAS_SHA256, KS_HAS_PDQ};

struct sec {
	uint32_t kind, arg;
	uint64_t off, size, count;
	const uint8_t *sha;
};

static void sec_at(const struct ks_hashdb *db, uint32_t i, struct sec *s)
{
	const uint8_t *e = db->sect + (size_t)i * HDB_SECTION_SIZE;
	s->kind = hdb_le32(e);
	s->arg = hdb_le32(e + 4);
	s->off = hdb_le64(e + 8);
	s->size = hdb_le64(e + 16);
	s->count = hdb_le64(e + 24);
	s->sha = e + 32;
}

static const char *kind_name(uint32_t kind)
{
	static const char *const names[] = {"?",
					    "strings",
					    "sets",
					    "classes",
					    "rows",
					    "digest table shape",
					    "pdq hashes",
					    "pdq payloads",
					    "pdq tables",
					    "pdq table directory",
					    "pdq table tags",
					    "pdq table row numbers",
					    "record offsets",
					    "records",
					    "meta",
					    "pdq table link exceptions"};
	return kind < sizeof names / sizeof names[0] ? names[kind] : "unknown";
}

static int sec_check_sha(const struct ks_hashdb *db, const struct sec *s, struct ks_err *err)
{
	uint8_t md[32];
	unsigned len;
	EVP_Digest(db->map + s->off, (size_t)s->size, md, &len, EVP_sha256(), NULL);
	if (memcmp(md, s->sha, 32) != 0)
		return ks_err_set(err, KS_E_FORMAT,
				  "checksum mismatch in section %s (arg %u) at byte %llu",
				  kind_name(s->kind), s->arg, (unsigned long long)s->off);
	return KS_OK;
}

static const char *str_at(const struct ks_hashdb *db, uint32_t ref)
{
	return ref == HDB_NONE ? NULL : db->strings + ref;
}

static int ref_ok(const struct ks_hashdb *db, uint32_t ref, int null_ok)
{
	return ref == HDB_NONE ? null_ok : ref < db->strings_len;
}

/* A directory of nb + 1 u32 bounds must run from 0 up to n without going down. */
static int dir_ok(const uint8_t *dir, size_t nb, uint64_t n)
{
	uint32_t prev = 0;
	if (hdb_le32(dir) != 0)
		return 0;
	for (size_t k = 1; k <= nb; k++) {
		uint32_t v = hdb_le32(dir + 4 * k);
		if (v < prev)
			return 0;
		prev = v;
	}
	return prev == n;
}

#define BAD(...)                                                                                   \
	do {                                                                                       \
		rc = ks_err_set(err, KS_E_FORMAT, __VA_ARGS__);                                    \
		goto out;                                                                          \
	} while (0)

static int load_sections(struct ks_hashdb *db, unsigned flags, struct ks_err *err)
{
	int rc = KS_OK;
	struct sec s;
	struct sec rows[3] = {{0}}, dirs[3] = {{0}};
	int have_rows[3] = {0}, have_dir[3] = {0};
	struct sec pdq_pay = {0}, mih = {0}, rec_off = {0}, rec_data = {0};
	struct sec mdir[MIH_MAX_TABLES], mrows[MIH_MAX_TABLES], mexc[MIH_MAX_TABLES];
	int have_mdir[MIH_MAX_TABLES] = {0}, have_mrows[MIH_MAX_TABLES] = {0};
	int have_mexc[MIH_MAX_TABLES] = {0};
	const uint8_t *sets = NULL, *classes = NULL;
	uint64_t nsets = 0, ncls = 0;
	uint64_t table_off = hdb_le64(db->map + HDR_TABLE_OFF);

	for (uint32_t i = 0; i < db->nsect; i++) {
		sec_at(db, i, &s);
		if (s.off < HDB_HEADER_SIZE || s.off % HDB_ALIGN || s.off > table_off ||
		    s.size > table_off - s.off)
			BAD("section %u (%s) lies outside the file's data", i, kind_name(s.kind));
		if ((flags & KS_HASHDB_VERIFY) ||
		    (s.kind != SEC_ROWS && s.kind != SEC_PDQ_PAY && s.kind != SEC_MIH_DIR &&
		     s.kind != SEC_MIH_ROWS && s.kind != SEC_MIH_EXC && s.kind != SEC_REC_OFF &&
		     s.kind != SEC_REC_DATA))
			if ((rc = sec_check_sha(db, &s, err)) < 0)
				goto out;
		const uint8_t *p = db->map + s.off;
		switch (s.kind) {
		case SEC_STRINGS:
			if (db->strings || s.size != s.count || (s.size && p[s.size - 1] != 0))
				BAD("bad strings section");
			db->strings = (const char *)p;
			db->strings_len = s.size;
			break;
		case SEC_SETS:
			if (sets || s.count == 0 || s.count > 1u << 20 ||
			    s.size != s.count * SET_SIZE)
				BAD("bad sets section");
			sets = p;
			nsets = s.count;
			break;
		case SEC_CLASSES:
			if (classes || s.count >= HDB_REC_FLAG || s.size != s.count * CLASS_SIZE)
				BAD("bad classes section");
			classes = p;
			ncls = s.count;
			break;
		case SEC_ROWS:
			if (s.arg > T_SHA256 || have_rows[s.arg] || s.count >= (1ull << 40) ||
			    s.size != s.count * (hdb_digest_len((int)s.arg) + 4))
				BAD("bad rows section (table %u)", s.arg);
			rows[s.arg] = s;
			have_rows[s.arg] = 1;
			break;
		case SEC_DIR:
			if (s.arg > T_SHA256 || have_dir[s.arg] || s.size != 16)
				BAD("bad table shape section (table %u)", s.arg);
			dirs[s.arg] = s;
			have_dir[s.arg] = 1;
			break;
		case SEC_PDQ_PAY:
			if (pdq_pay.size || s.count == 0 || s.count > 0xFFFFFFFFull || s.arg < 1 ||
			    s.arg > 4 || s.size != s.count * s.arg)
				BAD("bad PDQ payload section");
			pdq_pay = s;
			break;
		case SEC_MIH:
			if (mih.size || s.count < 1 || s.count > MIH_MAX_TABLES ||
			    s.size != s.count * 8)
				BAD("bad PDQ table section");
			mih = s;
			break;
		case SEC_MIH_DIR:
		case SEC_MIH_ROWS:
		case SEC_MIH_EXC: {
			if (s.arg >= MIH_MAX_TABLES)
				BAD("bad PDQ table number %u", s.arg);
			struct sec *dst = s.kind == SEC_MIH_DIR	   ? &mdir[s.arg]
					  : s.kind == SEC_MIH_ROWS ? &mrows[s.arg]
								   : &mexc[s.arg];
			int *have = s.kind == SEC_MIH_DIR    ? &have_mdir[s.arg]
				    : s.kind == SEC_MIH_ROWS ? &have_mrows[s.arg]
							     : &have_mexc[s.arg];
			if (*have)
				BAD("PDQ table %u has two %s sections", s.arg, kind_name(s.kind));
			*dst = s;
			*have = 1;
			break;
		}
		case SEC_REC_OFF:
			if (rec_off.size || s.count >= HDB_REC_FLAG || s.size != (s.count + 1) * 8)
				BAD("bad record offsets section");
			rec_off = s;
			break;
		case SEC_REC_DATA:
			if (rec_data.size || s.size != s.count)
				BAD("bad records section");
			rec_data = s;
			break;
		default:
			break; /* META, and kinds a later version adds */
		}
	}
	if (!db->strings || !sets || !classes)
		BAD("the strings, sets or classes section is missing");

	db->nsets = (size_t)nsets;
	db->sets = ks_xcalloc(db->nsets, sizeof *db->sets);
	for (size_t i = 0; i < db->nsets; i++) {
		const uint8_t *v = sets + i * SET_SIZE;
		struct ks_hashdb_set *m = &db->sets[i];
		uint32_t r[5] = {hdb_le32(v + SET_NAME), hdb_le32(v + SET_FORMAT),
				 hdb_le32(v + SET_SCHEME), hdb_le32(v + SET_ROLE),
				 hdb_le32(v + SET_SOURCES)};
		if (!ref_ok(db, r[0], 0) || !ref_ok(db, r[1], 1) || !ref_ok(db, r[2], 1) ||
		    !ref_ok(db, r[3], 0) || !ref_ok(db, r[4], 0))
			BAD("set %zu refers to text outside the strings section", i);
		m->name = str_at(db, r[0]);
		m->format = str_at(db, r[1]);
		m->scheme = str_at(db, r[2]);
		m->role = str_at(db, r[3]);
		m->sources = str_at(db, r[4]);
		m->imported = (int64_t)hdb_le64(v + SET_IMPORTED);
		m->entries = hdb_le64(v + SET_ENTRIES);
		m->n_md5 = hdb_le64(v + SET_N);
		m->n_sha1 = hdb_le64(v + SET_N + 8);
		m->n_sha256 = hdb_le64(v + SET_N + 16);
		m->n_pdq = hdb_le64(v + SET_N + 24);
		m->low_quality = hdb_le64(v + SET_LOWQ);
		db->entries += m->entries;
	}
	db->ncls = (size_t)ncls;
	db->cls = ks_xcalloc(db->ncls ? db->ncls : 1, sizeof *db->cls);
	for (size_t i = 0; i < db->ncls; i++) {
		const uint8_t *v = classes + i * CLASS_SIZE;
		uint32_t set = hdb_le32(v), sr = hdb_le32(v + 4), cr = hdb_le32(v + 8);
		if (set >= nsets || !ref_ok(db, sr, 1) || !ref_ok(db, cr, 1))
			BAD("class %zu is damaged", i);
		db->cls[i].set = set;
		db->cls[i].scheme = str_at(db, sr);
		db->cls[i].category = str_at(db, cr);
		db->cls[i].ignorable = hdb_le32(sets + set * SET_SIZE + SET_FLAGS) & 1;
	}

	for (int t = 0; t < 3; t++) {
		struct hdb_table *tb = &db->t[t];
		tb->dlen = hdb_digest_len(t);
		tb->rsz = tb->dlen + 4;
		if (!have_rows[t])
			continue;
		const char *name = t == T_MD5 ? "MD5" : t == T_SHA1 ? "SHA-1" : "SHA-256";
		if (!have_dir[t])
			BAD("the %s table has no shape section", name);
		tb->rows = db->map + rows[t].off;
		tb->slots = rows[t].count;
		tb->homes = hdb_le64(db->map + dirs[t].off);
		tb->n = hdb_le64(db->map + dirs[t].off + 8);
		tb->bytes = rows[t].size + dirs[t].size;
		/* lookups stay inside the slots whatever the homes (the last homes may lie
		 * past the last row); a wrong shape can only give wrong answers */
		if (!tb->slots || tb->homes < 1 || tb->n > tb->slots)
			BAD("the shape of the %s table is damaged", name);
	}

	if (pdq_pay.size || mih.size) {
		if (!pdq_pay.size || !mih.size)
			BAD("the PDQ sections do not fit together");
		db->pdq_pay = db->map + pdq_pay.off;
		db->pay_bytes = pdq_pay.arg;
		db->n_pdq = pdq_pay.count;
		db->m = (int)mih.count;
		db->pdq_bytes = pdq_pay.size + mih.size;
		unsigned next = 0;
		for (int i = 0; i < db->m; i++) {
			const uint8_t *v = db->map + mih.off + 8 * (size_t)i;
			struct hdb_mih *x = &db->mih[i];
			x->off = v[0] | (unsigned)v[1] << 8;
			x->len = v[2];
			x->lw = v[4];
			if (x->off != next || x->len < 1 || x->len > MIH_MAX_KEY_BITS ||
			    x->off + x->len > 256 || v[3] != MIH_TAG_BITS || x->lw < 1 ||
			    x->lw > 32)
				BAD("PDQ table %d has a bad shape", i);
			next = x->off + x->len;
			if (!have_mdir[i] || mdir[i].size != (((uint64_t)1 << x->len) + 1) * 4)
				BAD("PDQ table %d has no directory", i);
			if (!have_mrows[i] || mrows[i].size != 2 * db->n_pdq +
								   ((db->n_pdq * x->lw) >> 3) +
								   ((uint64_t)1 << x->len) + 8)
				BAD("PDQ table %d has no rows", i);
			if (have_mexc[i] && mexc[i].size != mexc[i].count * 8)
				BAD("PDQ table %d has bad link exceptions", i);
			x->dir = db->map + mdir[i].off;
			x->rows = db->map + mrows[i].off;
			x->exc = have_mexc[i] ? db->map + mexc[i].off : NULL;
			x->nexc = have_mexc[i] ? mexc[i].count : 0;
			if (!dir_ok(x->dir, (size_t)1 << x->len, db->n_pdq))
				BAD("the directory of PDQ table %d is damaged", i);
			db->pdq_bytes +=
			    mdir[i].size + mrows[i].size + (have_mexc[i] ? mexc[i].size : 0);
			uint8_t mask[32] = {0};
			for (unsigned k = x->off; k < x->off + x->len; k++)
				mask[k >> 3] |= (uint8_t)(0x80u >> (k & 7));
			hdb_load4(mask, x->mask);
		}
		if (next != 256)
			BAD("the PDQ tables do not cover the 256 bits");
		for (int i = 0; i < db->m; i++) {
			struct hdb_mih *x = &db->mih[i];
			unsigned sub = hdb_link_sub_bits(db->mih[(i + 1) % db->m].len);
			if (x->lw <= sub)
				BAD("PDQ table %d has a bad shape", i);
			x->rb = x->lw - sub;
			x->ones = x->lw == 32 ? 0xFFFFFFFFu : (1u << x->lw) - 1;
		}
	}
	if (rec_off.size || rec_data.size) {
		if (!rec_off.size)
			BAD("records without offsets");
		db->rec_off = db->map + rec_off.off;
		db->nrec = rec_off.count;
		db->rec_data = rec_data.size ? db->map + rec_data.off : db->map;
		db->rec_bytes = rec_data.size;
	}
out:
	return rc;
}

/* The PDQ rows must spell out in table 0's order, which is the hashes' own. */
struct spell_order {
	uint8_t prev[32];
	uint64_t bad;
};

static int spelled_in_order(void *ctx, uint64_t row, const uint8_t hash[32], uint32_t payload)
{
	struct spell_order *o = ctx;
	(void)payload;
	if (row && memcmp(o->prev, hash, 32) > 0) {
		o->bad = row;
		return KS_E_FORMAT;
	}
	memcpy(o->prev, hash, 32);
	return 0;
}

static int check_pdq_order(const struct ks_hashdb *db, struct ks_err *err)
{
	struct spell_order o = {{0}, 0};
	if (hdb_pdq_each(db, spelled_in_order, &o) < 0)
		return ks_err_set(err, KS_E_FORMAT,
				  "the PDQ tables are damaged: row %llu spells a hash out of order",
				  (unsigned long long)o.bad);
	return KS_OK;
}

/* Huge pages for the index (2 MB on x86-64; HUGE_ALIGN is a multiple of every size
 * Linux uses for them). A lookup reads one random place of a table of gigabytes, and
 * on 4 KB pages almost every read adds a page walk; on 2 MB pages the TLB covers
 * gigabytes. The map (of the file, fd >= 0, shared; or anonymous memory, fd < 0) is
 * placed on a HUGE_ALIGN boundary, since a huge page can only map an aligned range, and
 * marked MADV_HUGEPAGE: anonymous memory then gets huge pages as it is filled, and a
 * file's pages, where its file system keeps large folios in the page cache (ext4 since
 * Linux 6.16, XFS), are read in and mapped 2 MB at a time when they are not already
 * cached in small pieces (the builder drops a new index from the cache for that:
 * hashdb_build.c). 100 million MD5s from the map, bench/index in alternating runs:
 * 8.7-8.9M lookups/s batched against 7.0-7.2M on small pages. Elsewhere the hint is
 * ignored and the map works as before. */
#define HUGE_ALIGN ((size_t)2 << 20)

static void *map_huge(size_t size, int prot, int fd)
{
	int anon = fd < 0 ? MAP_PRIVATE | MAP_ANONYMOUS : MAP_SHARED;
	if (size < 2 * HUGE_ALIGN)
		return mmap(NULL, size, prot, anon, fd, 0);
	/* reserve size + HUGE_ALIGN, place the map at the first boundary inside, and give
	 * back the head and tail of the reserve */
	size_t span = size + HUGE_ALIGN;
	uint8_t *res = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (res == MAP_FAILED)
		return MAP_FAILED;
	uint8_t *at = (uint8_t *)(((uintptr_t)res + HUGE_ALIGN - 1) & ~(uintptr_t)(HUGE_ALIGN - 1));
	void *map = mmap(at, size, prot, anon | MAP_FIXED, fd, 0);
	if (map == MAP_FAILED) {
		int e = errno;
		munmap(res, span);
		errno = e;
		return MAP_FAILED;
	}
	if (at > res)
		munmap(res, (size_t)(at - res));
	size_t page = (size_t)sysconf(_SC_PAGESIZE), end = (size + page - 1) & ~(page - 1);
	if (at + end < res + span)
		munmap(at + end, (size_t)(res + span - (at + end)));
	madvise(map, size, MADV_HUGEPAGE); /* best effort */
	return map;
}

int ks_hashdb_open(const char *path, unsigned flags, struct ks_hashdb **out, struct ks_err *err)
{
	struct ks_err local;
	if (!err)
		err = &local;
	*out = NULL;
	int rc = KS_OK;
	struct ks_hashdb *db = ks_xcalloc(1, sizeof *db);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = ks_err_set(err, errno == ENOENT ? KS_E_NOTFOUND : KS_E_ENV,
				"%s: cannot open: %s", path, strerror(errno));
		goto out;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = ks_err_set(err, KS_E_USAGE, "%s: not a regular file", path);
		goto out;
	}
	if ((uint64_t)st.st_size < HDB_HEADER_SIZE) {
		rc = ks_err_set(err, KS_E_FORMAT, "%s: not a kestrel index (too short)", path);
		goto out;
	}
	db->size = (size_t)st.st_size;
	void *map;
	if (flags & KS_HASHDB_PRELOAD) {
		/* private anonymous memory on huge pages, read in from the file: random
		 * lookups then miss the TLB far less often than on small pages (a 2-3x
		 * difference on virtual machines) */
		map = map_huge(db->size, PROT_READ | PROT_WRITE, -1);
		if (map == MAP_FAILED) {
			rc = ks_err_set(err, KS_E_ENV, "%s: cannot hold %zu bytes: %s", path,
					db->size, strerror(errno));
			goto out;
		}
		db->map = map;
		for (size_t o = 0; o < db->size;) {
			size_t want = db->size - o < (64u << 20) ? db->size - o : (64u << 20);
			ssize_t got = pread(fd, (uint8_t *)map + o, want, (off_t)o);
			if (got <= 0) {
				rc = ks_err_set(err, KS_E_ENV, "%s: read: %s", path,
						got < 0 ? strerror(errno) : "short file");
				goto out;
			}
			o += (size_t)got;
		}
		mprotect(map, db->size, PROT_READ);
	} else {
		map = map_huge(db->size, PROT_READ, fd);
		if (map == MAP_FAILED) {
			rc = ks_err_set(err, KS_E_ENV, "%s: mmap: %s", path, strerror(errno));
			goto out;
		}
		db->map = map;
	}
	const uint8_t *h = db->map;
	if (memcmp(h + HDR_MAGIC, HDB_MAGIC, 8) != 0) {
		rc = ks_err_set(err, KS_E_FORMAT, "%s: not a kestrel index (bad magic)", path);
		goto out;
	}
	db->version = hdb_le32(h + HDR_VERSION);
	if (db->version != HDB_VERSION) {
		rc =
		    ks_err_set(err, KS_E_UNSUPPORTED,
			       "%s: index format version %u; this kestrel reads version %d%s", path,
			       db->version, HDB_VERSION,
			       db->version < HDB_VERSION
				   ? " (rebuild it from its hash sets with `kestrel hashset build`)"
				   : "");
		goto out;
	}
	uint8_t md[32];
	unsigned mdlen;
	EVP_Digest(h, HDR_SHA, md, &mdlen, EVP_sha256(), NULL);
	if (memcmp(md, h + HDR_SHA, 32) != 0 || hdb_le32(h + HDR_HSIZE) != HDB_HEADER_SIZE) {
		rc = ks_err_set(err, KS_E_FORMAT, "%s: the header is damaged (checksum)", path);
		goto out;
	}
	if (hdb_le64(h + HDR_FILESIZE) != (uint64_t)db->size) {
		rc = ks_err_set(err, KS_E_FORMAT,
				"%s: the file is %llu bytes but its header says %llu (truncated?)",
				path, (unsigned long long)db->size,
				(unsigned long long)hdb_le64(h + HDR_FILESIZE));
		goto out;
	}
	db->created = (int64_t)hdb_le64(h + HDR_CREATED);
	db->nsect = hdb_le32(h + HDR_NSECT);
	uint64_t toff = hdb_le64(h + HDR_TABLE_OFF);
	if (db->nsect > HDB_MAX_SECTIONS || toff < HDB_HEADER_SIZE || toff > db->size ||
	    (uint64_t)db->nsect * HDB_SECTION_SIZE > db->size - toff) {
		rc = ks_err_set(err, KS_E_FORMAT, "%s: the section table is out of place", path);
		goto out;
	}
	db->sect = db->map + toff;
	EVP_Digest(db->sect, (size_t)db->nsect * HDB_SECTION_SIZE, md, &mdlen, EVP_sha256(), NULL);
	if (memcmp(md, h + HDR_TABLE_SHA, 32) != 0) {
		rc = ks_err_set(err, KS_E_FORMAT, "%s: the section table is damaged (checksum)",
				path);
		goto out;
	}
	if ((rc = load_sections(db, flags, err)) < 0) {
		ks_err_prefix(err, "%s", path);
		goto out;
	}
#if defined(__x86_64__) || defined(__i386__)
	db->fast = !__builtin_cpu_supports("popcnt") ? 0 : __builtin_cpu_supports("avx2") ? 2 : 1;
#endif
	if ((flags & KS_HASHDB_VERIFY) && (rc = check_pdq_order(db, err)) < 0) {
		ks_err_prefix(err, "%s", path);
		goto out;
	}
	*out = db;
	db = NULL;
out:
	if (fd >= 0)
		close(fd);
	ks_hashdb_close(db);
	return rc;
}

void ks_hashdb_close(struct ks_hashdb *db)
{
	if (!db)
		return;
	if (db->map)
		munmap((void *)db->map, db->size);
	free(db->sets);
	free(db->cls);
	free(db);
}

int ks_hashdb_verify(const struct ks_hashdb *db, struct ks_err *err)
{
	for (uint32_t i = 0; i < db->nsect; i++) {
		struct sec s;
		sec_at(db, i, &s);
		int rc = sec_check_sha(db, &s, err);
		if (rc < 0)
			return rc;
	}
	return check_pdq_order(db, err);
}

void ks_hashdb_get_info(const struct ks_hashdb *db, struct ks_hashdb_info *out)
{
	memset(out, 0, sizeof *out);
	out->version = db->version;
	out->file_size = db->size;
	out->created = db->created;
	out->nsets = db->nsets;
	out->n_md5 = db->t[T_MD5].n;
	out->n_sha1 = db->t[T_SHA1].n;
	out->n_sha256 = db->t[T_SHA256].n;
	out->n_pdq = db->n_pdq;
	out->records = db->nrec;
	out->entries = db->entries;
	out->mih_tables = db->n_pdq ? db->m : 0;
	out->bytes_md5 = db->t[T_MD5].bytes;
	out->bytes_sha1 = db->t[T_SHA1].bytes;
	out->bytes_sha256 = db->t[T_SHA256].bytes;
	out->bytes_pdq = db->pdq_bytes;
}

const struct ks_hashdb_set *ks_hashdb_set_at(const struct ks_hashdb *db, size_t i)
{
	return db && i < db->nsets ? &db->sets[i] : NULL;
}

/* ---- records ----------------------------------------------------------------------- */

/* Bounds of record r in the data section; 0 if damaged. */
static int rec_span(const struct ks_hashdb *db, uint64_t r, const uint8_t **p, size_t *n)
{
	if (r >= db->nrec)
		return 0;
	uint64_t a = hdb_le64(db->rec_off + 8 * r), b = hdb_le64(db->rec_off + 8 * (r + 1));
	if (a > b || b > db->rec_bytes || b - a < 6)
		return 0;
	*p = db->rec_data + a;
	*n = (size_t)(b - a);
	return 1;
}

static int rec_class(const struct ks_hashdb *db, uint64_t r, uint32_t *cls)
{
	const uint8_t *p;
	size_t n;
	if (!rec_span(db, r, &p, &n))
		return 0;
	*cls = hdb_le32(p);
	return *cls < db->ncls;
}

/* Decodes record r into e (strings point into the map). 0 if damaged. */
static int rec_decode(const struct ks_hashdb *db, uint64_t r, struct ks_hash_entry *e,
		      uint32_t *cls)
{
	const uint8_t *p;
	size_t n, i = 6;
	if (!rec_span(db, r, &p, &n))
		return 0;
	memset(e, 0, sizeof *e);
	e->size = -1;
	e->distributed = -1;
	e->pdq_quality = -1;
	*cls = hdb_le32(p);
	if (*cls >= db->ncls)
		return 0;
	unsigned has = p[4], flags = p[5];
	if (!has || (has & ~15u))
		return 0;
	e->has = has;
	uint8_t *dst[4] = {e->md5, e->sha1, e->sha256, e->pdq};
	for (int t = 0; t < T_COUNT; t++) {
		if (!(has & table_bit[t]))
			continue;
		size_t l = hdb_digest_len(t);
		if (n - i < l)
			return 0;
		memcpy(dst[t], p + i, l);
		i += l;
	}
	if (flags & REC_SIZE) {
		if (n - i < 8)
			return 0;
		e->size = (int64_t)hdb_le64(p + i);
		i += 8;
	}
	if (flags & REC_DIST) {
		if (n - i < 1)
			return 0;
		e->distributed = p[i++] ? 1 : 0;
	}
	if (flags & REC_QUALITY) {
		if (n - i < 1)
			return 0;
		e->pdq_quality = p[i++];
	}
	const char **str[3] = {&e->name, &e->series, &e->photodna};
	static const unsigned sflag[3] = {REC_NAME, REC_SERIES, REC_PHOTODNA};
	for (int k = 0; k < 3; k++) {
		if (!(flags & sflag[k]))
			continue;
		if (n - i < 4)
			return 0;
		uint32_t l = hdb_le32(p + i);
		i += 4;
		if (l > REC_MAX_STRING || n - i < (size_t)l + 1 || p[i + l] != 0)
			return 0;
		*str[k] = (const char *)p + i;
		i += (size_t)l + 1;
	}
	e->scheme = db->cls[*cls].scheme;
	e->category = db->cls[*cls].category;
	return 1;
}

int hdb_report(const struct ks_hashdb *db, unsigned table, const uint8_t *digest, uint32_t payload,
	       uint64_t row, int distance, ks_hashdb_hit_fn fn, void *ctx)
{
	uint32_t cls;
	uint64_t ref;
	if (payload & HDB_REC_FLAG) {
		uint32_t r = payload & ~HDB_REC_FLAG;
		if (!rec_class(db, r, &cls))
			return 0;
		ref = (uint64_t)1 << 63 | r;
	} else {
		cls = payload;
		if (cls >= db->ncls)
			return 0;
		ref = (uint64_t)(table + 1) << 40 | row;
	}
	if (fn) {
		const struct hdb_class *c = &db->cls[cls];
		struct ks_hashdb_hit h = {.kind = table_bit[table],
					  .hash = digest,
					  .distance = distance,
					  .set = c->set,
					  .ignorable = c->ignorable,
					  .scheme = c->scheme,
					  .category = c->category,
					  .ref = ref};
		fn(ctx, &h);
	}
	return 1;
}

/* ---- exact lookup -------------------------------------------------------------------- */

static inline uint64_t be64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

/* Finding a key (hashdb_format.h): every row equal to it lies at or after its home slot,
 * and the slots are sorted, so the rows sought start at the first slot from the home on
 * whose first 8 bytes are not less than the key's. At the tables' 85% load that slot is
 * among the WIN = 6 slots from the home 84% of the time (8: 92%, 12: 98%, measured over
 * 100 million MD5s): they are read in one place (2-3 cache lines of one page) and counted
 * without a branch, and only when every one is less is the table searched further, by
 * galloping from the window's end. 6 rather than 8: a batch fetches 2.8 lines a query
 * where 8 slots took 3.4, and its misses cost little (below); 1.1x the batch's rate in
 * alternating runs, single lookups unchanged. */
#define WIN 6

/* The first slot of key k0's window (tb->slots >= WIN): its home, or the last WIN slots. */
static inline uint64_t key_window(const struct hdb_table *tb, uint64_t k0)
{
	uint64_t h = hdb_home(k0, tb->homes);
	return h < tb->slots - WIN ? h : tb->slots - WIN;
}

/* The first slot from lo on whose first 8 bytes are not less than k0, all slots before
 * lo being less: a gallop (1, 2, 4... slots on) to bracket it, then bisection. */
static uint64_t key_gallop(const struct hdb_table *tb, uint64_t lo, uint64_t k0)
{
	uint64_t hi = tb->slots, step = 1;
	while (lo + step - 1 < hi) {
		uint64_t probe = lo + step - 1;
		if (be64(tb->rows + probe * tb->rsz) >= k0) {
			hi = probe;
			break;
		}
		lo = probe + 1;
		step *= 2;
	}
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;
		if (be64(tb->rows + mid * tb->rsz) < k0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* How many of the WIN slots from slot a have first 8 bytes less than k0 (no branch). */
static inline unsigned key_count(const struct hdb_table *tb, uint64_t a, uint64_t k0)
{
	const uint8_t *p = tb->rows + a * tb->rsz;
	unsigned c = 0;
	for (unsigned k = 0; k < WIN; k++)
		c += be64(p + k * tb->rsz) < k0;
	return c;
}

/* The first slot whose first 8 bytes are not less than k0, from the window at slot a
 * of which c are less: within it, or found by galloping on from its end. */
static inline uint64_t key_from(const struct hdb_table *tb, uint64_t a, unsigned c, uint64_t k0)
{
	return c < WIN ? a + c : key_gallop(tb, a + WIN, k0);
}

/* The same, the window counted here. */
static inline uint64_t key_first(const struct hdb_table *tb, uint64_t a, uint64_t k0)
{
	return key_from(tb, a, key_count(tb, a, k0), k0);
}

/* Compares len bytes (8, 12 or 24: the digests' bytes after their first 8) as
 * memcmp's sign does, in words read big-endian (memcmp is a call, here in the hot loop
 * of every lookup that finds its first 8 bytes). A last part word is compared as the
 * last 8 bytes, whose first ones are equal by then. */
static inline int tail_cmp(const uint8_t *a, const uint8_t *b, unsigned len)
{
	for (unsigned i = 0; i < len; i += 8) {
		unsigned o = i + 8 <= len ? i : len - 8;
		uint64_t x = be64(a + o), y = be64(b + o);
		if (x != y)
			return x < y ? -1 : 1;
	}
	return 0;
}

/* Reports the rows from slot r on that hold the key (they share its first 8 bytes k0,
 * and are in order of the rest; fillers among them are passed over). */
static int key_report(const struct ks_hashdb *db, unsigned t, uint64_t r, uint64_t k0,
		      const uint8_t *key, ks_hashdb_hit_fn fn, void *ctx)
{
	const struct hdb_table *tb = &db->t[t];
	int hits = 0;
	for (; r < tb->slots; r++) {
		const uint8_t *row = tb->rows + r * tb->rsz;
		if (be64(row) != k0)
			break;
		int c = tail_cmp(row + 8, key + 8, tb->dlen - 8);
		if (c > 0)
			break;
		uint32_t payload = hdb_le32(row + tb->dlen);
		if (c == 0 && payload != HDB_FILLER)
			hits += hdb_report(db, t, row, payload, r, 0, fn, ctx);
	}
	return hits;
}

int ks_hashdb_lookup(const struct ks_hashdb *db, unsigned kind, const uint8_t *digest,
		     ks_hashdb_hit_fn fn, void *ctx)
{
	if (!db || !digest)
		return 0;
	if (kind == KS_HAS_PDQ) /* the tables hold the hashes: a search at radius 0 */
		return hdb_near_mih(db, digest, 0, fn, ctx);
	int t = kind == KS_HAS_MD5	? T_MD5
		: kind == KS_HAS_SHA1	? T_SHA1
		: kind == KS_HAS_SHA256 ? T_SHA256
					: -1;
	if (t < 0)
		return 0;
	const struct hdb_table *tb = &db->t[t];
	if (!tb->slots)
		return 0;
	uint64_t k0 = be64(digest);
	uint64_t r =
	    tb->slots < WIN ? key_gallop(tb, 0, k0) : key_first(tb, key_window(tb, k0), k0);
	return key_report(db, (unsigned)t, r, k0, digest, fn, ctx);
}

void hdb_batch_hit(void *vctx, const struct ks_hashdb_hit *h)
{
	struct hdb_batch *b = vctx;
	if (b->fn)
		b->fn(b->ctx, b->query, h);
}

/* Batched lookups run as a software pipeline over chunks of CHUNK queries, in tight
 * passes: chunk c's windows are prefetched, and chunk c - 1's counted and reported from
 * the cache. Each query costs one place of the file; tight passes keep many of them in
 * flight at once (a fetch that misses the TLB holds up retirement until its walk is
 * done, so the fewer instructions between two fetches, and the fewer mispredicted
 * branches, the more of them overlap). A query whose window is all less than its key
 * (16% at the tables' load) would stall on the slots after it: their window is
 * prefetched instead, and they are finished a round later, after chunk c + 1's
 * prefetches (so fn may see queries out of order); 2% of queries go on past that
 * second window. */
#define CHUNK 64
#define RING (3 * CHUNK)

/* Prefetches the WIN slots from slot a: every cache line of them. */
HDB_PREFETCHER void window_fetch(const struct hdb_table *tb, uint64_t a)
{
	const uint8_t *p = tb->rows + a * tb->rsz;
	size_t span = WIN * tb->rsz;
	for (size_t o = 0; o < span; o += 64)
		__builtin_prefetch(p + o);
	__builtin_prefetch(p + span - 1);
}

int ks_hashdb_lookup_batch(const struct ks_hashdb *db, unsigned kind, const uint8_t *digests,
			   size_t n, ks_hashdb_batch_fn fn, void *ctx)
{
	int t = kind == KS_HAS_MD5	? T_MD5
		: kind == KS_HAS_SHA1	? T_SHA1
		: kind == KS_HAS_SHA256 ? T_SHA256
					: -1;
	if (!db || !digests)
		return 0;
	struct hdb_batch b = {fn, ctx, 0};
	int hits = 0;
	const struct hdb_table *tb = t < 0 ? NULL : &db->t[t];
	if (t < 0 || tb->slots < WIN) {
		size_t len = t < 0 ? 32 : tb->dlen;
		for (size_t i = 0; i < n; i++) {
			b.query = i;
			hits += ks_hashdb_lookup(db, kind, digests + len * i, hdb_batch_hit, &b);
		}
		return hits;
	}
	const size_t dlen = tb->dlen;
	uint64_t k0[RING], at[RING];
	size_t late[2][CHUNK], nlate[2] = {0, 0}; /* the queries finished a round later */
	for (size_t base = 0, round = 0; base < n + 2 * CHUNK; base += CHUNK, round ^= 1) {
		/* pass 1: chunk [base, base + CHUNK)'s windows, every cache line of them */
		for (size_t q = base; q < base + CHUNK && q < n; q++) {
			uint64_t v = be64(digests + q * dlen), a = key_window(tb, v);
			k0[q % RING] = v;
			at[q % RING] = a;
			window_fetch(tb, a);
		}
		/* pass 2: the last round's late queries, from the window after their first */
		for (size_t i = 0; i < nlate[round ^ 1]; i++) {
			size_t q = late[round ^ 1][i], j = q % RING;
			uint64_t r = key_first(tb, at[j], k0[j]);
			b.query = q;
			hits += key_report(db, (unsigned)t, r, k0[j], digests + q * dlen,
					   hdb_batch_hit, &b);
		}
		nlate[round ^ 1] = 0;
		/* pass 3: the chunk before, counted and reported, or made late */
		for (size_t q = base >= CHUNK ? base - CHUNK : n; q < base && q < n; q++) {
			size_t j = q % RING;
			unsigned c = key_count(tb, at[j], k0[j]);
			if (c == WIN && at[j] + 2 * WIN <= tb->slots) {
				at[j] += WIN;
				window_fetch(tb, at[j]);
				late[round][nlate[round]++] = q;
				continue;
			}
			uint64_t r = key_from(tb, at[j], c, k0[j]);
			b.query = q;
			hits += key_report(db, (unsigned)t, r, k0[j], digests + q * dlen,
					   hdb_batch_hit, &b);
		}
	}
	return hits;
}

int ks_hashdb_entry(const struct ks_hashdb *db, const struct ks_hashdb_hit *hit,
		    struct ks_hash_entry *out)
{
	uint32_t cls;
	if (hit->ref >> 63) {
		if (!rec_decode(db, hit->ref & 0x7FFFFFFFull, out, &cls))
			return KS_E_FORMAT;
		return KS_OK;
	}
	memset(out, 0, sizeof *out);
	out->size = -1;
	out->distributed = -1;
	out->pdq_quality = -1;
	out->has = hit->kind;
	uint8_t *dst = hit->kind == KS_HAS_MD5	    ? out->md5
		       : hit->kind == KS_HAS_SHA1   ? out->sha1
		       : hit->kind == KS_HAS_SHA256 ? out->sha256
						    : out->pdq;
	unsigned len = hit->kind == KS_HAS_MD5 ? 16 : hit->kind == KS_HAS_SHA1 ? 20 : 32;
	memcpy(dst, hit->hash, len);
	out->scheme = hit->scheme;
	out->category = hit->category;
	return KS_OK;
}

struct each_ctx {
	const struct ks_hashdb *db;
	int set;
	int (*fn)(void *ctx, uint32_t set, const struct ks_hash_entry *e);
	void *ctx;
	struct ks_err *err;
};

/* A row on its own (not a record's) as an entry of its set. */
static int each_row(struct each_ctx *c, unsigned t, uint64_t i, const uint8_t *digest, uint32_t pay)
{
	const struct ks_hashdb *db = c->db;
	if (pay & HDB_REC_FLAG)
		return KS_OK; /* the record was delivered above */
	if (pay >= db->ncls)
		return ks_err_set(c->err, KS_E_FORMAT, "row %llu of table %u is damaged",
				  (unsigned long long)i, t);
	const struct hdb_class *cl = &db->cls[pay];
	if (c->set >= 0 && cl->set != (uint32_t)c->set)
		return KS_OK;
	struct ks_hash_entry e = {.has = table_bit[t],
				  .scheme = cl->scheme,
				  .category = cl->category,
				  .size = -1,
				  .distributed = -1,
				  .pdq_quality = -1};
	uint8_t *dst[4] = {e.md5, e.sha1, e.sha256, e.pdq};
	memcpy(dst[t], digest, hdb_digest_len((int)t));
	return c->fn(c->ctx, cl->set, &e);
}

static int each_pdq(void *ctx, uint64_t row, const uint8_t hash[32], uint32_t payload)
{
	return each_row(ctx, T_PDQ, row, hash, payload);
}

int ks_hashdb_each(const struct ks_hashdb *db, int set,
		   int (*fn)(void *ctx, uint32_t set, const struct ks_hash_entry *e), void *ctx,
		   struct ks_err *err)
{
	int rc;
	for (uint64_t r = 0; r < db->nrec; r++) {
		struct ks_hash_entry e;
		uint32_t cls;
		if (!rec_decode(db, r, &e, &cls))
			return ks_err_set(err, KS_E_FORMAT, "record %llu is damaged",
					  (unsigned long long)r);
		uint32_t s = db->cls[cls].set;
		if (set >= 0 && s != (uint32_t)set)
			continue;
		if ((rc = fn(ctx, s, &e)) < 0)
			return rc;
	}
	struct each_ctx c = {db, set, fn, ctx, err};
	for (int t = 0; t < T_PDQ; t++) {
		for (uint64_t i = 0; i < db->t[t].slots; i++) {
			const uint8_t *digest = db->t[t].rows + i * db->t[t].rsz;
			if ((rc = each_row(&c, (unsigned)t, i, digest,
					   hdb_le32(digest + db->t[t].dlen))) < 0)
				return rc;
		}
	}
	return hdb_pdq_each(db, each_pdq, &c);
}
