/* Archive expansion through libarchive, from a buffer in memory: zip (read through its
 * central directory, since memory is seekable), tar and its compressed forms, 7z,
 * cpio, ISO 9660, rar, … and a single compressed stream (x.gz) as one member "data".
 * Hands each regular-file member to a callback under limits on member count, member
 * size and expanded bytes, so that a hostile archive (zip bomb, endless entries,
 * broken streams) costs bounded memory and time. */
#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>
#include <string.h>

#include "kestrel/evidence.h"

#define CHUNK 65536
#define MAX_RETRIES 16

struct expand {
	struct ks_archive_limits lim;
	ks_member_fn fn;
	void *ctx;
	uint64_t total;	  /* bytes decompressed so far, delivered or drained */
	uint32_t members; /* regular-file members delivered */
	uint32_t entries; /* headers read, any type */
	int damaged;	  /* a non-fatal error: the archive goes on, the result is EVIDENCE */
	char why[384];	  /* first damage or limit message */
	struct ks_buf path;
	uint8_t *buf;
	size_t cap;
};

static void note_damage(struct expand *x, const char *what, struct archive *a)
{
	const char *m = archive_error_string(a);
	if (!x->damaged)
		snprintf(x->why, sizeof x->why, "%s: %s", what, m ? m : "damaged archive");
	x->damaged = 1;
}

/* Member name as UTF-8 without control characters; "./" prefixes dropped. */
static const char *clean_path(struct expand *x, struct archive_entry *e)
{
	const char *p = archive_entry_pathname_utf8(e);
	if (!p)
		p = archive_entry_pathname(e);
	if (!p)
		p = "";
	while (p[0] == '.' && p[1] == '/')
		p += 2;
	ks_buf_reset(&x->path);
	const unsigned char *s = (const unsigned char *)p;
	while (*s) {
		size_t n = 0;
		if (*s < 0x80)
			n = 1;
		else if ((*s & 0xe0) == 0xc0 && *s >= 0xc2)
			n = 2;
		else if ((*s & 0xf0) == 0xe0)
			n = 3;
		else if ((*s & 0xf8) == 0xf0 && *s <= 0xf4)
			n = 4;
		for (size_t i = 1; i < n; i++) {
			if ((s[i] & 0xc0) != 0x80) {
				n = 0;
				break;
			}
		}
		if (n == 0) {
			ks_buf_adds(&x->path, "\xef\xbf\xbd"); /* U+FFFD for a bad byte */
			s++;
		} else if (n == 1 && (*s < 0x20 || *s == 0x7f)) {
			ks_buf_adds(&x->path, "?");
			s++;
		} else {
			ks_buf_add(&x->path, s, n);
			s += n;
		}
	}
	if (!x->path.data)
		ks_buf_adds(&x->path, "");
	return (const char *)x->path.data;
}

/* Appends n bytes of member data (zeros when p is NULL: a hole in a sparse member):
 * buffered up to max_member_bytes, counted against max_total_bytes. Returns 0, or
 * KS_E_LIMIT when the total budget ran out (what fitted was taken). */
static int member_add(struct expand *x, struct ks_member_info *m, size_t *used, const void *p,
		      size_t n)
{
	int status = KS_OK;
	uint64_t left = x->lim.max_total_bytes - x->total;
	if (n > left) {
		n = (size_t)left;
		m->truncated = 1;
		snprintf(x->why, sizeof x->why, "archive expands to more than %llu bytes",
			 (unsigned long long)x->lim.max_total_bytes);
		status = KS_E_LIMIT;
	}
	x->total += n;
	uint64_t max = x->lim.max_member_bytes;
	size_t take = *used >= max ? 0 : (n < max - *used ? n : (size_t)(max - *used));
	if (take < n)
		m->truncated = 1;
	if (take) {
		if (*used + take > x->cap) {
			size_t ncap = x->cap ? x->cap : CHUNK;
			while (ncap < *used + take)
				ncap *= 2;
			if (ncap > max)
				ncap = (size_t)max;
			x->buf = ks_xrealloc(x->buf, ncap);
			x->cap = ncap;
		}
		if (p)
			memcpy(x->buf + *used, p, take);
		else
			memset(x->buf + *used, 0, take);
		*used += take;
	}
	return status;
}

/* Reads the current member's data and hands it to fn. Returns KS_OK, KS_E_LIMIT (total
 * budget spent), KS_E_EVIDENCE (fatal damage: stop the archive) or what fn returned. */
static int read_member(struct expand *x, struct archive *a, struct archive_entry *e)
{
	struct ks_member_info m = {0};
	size_t used = 0;
	uint64_t lpos = 0; /* logical position in the member */
	int status = KS_OK, warnings = 0;
	char errbuf[256];

	m.path = clean_path(x, e);
	m.mtime = archive_entry_mtime_is_set(e) ? (int64_t)archive_entry_mtime(e) : 0;
	if (archive_entry_is_data_encrypted(e)) {
		m.error = "encrypted member, no passphrase";
		return x->fn(x->ctx, &m, NULL, 0);
	}
	while (status == KS_OK) {
		const void *blk = NULL;
		size_t len = 0;
		la_int64_t boff = 0;
		int r = archive_read_data_block(a, &blk, &len, &boff);
		if (r == ARCHIVE_EOF)
			break;
		if (r >= ARCHIVE_WARN && (len || boff > 0)) {
			if (boff > 0 && (uint64_t)boff > lpos) {
				/* sparse hole; a hostile offset is bounded by the limits */
				uint64_t gap = (uint64_t)boff - lpos;
				while (gap && status == KS_OK) {
					size_t step = gap > CHUNK ? CHUNK : (size_t)gap;
					status = member_add(x, &m, &used, NULL, step);
					gap -= step;
					lpos += step;
				}
			}
			if (status == KS_OK && len) {
				status = member_add(x, &m, &used, blk, len);
				lpos += len;
			}
		}
		if (r == ARCHIVE_OK)
			continue;
		/* WARN: e.g. a CRC mismatch after the data; FAILED/FATAL/RETRY: unreadable */
		const char *why = archive_error_string(a);
		snprintf(errbuf, sizeof errbuf, "%s", why ? why : "damaged member data");
		m.error = errbuf;
		note_damage(x, m.path, a);
		if (r == ARCHIVE_WARN && ++warnings <= MAX_RETRIES)
			continue;
		if (r != ARCHIVE_FAILED && status == KS_OK)
			status = KS_E_EVIDENCE;
		break;
	}
	m.size = used;
	x->members++;
	int rc = x->fn(x->ctx, &m, used ? x->buf : NULL, used);
	return rc < 0 ? rc : status;
}

/* One reading of the buffer: as an archive, or (raw) as a single compressed stream.
 * Returns a status, or 1 when raw found no compression (the input is not a stream). */
static int expand_pass(struct expand *x, const uint8_t *data, size_t len, int raw)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	int status = KS_OK, fails = 0;

	/* The filters libarchive runs in-process. archive_read_support_filter_all would
	 * also register lrzip/grzip/lzop, which run external programs: not on evidence. */
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_bzip2(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_lzma(a);
	archive_read_support_filter_lzip(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_filter_lz4(a);
	archive_read_support_filter_compress(a);
	archive_read_support_filter_uu(a);
	archive_read_support_filter_rpm(a);
	if (raw) {
		archive_read_support_format_raw(a);
	} else {
		archive_read_support_format_all(a);
		archive_read_support_format_7zip(a);
		archive_read_support_format_zip_seekable(a);
	}
	if (archive_read_open_memory(a, data, len) != ARCHIVE_OK) {
		note_damage(x, "not a readable archive", a);
		status = KS_E_EVIDENCE;
		goto out;
	}
	if (raw && archive_filter_code(a, 0) == ARCHIVE_FILTER_NONE) {
		status = 1;
		goto out;
	}
	for (;;) {
		int r = archive_read_next_header(a, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r == ARCHIVE_FATAL) {
			note_damage(x, x->entries ? "after the last good member" : "archive header",
				    a);
			status = KS_E_EVIDENCE;
			break;
		}
		if (r == ARCHIVE_RETRY || r == ARCHIVE_FAILED) {
			note_damage(x, "member header", a);
			if (++fails > MAX_RETRIES) {
				status = KS_E_EVIDENCE;
				break;
			}
			continue;
		}
		fails = 0;
		x->entries++;
		if (archive_entry_filetype(e) != AE_IFREG)
			continue;
		/* A tar hard link without data of its own repeats an earlier member. */
		if (archive_entry_hardlink(e) && archive_entry_size_is_set(e) &&
		    archive_entry_size(e) == 0)
			continue;
		if (x->members >= x->lim.max_members) {
			snprintf(x->why, sizeof x->why, "archive has more than %u members",
				 (unsigned)x->lim.max_members);
			status = KS_E_LIMIT;
			break;
		}
		status = read_member(x, a, e);
		if (status != KS_OK)
			break;
	}
out:
	archive_read_free(a);
	return status;
}

int ks_archive_expand(const uint8_t *data, size_t len, const struct ks_archive_limits *lim,
		      ks_member_fn fn, void *ctx, struct ks_err *err)
{
	struct expand x = {.fn = fn, .ctx = ctx};
	int status;

	if ((!data && len) || !fn)
		return ks_err_set(err, KS_E_USAGE, "ks_archive_expand: no data or callback");
	if (len == 0)
		return ks_err_set(err, KS_E_EVIDENCE, "empty input, not an archive");
	if (lim) {
		x.lim = *lim;
	} else {
		x.lim.max_member_bytes = KS_ARCHIVE_DEFAULT_MEMBER_BYTES;
		x.lim.max_total_bytes = KS_ARCHIVE_DEFAULT_TOTAL_BYTES;
		x.lim.max_members = KS_ARCHIVE_DEFAULT_MEMBERS;
	}

	status = expand_pass(&x, data, len, 0);
	/* Not an archive: perhaps a compressed stream that holds none (photo.jpg.gz). */
	if (status == KS_E_EVIDENCE && x.entries == 0 && x.members == 0) {
		char why[sizeof x.why];
		memcpy(why, x.why, sizeof why);
		x.damaged = 0;
		x.why[0] = '\0';
		status = expand_pass(&x, data, len, 1);
		if (status == 1 || (status == KS_E_EVIDENCE && x.members == 0)) {
			memcpy(x.why, why, sizeof why);
			status = KS_E_EVIDENCE;
		}
	}
	if (status == KS_OK && x.damaged)
		status = KS_E_EVIDENCE;
	if (status == KS_E_EVIDENCE || status == KS_E_LIMIT)
		ks_err_set(err, status, "%s", x.why[0] ? x.why : "damaged archive");
	else if (status < 0)
		ks_err_set(err, status, "archive expansion stopped by the member callback");
	ks_buf_release(&x.path);
	free(x.buf);
	return status;
}
