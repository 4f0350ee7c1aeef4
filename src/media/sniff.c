/* Type detection by content: the table of formats (one row each: name, kind, MIME,
 * extension, sniff on the head, validate on the whole item) and the public entry
 * points that consult it. The formats themselves live in fmt_image.c, fmt_isobmff.c,
 * fmt_video.c and fmt_container.c; shared byte helpers and CRC-32 are here. */
#include <string.h>

#include "sniff_impl.h"

#define ROW(n, k, m, e, f)                                                                         \
	{                                                                                          \
		n, k, m, e, ks_media_sniff_##f, ks_media_check_##f                                 \
	}

/* Pictures first, then videos, documents, archives: on a tie the earlier row wins
 * (see media.h), and a picture must never be lost to a container. */
static const struct ks_media_format formats[] = {
    ROW("jpeg", KS_KIND_PICTURE, "image/jpeg", "jpg", jpeg),
    ROW("png", KS_KIND_PICTURE, "image/png", "png", png),
    ROW("gif", KS_KIND_PICTURE, "image/gif", "gif", gif),
    ROW("bmp", KS_KIND_PICTURE, "image/bmp", "bmp", bmp),
    ROW("webp", KS_KIND_PICTURE, "image/webp", "webp", webp),
    ROW("tiff", KS_KIND_PICTURE, "image/tiff", "tif", tiff),
    ROW("heif", KS_KIND_PICTURE, "image/heif", "heic", heif),
    ROW("mp4", KS_KIND_VIDEO, "video/mp4", "mp4", mp4),
    ROW("mov", KS_KIND_VIDEO, "video/quicktime", "mov", mov),
    ROW("3gp", KS_KIND_VIDEO, "video/3gpp", "3gp", 3gp),
    ROW("avi", KS_KIND_VIDEO, "video/x-msvideo", "avi", avi),
    ROW("mkv", KS_KIND_VIDEO, "video/x-matroska", "mkv", mkv),
    ROW("webm", KS_KIND_VIDEO, "video/webm", "webm", webm),
    ROW("asf", KS_KIND_VIDEO, "video/x-ms-asf", "wmv", asf),
    ROW("flv", KS_KIND_VIDEO, "video/x-flv", "flv", flv),
    ROW("mpeg-ps", KS_KIND_VIDEO, "video/mpeg", "mpg", mpegps),
    ROW("mpeg-ts", KS_KIND_VIDEO, "video/mp2t", "ts", mpegts),
    ROW("pdf", KS_KIND_DOCUMENT, "application/pdf", "pdf", pdf),
    ROW("ole2", KS_KIND_DOCUMENT, "application/x-ole-storage", "doc", ole2),
    ROW("zip", KS_KIND_ARCHIVE, "application/zip", "zip", zip),
    ROW("gzip", KS_KIND_ARCHIVE, "application/gzip", "gz", gzip),
    ROW("bzip2", KS_KIND_ARCHIVE, "application/x-bzip2", "bz2", bzip2),
    ROW("xz", KS_KIND_ARCHIVE, "application/x-xz", "xz", xz),
    ROW("7z", KS_KIND_ARCHIVE, "application/x-7z-compressed", "7z", 7z),
    ROW("tar", KS_KIND_ARCHIVE, "application/x-tar", "tar", tar),
    ROW("cpio", KS_KIND_ARCHIVE, "application/x-cpio", "cpio", cpio),
    ROW("rar", KS_KIND_ARCHIVE, "application/vnd.rar", "rar", rar),
    ROW("iso9660", KS_KIND_ARCHIVE, "application/x-iso9660-image", "iso", iso9660),
};
#define NFORMATS (sizeof formats / sizeof formats[0])

const struct ks_media_format *ks_media_format_at(size_t i)
{
	return i < NFORMATS ? &formats[i] : NULL;
}

const struct ks_media_format *ks_media_format_get(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < NFORMATS; i++)
		if (strcmp(formats[i].name, name) == 0)
			return &formats[i];
	return NULL;
}

const char *ks_kind_name(int kind)
{
	switch (kind) {
	case KS_KIND_PICTURE:
		return "picture";
	case KS_KIND_VIDEO:
		return "video";
	case KS_KIND_ARCHIVE:
		return "archive";
	case KS_KIND_DOCUMENT:
		return "document";
	}
	return "other";
}

const char *ks_valid_name(int v)
{
	switch (v) {
	case KS_VALID_OK:
		return "ok";
	case KS_VALID_TRUNCATED:
		return "truncated";
	}
	return "bad";
}

size_t ks_media_sniff_all(const uint8_t *head, size_t len, uint64_t size,
			  const struct ks_media_format **out, int *conf, size_t max)
{
	size_t n = 0;
	if (size < len)
		size = len;
	/* Strongest first, table order among equals: one pass per confidence level. */
	for (int level = KS_SNIFF_STRONG; level > KS_SNIFF_NO; level--) {
		for (size_t i = 0; i < NFORMATS; i++) {
			if (formats[i].sniff(head, len, size) != level)
				continue;
			if (n < max) {
				out[n] = &formats[i];
				if (conf)
					conf[n] = level;
			}
			n++;
		}
	}
	return n;
}

const char *ks_media_sniff(const uint8_t *head, size_t len, uint64_t size, int *kind)
{
	const struct ks_media_format *best = NULL;
	size_t n = ks_media_sniff_all(head, len, size, &best, NULL, 1);
	if (kind)
		*kind = n ? best->kind : KS_KIND_OTHER;
	return n ? best->name : NULL;
}

enum ks_valid ks_media_validate(const char *type, const uint8_t *data, size_t len, uint32_t *w,
				uint32_t *h, const char **why)
{
	return ks_media_validate_head(type, data, len, len, w, h, why);
}

enum ks_valid ks_media_validate_head(const char *type, const uint8_t *data, size_t len,
				     uint64_t size, uint32_t *w, uint32_t *h, const char **why)
{
	struct ks_media_facts f = {0};
	f.size = size < len ? len : size;
	const struct ks_media_format *fmt = ks_media_format_get(type);
	enum ks_valid v;
	if (!fmt)
		v = ks_verdict(&f, KS_VALID_BAD, "unknown type");
	else if (!data && len)
		v = ks_verdict(&f, KS_VALID_BAD, "no data");
	else
		v = fmt->validate(data ? data : (const uint8_t *)"", len, &f);
	if (w)
		*w = f.width;
	if (h)
		*h = f.height;
	if (why)
		*why = f.why;
	return v;
}

const char *ks_media_mime(const char *type)
{
	const struct ks_media_format *fmt = ks_media_format_get(type);
	return fmt ? fmt->mime : "application/octet-stream";
}

int ks_media_all_zero(const uint8_t *d, size_t from, size_t len)
{
	for (size_t i = from; i < len; i++)
		if (d[i])
			return 0;
	return 1;
}

void ks_media_crc32_init(struct ks_crc32 *c)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t r = i;
		for (int k = 0; k < 8; k++)
			r = (r & 1) ? 0xEDB88320u ^ (r >> 1) : r >> 1;
		c->t[i] = r;
	}
}

uint32_t ks_media_crc32(const struct ks_crc32 *c, uint32_t crc, const uint8_t *p, size_t n)
{
	crc = ~crc;
	for (size_t i = 0; i < n; i++)
		crc = c->t[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
	return ~crc;
}
