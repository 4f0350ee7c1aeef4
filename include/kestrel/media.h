/* kestrel media layer: what an item is, by content never by name. Types come from a
 * table of format descriptors (magic probe + structural validator), so a new format
 * is one row. Decoders for review and PDQ live here too (later issues). */
#ifndef KESTREL_MEDIA_H
#define KESTREL_MEDIA_H

#include <stddef.h>
#include <stdint.h>

#include "kestrel/base.h"

enum ks_kind {
	KS_KIND_OTHER = 0,    /* not media, not a container */
	KS_KIND_PICTURE = 1,  /* still image */
	KS_KIND_VIDEO = 2,    /* moving image */
	KS_KIND_ARCHIVE = 3,  /* opened through libarchive (zip, tar, gz, 7z, iso, docx …) */
	KS_KIND_DOCUMENT = 4, /* holds media but is not an archive (PDF, OLE2 .doc) */
};
const char *ks_kind_name(int kind); /* "other" "picture" "video" "archive" "document" */

/* Bytes of an item's head that ks_media_sniff wants to see (when the item has them). */
#define KS_SNIFF_BYTES 4096
/* ISO 9660 keeps its signature ("CD001") at byte 32769, beyond KS_SNIFF_BYTES: a caller
 * that wants ISO images recognised passes this many head bytes (or the whole item if
 * shorter). With fewer, an ISO image is simply not recognised; nothing else needs
 * more than KS_SNIFF_BYTES. */
#define KS_SNIFF_BYTES_MAX 36864

/* First look: the candidate type from the head of an item (KS_SNIFF_BYTES bytes, up
 * to KS_SNIFF_BYTES_MAX for ISO images, fewer if the item is shorter) and the item's
 * full size. Returns the type
 * name ("jpeg", "png", "gif", "bmp", "webp", "tiff", "heif", "mp4", "mov", "3gp",
 * "avi", "mkv", "webm", "asf", "flv", "mpeg-ps", "mpeg-ts", "zip", "gzip", "bzip2",
 * "xz", "7z", "tar", "cpio", "rar", "iso9660", "pdf", "ole2") or NULL when nothing
 * claims it. *kind gets the type's kind (KS_KIND_OTHER for NULL). The decision is
 * final only after ks_media_validate. The returned string is static (the row's name).
 * If two rows claim the head with the same confidence (a table defect the tests look
 * for), the earlier row wins: pictures come first, then videos, documents, archives,
 * so a picture is never lost to a container; ks_media_sniff_all shows every claim. */
const char *ks_media_sniff(const uint8_t *head, size_t len, uint64_t size, int *kind);

/* Result of a structural check on the whole item. */
enum ks_valid {
	KS_VALID_OK = 0,	/* well formed to its end */
	KS_VALID_TRUNCATED = 1, /* well formed as far as it goes, but the end is missing,
				   or damaged after a start that proves the type: still that
				   type (a damaged picture is a picture) */
	KS_VALID_BAD = 2,	/* not that type after all (a decoy) */
};

/* Second look, on the whole item: walks the structure of the type `type` (as returned
 * by ks_media_sniff) as far as needed to tell a real file from a decoy. Fills *w, *h
 * with the pixel size when known (0 otherwise) and why with a short reason for BAD or
 * TRUNCATED (static string; on OK it is NULL or a short note such as "no DQT"). Any
 * of w, h, why may be NULL. An unknown type name gives BAD ("unknown type"). Never
 * reads outside data[0..len) and never allocates (declared sizes are only compared
 * with len). Safe to call from many threads at once. */
enum ks_valid ks_media_validate(const char *type, const uint8_t *data, size_t len, uint32_t *w,
				uint32_t *h, const char **why);

/* As ks_media_validate, when data holds only the first len bytes of an item of size
 * bytes (a large item the caller keeps only the head of; size < len is taken as len).
 * A prefix that is well formed as far as it goes gives TRUNCATED, never BAD; BAD
 * still means the bytes present prove it is not that type. */
enum ks_valid ks_media_validate_head(const char *type, const uint8_t *data, size_t len,
				     uint64_t size, uint32_t *w, uint32_t *h, const char **why);

/* MIME type for a type name ("image/jpeg"), "application/octet-stream" if unknown. */
const char *ks_media_mime(const char *type);

/* ---- The format table (for tests, tools and callers that need more than a name) ---- */

/* What a validator is told besides the bytes, and what it found out besides the
 * verdict. */
struct ks_media_facts {
	uint64_t size;		/* in: the whole item's size (>= len; data is its head) */
	uint32_t width, height; /* out: pixels, 0 when unknown */
	const char *why;	/* out: static text: reason for BAD/TRUNCATED, or a note */
	int measure;		/* in (carving): unrelated bytes may follow the item, so
				   the walk stops where the structure ends instead of
				   judging what follows (see ks_media_measure) */
	uint64_t end;		/* out: where the structure ends: on OK, the offset just
				   past the item's last byte; on TRUNCATED, where damage
				   was seen (the bytes before it are consistent with the
				   type); 0 when the validator cannot tell (then: len) */
};

/* Sniff confidence. STRONG: a magic number of four bytes or more, or a shorter one
 * backed by a structural check of the head. WEAK: a pattern that random or foreign
 * data could show (MPEG-TS sync bytes, a v7 tar checksum, a bare QuickTime atom). */
enum ks_sniff_conf { KS_SNIFF_NO = 0, KS_SNIFF_WEAK = 1, KS_SNIFF_STRONG = 2 };

/* One row per type. sniff looks only at head[0..len) (len may be anything from 0 to
 * KS_SNIFF_BYTES_MAX; size is the whole item's size, >= len) and returns an enum
 * ks_sniff_conf. validate has the contract of ks_media_validate_head; the caller
 * zeroes facts and sets facts->size. */
struct ks_media_format {
	const char *name; /* "jpeg" */
	int kind;	  /* enum ks_kind */
	const char *mime; /* "image/jpeg" */
	const char *ext;  /* usual file extension without dot ("jpg"), for exports/carving */
	int (*sniff)(const uint8_t *head, size_t len, uint64_t size);
	enum ks_valid (*validate)(const uint8_t *data, size_t len, struct ks_media_facts *facts);
};

/* Row i of the table (0 ..), NULL past the end. */
const struct ks_media_format *ks_media_format_at(size_t i);
/* The row called name, NULL if none. */
const struct ks_media_format *ks_media_format_get(const char *name);

/* Every row that claims the head, strongest first (table order among equals): writes
 * up to max rows to out[] and their confidences to conf[] (conf may be NULL) and
 * returns how many rows claimed it (which may exceed max). */
size_t ks_media_sniff_all(const uint8_t *head, size_t len, uint64_t size,
			  const struct ks_media_format **out, int *conf, size_t max);

/* ---- Carving: where a picture or video starts, and how long it is ---- */

/* Measures an item of type `type` that starts at data[0] and may be followed by
 * unrelated bytes (unallocated space, a file it is embedded in), using the same
 * structural walk as ks_media_validate. Returns OK with *end = the item's length
 * (<= len); TRUNCATED with *end = how many bytes are consistent with the type (len
 * when the data simply ran out: a caller that holds only a window of a longer
 * region should measure again with more, up to its limit, when *end == len, and
 * also when OK comes with *end == len, since formats without an end marker end
 * where the data does); BAD when the bytes are not that type (*end = 0). Where a
 * declared size is implausible (far beyond what the structure needs) it is not
 * trusted: the structure decides. w, h, why as for ks_media_validate (may be NULL).
 * Never reads outside data[0..len), never allocates, thread-safe. */
enum ks_valid ks_media_measure(const char *type, const uint8_t *data, size_t len, uint64_t *end,
			       uint32_t *w, uint32_t *h, const char **why);

/* Reads up to n bytes at off of the item being measured; returns bytes read (short
 * at its end or on error). */
typedef size_t (*ks_media_read_fn)(void *ctx, uint64_t off, void *buf, size_t n);

/* For an item too long to hold (a video of some GiB): where it ends, from its top-level
 * headers only, read through rd (the item starts at offset 0; avail bytes exist).
 * Knows ISO-BMFF (heif mp4 mov 3gp: the top-level boxes) and AVI (the RIFF form and
 * its AVIX extensions). Returns OK with *end when the headers tile the item to its
 * end (an ISO-BMFF file also needs its moov), TRUNCATED with *end = avail when the
 * last one runs past the data (or an ISO-BMFF file has no moov; *end its last box's
 * end), BAD when the type is not known here or the headers are not well formed. The
 * bytes in between are not checked: the caller validates the head it holds. */
enum ks_valid ks_media_extent(const char *type, ks_media_read_fn rd, void *ctx, uint64_t avail,
			      uint64_t *end);

/* Called by ks_media_carve_scan for each position pos (ascending) where a picture or
 * video of format fmt may start (its signature matched and its sniff claims the head
 * strongly). Returns the position to scan on from: pos + 1 to go on, more to skip
 * what was found (e.g. the measured item, so an EXIF thumbnail inside a carved photo
 * is not reported again), SIZE_MAX to stop. */
typedef size_t (*ks_media_carve_fn)(void *ctx, size_t pos, const struct ks_media_format *fmt);

/* Signature search for carving over buf[0..len): calls fn for every candidate start
 * in [from, to) (to <= len) of the carvable types (every picture and video row with
 * a strong magic: jpeg png gif bmp webp tiff heif mp4 mov 3gp avi mkv webm asf flv
 * mpeg-ps). The sniff of a candidate at p sees buf[p..len) and is told that
 * size - p bytes exist from there (size >= len: the caller may hold only part).
 * Byte-granular; a vectorised pass (AVX2 or SSE2 where the CPU has them, else
 * scalar) finds two-byte signature pairs, then each is checked in full.
 * Returns the position scanning stopped at (to, or past it when fn skipped beyond,
 * or where fn asked to stop). */
size_t ks_media_carve_scan(const uint8_t *buf, size_t len, size_t from, size_t to, uint64_t size,
			   ks_media_carve_fn fn, void *ctx);

/* Which signature-search implementation this CPU uses: "avx2", "sse2" or "scalar".
 * ks_media_carve_force_scalar(1) makes ks_media_carve_scan use the scalar one (for
 * tests and benchmarks comparing them; not thread-safe against running scans). */
const char *ks_media_carve_impl(void);
void ks_media_carve_force_scalar(int on);

/* Human name of a verdict: "ok", "truncated", "bad". */
const char *ks_valid_name(int v);

#endif
