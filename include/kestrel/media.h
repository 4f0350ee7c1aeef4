/* kestrel media layer: what an item is, by content never by name. Types come from a
 * table of format descriptors (magic probe + structural validator), so a new format
 * is one row. Decoders for review and PDQ live here too (later issues). */
#ifndef KESTREL_MEDIA_H
#define KESTREL_MEDIA_H

#include <stddef.h>
#include <stdint.h>

#include "kestrel/base.h"

enum ks_kind {
	KS_KIND_OTHER = 0,   /* not media, not a container */
	KS_KIND_PICTURE = 1, /* still image */
	KS_KIND_VIDEO = 2,   /* moving image */
	KS_KIND_ARCHIVE = 3, /* opened through libarchive (zip, tar, gz, 7z, iso, docx …) */
	KS_KIND_DOCUMENT = 4,/* holds media but is not an archive (PDF, OLE2 .doc) */
};
const char *ks_kind_name(int kind); /* "other" "picture" "video" "archive" "document" */

/* Bytes of an item's head that ks_media_sniff wants to see (when the item has them). */
#define KS_SNIFF_BYTES 4096

/* First look: the candidate type from the head of an item (at most KS_SNIFF_BYTES
 * bytes, fewer if the item is shorter) and the item's full size. Returns the type
 * name ("jpeg", "png", "gif", "bmp", "webp", "tiff", "heif", "mp4", "mov", "3gp",
 * "avi", "mkv", "webm", "asf", "flv", "mpeg-ps", "mpeg-ts", "zip", "gzip", "bzip2",
 * "xz", "7z", "tar", "cpio", "rar", "iso9660", "pdf", "ole2") or NULL when nothing
 * claims it. *kind gets the type's kind (KS_KIND_OTHER for NULL). The decision is
 * final only after ks_media_validate. */
const char *ks_media_sniff(const uint8_t *head, size_t len, uint64_t size, int *kind);

/* Result of a structural check on the whole item. */
enum ks_valid {
	KS_VALID_OK = 0,        /* well formed to its end */
	KS_VALID_TRUNCATED = 1, /* well formed as far as it goes, but the end is missing:
	                           still that type (a damaged picture is a picture) */
	KS_VALID_BAD = 2,       /* not that type after all (a decoy) */
};

/* Second look, on the whole item: walks the structure of the type `type` (as returned
 * by ks_media_sniff) as far as needed to tell a real file from a decoy. Fills *w, *h
 * with the pixel size when known (0 otherwise) and why with a short reason for BAD or
 * TRUNCATED (static string). Never reads outside data[0..len). */
enum ks_valid ks_media_validate(const char *type, const uint8_t *data, size_t len, uint32_t *w,
				uint32_t *h, const char **why);

/* MIME type for a type name ("image/jpeg"), "application/octet-stream" if unknown. */
const char *ks_media_mime(const char *type);

#endif
