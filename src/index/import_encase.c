/* EnCase hash sets (.hash, EnCase 4 to 6): a binary file starting "HASH\r\n\xff\0",
 * the entry count (u32 LE) at 0x10, the set's name (UTF-16LE, up to 39 characters)
 * at 0x408 and its EnCase category at 0x458, then from 0x480 one 18-byte entry per
 * file: the MD5 and two bytes we do not use. Entries carry no names or categories: the
 * user gives the category of the whole set. Read in chunks, so memory stays bounded. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "index_int.h"

#define ENCASE_MAGIC "HASH\r\n\xff\0"
#define OFF_COUNT 0x10
#define OFF_NAME 0x408
#define OFF_CATEGORY 0x458
#define OFF_ENTRIES 0x480
#define ENTRY_SIZE 18
#define CHUNK 4096

static int encase_probe(const uint8_t *head, size_t len, const char *path)
{
	return len >= 8 && memcmp(head, ENCASE_MAGIC, 8) == 0 ? 100 : 0;
}

/* UTF-16LE (up to n bytes, stopping at a NUL) as UTF-8 into out. */
static void utf16le(const uint8_t *p, size_t n, struct ks_buf *out)
{
	for (size_t i = 0; i + 1 < n; i += 2) {
		uint32_t c = p[i] | (uint32_t)p[i + 1] << 8;
		if (!c)
			break;
		if (c >= 0xD800 && c < 0xDC00 && i + 3 < n) {
			uint32_t lo = p[i + 2] | (uint32_t)p[i + 3] << 8;
			if (lo >= 0xDC00 && lo < 0xE000) {
				c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
				i += 2;
			} else {
				c = 0xFFFD;
			}
		} else if (c >= 0xD800 && c < 0xE000) {
			c = 0xFFFD;
		}
		if (c < 0x20)
			c = '?';
		char u[4];
		size_t k;
		if (c < 0x80) {
			u[0] = (char)c;
			k = 1;
		} else if (c < 0x800) {
			u[0] = (char)(0xC0 | c >> 6);
			u[1] = (char)(0x80 | (c & 0x3F));
			k = 2;
		} else if (c < 0x10000) {
			u[0] = (char)(0xE0 | c >> 12);
			u[1] = (char)(0x80 | ((c >> 6) & 0x3F));
			u[2] = (char)(0x80 | (c & 0x3F));
			k = 3;
		} else {
			u[0] = (char)(0xF0 | c >> 18);
			u[1] = (char)(0x80 | ((c >> 12) & 0x3F));
			u[2] = (char)(0x80 | ((c >> 6) & 0x3F));
			u[3] = (char)(0x80 | (c & 0x3F));
			k = 4;
		}
		ks_buf_add(out, u, k);
	}
}

/* Opens the file and checks its header; fills count and the header bytes. */
static FILE *open_checked(const char *path, uint8_t hdr[OFF_ENTRIES], uint32_t *count,
			  struct ks_err *err)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		ks_err_set(err, KS_E_ENV, "cannot open: %s", strerror(errno));
		return NULL;
	}
	struct stat st;
	size_t got = fread(hdr, 1, OFF_ENTRIES, f);
	if (fstat(fileno(f), &st) != 0) {
		ks_err_set(err, KS_E_ENV, "cannot stat: %s", strerror(errno));
		goto fail;
	}
	if (got < 8 || memcmp(hdr, ENCASE_MAGIC, 8) != 0) {
		ks_err_set(err, KS_E_FORMAT, "not an EnCase hash set (bad magic at byte 0)");
		goto fail;
	}
	if (got < OFF_ENTRIES) {
		ks_err_set(err, KS_E_FORMAT,
			   "truncated EnCase header: %zu bytes, entries start at byte %d", got,
			   OFF_ENTRIES);
		goto fail;
	}
	*count = hdr[OFF_COUNT] | (uint32_t)hdr[OFF_COUNT + 1] << 8 |
		 (uint32_t)hdr[OFF_COUNT + 2] << 16 | (uint32_t)hdr[OFF_COUNT + 3] << 24;
	uint64_t need = OFF_ENTRIES + (uint64_t)*count * ENTRY_SIZE;
	if ((uint64_t)st.st_size < need) {
		ks_err_set(err, KS_E_FORMAT,
			   "the count at byte 0x10 says %u entries (%llu bytes) but the file has "
			   "%llu bytes",
			   *count, (unsigned long long)need, (unsigned long long)st.st_size);
		goto fail;
	}
	return f;
fail:
	fclose(f);
	return NULL;
}

static int encase_run(const char *path, const struct ks_import_opts *o, ks_entry_fn fn, void *ctx,
		      struct ks_err *err)
{
	struct ks_err local;
	const char *scheme, *category;
	uint8_t hdr[OFF_ENTRIES];
	uint32_t count = 0;
	uint8_t *buf = NULL;
	int rc;
	if (!err)
		err = &local;
	ks_err_clear(err);
	rc = ks_import_fixed_category(o, &scheme, &category, err);
	if (rc < 0)
		return rc;
	FILE *f = open_checked(path, hdr, &count, err);
	if (!f)
		return err->status;
	buf = ks_xmalloc(CHUNK * ENTRY_SIZE);
	for (uint32_t done = 0; done < count;) {
		size_t want = count - done < CHUNK ? count - done : CHUNK;
		size_t got = fread(buf, ENTRY_SIZE, want, f);
		if (got != want) {
			rc = ks_err_set(err, ferror(f) ? KS_E_ENV : KS_E_FORMAT,
					"short read at entry %u (byte %llu)", done + (uint32_t)got,
					(unsigned long long)(OFF_ENTRIES +
							     (uint64_t)(done + got) * ENTRY_SIZE));
			goto out;
		}
		for (size_t k = 0; k < got; k++) {
			struct ks_hash_entry e = {.has = KS_HAS_MD5,
						  .scheme = scheme,
						  .category = category,
						  .size = -1,
						  .distributed = -1};
			memcpy(e.md5, buf + k * ENTRY_SIZE, 16);
			int frc = fn(ctx, &e);
			if (frc < 0) {
				rc = ks_import_stopped(frc, done + k + 1, err);
				goto out;
			}
		}
		done += (uint32_t)got;
	}
	rc = KS_OK;
out:
	free(buf);
	fclose(f);
	return rc;
}

static int encase_describe(const char *path, struct ks_buf *out, struct ks_err *err)
{
	uint8_t hdr[OFF_ENTRIES];
	uint32_t count;
	FILE *f = open_checked(path, hdr, &count, err);
	if (!f)
		return err ? err->status : KS_E_FORMAT;
	fclose(f);
	ks_buf_reset(out);
	utf16le(hdr + OFF_NAME, OFF_CATEGORY - OFF_NAME, out);
	struct ks_buf cat = {0};
	utf16le(hdr + OFF_CATEGORY, OFF_ENTRIES - OFF_CATEGORY, &cat);
	if (cat.len && out->len)
		ks_buf_addf(out, " (%s)", (const char *)cat.data);
	ks_buf_release(&cat);
	return KS_OK;
}

const struct ks_importer_ops ks_import_encase_ops = {"encase", encase_probe, encase_run,
						     encase_describe};
