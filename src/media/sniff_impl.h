/* Private to the media layer's type detection: bounds-checked big/little-endian
 * readers, CRC-32, verdict helpers, and the sniff/validate pair of every format (the
 * fmt_*.c files define them, the table in sniff.c lists them). */
#ifndef KESTREL_SNIFF_IMPL_H
#define KESTREL_SNIFF_IMPL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kestrel/media.h"

/* True when [off, off+n) lies inside a buffer of len bytes (no overflow). */
static inline int ks_fits(uint64_t off, uint64_t n, uint64_t len)
{
	return off <= len && n <= len - off;
}

static inline uint16_t ks_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}
static inline uint32_t ks_be24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}
static inline uint32_t ks_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t ks_be64(const uint8_t *p)
{
	return (uint64_t)ks_be32(p) << 32 | ks_be32(p + 4);
}
static inline uint16_t ks_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}
static inline uint32_t ks_le24(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
}
static inline uint32_t ks_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t ks_le64(const uint8_t *p)
{
	return (uint64_t)ks_le32(p) | (uint64_t)ks_le32(p + 4) << 32;
}

/* head[off..] starts with the n bytes of magic (false if the head is too short). */
static inline int ks_has(const uint8_t *d, size_t len, size_t off, const void *magic, size_t n)
{
	return ks_fits(off, n, len) && memcmp(d + off, magic, n) == 0;
}

/* Records a reason and returns the verdict, so validators write
 * `return ks_verdict(f, KS_VALID_BAD, "no SOF");`. */
static inline enum ks_valid ks_verdict(struct ks_media_facts *f, enum ks_valid v, const char *why)
{
	f->why = why;
	return v;
}

/* A printable four-character code (box, chunk or atom type). */
static inline int ks_fourcc_ok(const uint8_t *p)
{
	for (int i = 0; i < 4; i++)
		if (p[i] < 0x20 || p[i] > 0x7e)
			return 0;
	return 1;
}

/* True when d[from..len) is all zero bytes (sector or cluster padding). */
int ks_media_all_zero(const uint8_t *d, size_t from, size_t len);

/* CRC-32 (ISO-HDLC, as PNG, gzip, zip, xz and 7z use). The table lives on the
 * caller's stack: make one per validation, then feed it any number of runs. */
struct ks_crc32 {
	uint32_t t[256];
};
void ks_media_crc32_init(struct ks_crc32 *c);
/* crc of the run, starting from a previous result (0 for a new run). */
uint32_t ks_media_crc32(const struct ks_crc32 *c, uint32_t crc, const uint8_t *p, size_t n);

/* A box type that may follow the first box at the top level of an ISO-BMFF or
 * QuickTime file (fmt_isobmff.c; carving ends a file before any other). */
int ks_media_bmff_top_box(const uint8_t *type);

/* One sniff and one validate function per format. */
#define KS_MEDIA_FORMAT_FNS(fmt)                                                                   \
	int ks_media_sniff_##fmt(const uint8_t *head, size_t len, uint64_t size);                  \
	enum ks_valid ks_media_check_##fmt(const uint8_t *data, size_t len,                        \
					   struct ks_media_facts *facts)

/* fmt_image.c */
KS_MEDIA_FORMAT_FNS(jpeg);
KS_MEDIA_FORMAT_FNS(png);
KS_MEDIA_FORMAT_FNS(gif);
KS_MEDIA_FORMAT_FNS(bmp);
KS_MEDIA_FORMAT_FNS(webp);
KS_MEDIA_FORMAT_FNS(tiff);
/* fmt_isobmff.c */
KS_MEDIA_FORMAT_FNS(heif);
KS_MEDIA_FORMAT_FNS(mp4);
KS_MEDIA_FORMAT_FNS(mov);
KS_MEDIA_FORMAT_FNS(3gp);
/* fmt_video.c */
KS_MEDIA_FORMAT_FNS(avi);
KS_MEDIA_FORMAT_FNS(mkv);
KS_MEDIA_FORMAT_FNS(webm);
KS_MEDIA_FORMAT_FNS(asf);
KS_MEDIA_FORMAT_FNS(flv);
KS_MEDIA_FORMAT_FNS(mpegps);
KS_MEDIA_FORMAT_FNS(mpegts);
/* fmt_container.c */
KS_MEDIA_FORMAT_FNS(zip);
KS_MEDIA_FORMAT_FNS(gzip);
KS_MEDIA_FORMAT_FNS(bzip2);
KS_MEDIA_FORMAT_FNS(xz);
KS_MEDIA_FORMAT_FNS(7z);
KS_MEDIA_FORMAT_FNS(tar);
KS_MEDIA_FORMAT_FNS(cpio);
KS_MEDIA_FORMAT_FNS(rar);
KS_MEDIA_FORMAT_FNS(iso9660);
KS_MEDIA_FORMAT_FNS(pdf);
KS_MEDIA_FORMAT_FNS(ole2);

#endif
