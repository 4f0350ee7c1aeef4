/* Video containers other than ISO-BMFF: AVI (RIFF), Matroska/WebM (EBML), ASF/WMV,
 * FLV, MPEG program streams and MPEG transport streams. Each validator walks the
 * container's own framing (chunks, elements, objects, tags, packs, packets) to the
 * end; none decodes a frame. */
#include "sniff_impl.h"

/* ---------------------------------------------------------------- AVI */

int ks_media_sniff_avi(const uint8_t *d, size_t len, uint64_t size)
{
	return ks_has(d, len, 0, "RIFF", 4) && ks_has(d, len, 8, "AVI ", 4) ? KS_SNIFF_STRONG
									    : KS_SNIFF_NO;
}

/* Walks the chunks of one RIFF form d[start..end) (end may lie beyond len when the
 * file is cut short). hdrl/movi report what was seen. Returns NULL when the walk
 * reached end exactly, else why it stopped. */
static const char *avi_walk(const uint8_t *d, size_t len, size_t start, uint64_t end, int first,
			    int *hdrl, int *movi, struct ks_media_facts *f, int *bad)
{
	size_t pos = start;
	size_t lim = end < len ? (size_t)end : len;
	while (pos < lim) {
		if (!ks_fits(pos, 8, lim))
			return "ends inside a chunk header";
		const uint8_t *id = d + pos;
		uint32_t n = ks_le32(d + pos + 4);
		if (!ks_fourcc_ok(id)) {
			*bad = !*hdrl;
			return "chunk id not printable";
		}
		if (first && pos == start) {
			/* The first chunk is LIST hdrl starting with avih. */
			if (memcmp(id, "LIST", 4) != 0 || !ks_has(d, len, pos + 8, "hdrl", 4) ||
			    !ks_has(d, len, pos + 12, "avih", 4)) {
				*bad = 1;
				return "no LIST hdrl/avih";
			}
			*hdrl = 1;
			if (ks_fits(pos + 20, 56, len) && ks_le32(d + pos + 16) >= 56) {
				f->width = ks_le32(d + pos + 20 + 32);
				f->height = ks_le32(d + pos + 20 + 36);
			}
		}
		if (memcmp(id, "LIST", 4) == 0 && ks_has(d, len, pos + 8, "movi", 4))
			*movi = 1;
		uint64_t next = (uint64_t)pos + 8 + n + (n & 1);
		if (next > lim) {
			if (next == (uint64_t)lim + 1 && (n & 1) && lim == end)
				return NULL; /* missing final pad byte */
			return "a chunk runs past the end";
		}
		pos = (size_t)next;
	}
	return pos == end ? NULL : "shorter than its RIFF size";
}

enum ks_valid ks_media_check_avi(const uint8_t *d, size_t len, struct ks_media_facts *f)
{
	if (!ks_media_sniff_avi(d, len, len))
		return ks_verdict(f, KS_VALID_BAD, "no RIFF/AVI header");
	int hdrl = 0, movi = 0, bad = 0;
	uint64_t end = 8 + (uint64_t)ks_le32(d + 4);
	const char *why = avi_walk(d, len, 12, end, 1, &hdrl, &movi, f, &bad);
	if (bad)
		return ks_verdict(f, KS_VALID_BAD, why);
	if (why)
		return ks_verdict(f, KS_VALID_TRUNCATED, why);
	/* OpenDML: more RIFF AVIX forms follow the first. */
	size_t pos = (size_t)end;
	while (ks_has(d, len, pos, "RIFF", 4) && ks_has(d, len, pos + 8, "AVIX", 4)) {
		uint64_t e = (uint64_t)pos + 8 + ks_le32(d + pos + 4);
		why = avi_walk(d, len, pos + 12, e, 0, &hdrl, &movi, f, &bad);
		if (why)
			return ks_verdict(f, KS_VALID_TRUNCATED, why);
		pos = (size_t)e;
	}
	if (!movi)
		return ks_verdict(f, KS_VALID_BAD, "no movi list");
	if (pos < len && !ks_media_all_zero(d, pos, len))
		f->why = "data after RIFF";
	f->end = pos < len ? pos : len; /* (the last pad byte may be missing) */
	return KS_VALID_OK;
}

/* ---------------------------------------------------------------- Matroska / WebM */

#define EBML_HEADER 0x1A45DFA3u
#define EBML_DOCTYPE 0x4282u
#define MKV_SEGMENT 0x18538067u
#define MKV_CLUSTER 0x1F43B675u
#define MKV_TRACKS 0x1654AE6Bu
#define MKV_TRACKENTRY 0xAEu
#define MKV_VIDEO 0xE0u
#define MKV_PIXELWIDTH 0xB0u
#define MKV_PIXELHEIGHT 0xBAu
#define EBML_UNKNOWN UINT64_MAX

/* Reads an element ID (1-4 bytes, marker kept) at *pos; -1 if malformed or cut. */
static int ebml_id(const uint8_t *d, size_t len, size_t *pos, uint32_t *id)
{
	if (*pos >= len || d[*pos] < 0x10)
		return -1;
	int n = d[*pos] >= 0x80 ? 1 : d[*pos] >= 0x40 ? 2 : d[*pos] >= 0x20 ? 3 : 4;
	if (!ks_fits(*pos, (size_t)n, len))
		return -1;
	uint32_t v = 0;
	for (int i = 0; i < n; i++)
		v = v << 8 | d[*pos + i];
	*pos += (size_t)n;
	*id = v;
	return 0;
}

/* Reads a data size (1-8 bytes, marker removed) at *pos; all-ones is EBML_UNKNOWN. */
static int ebml_size(const uint8_t *d, size_t len, size_t *pos, uint64_t *size)
{
	if (*pos >= len || d[*pos] == 0)
		return -1;
	int n = 1;
	while (!(d[*pos] & (0x80 >> (n - 1))))
		n++;
	if (!ks_fits(*pos, (size_t)n, len))
		return -1;
	uint64_t v = d[*pos] & (0xFF >> n);
	int ones = v == (uint64_t)(0xFF >> n);
	for (int i = 1; i < n; i++) {
		v = v << 8 | d[*pos + i];
		ones &= d[*pos + i] == 0xFF;
	}
	*pos += (size_t)n;
	*size = ones ? EBML_UNKNOWN : v;
	return 0;
}

/* The EBML header's DocType: 1 "matroska", 2 "webm", 0 other or absent, -1 malformed.
 * *end gets the offset just after the header. */
static int ebml_doctype(const uint8_t *d, size_t len, size_t *end)
{
	size_t pos = 0;
	uint32_t id;
	uint64_t n;
	if (ebml_id(d, len, &pos, &id) < 0 || id != EBML_HEADER ||
	    ebml_size(d, len, &pos, &n) < 0 || n == EBML_UNKNOWN || n > 4096)
		return -1;
	size_t hend = pos + (size_t)n;
	int kind = 0;
	*end = hend;
	while (pos < hend && pos < len) {
		uint32_t cid;
		uint64_t cn;
		if (ebml_id(d, len, &pos, &cid) < 0 || ebml_size(d, len, &pos, &cn) < 0 ||
		    pos > hend || cn > hend - pos)
			return -1;
		if (cid == EBML_DOCTYPE && ks_fits(pos, cn, len)) {
			size_t k = (size_t)cn;
			while (k > 0 && d[pos + k - 1] == 0)
				k--; /* strings may be NUL-padded */
			if (k == 8 && memcmp(d + pos, "matroska", 8) == 0)
				kind = 1;
			else if (k == 4 && memcmp(d + pos, "webm", 4) == 0)
				kind = 2;
		}
		pos += (size_t)cn;
	}
	return kind;
}

int ks_media_sniff_mkv(const uint8_t *d, size_t len, uint64_t size)
{
	size_t end;
	return ebml_doctype(d, len, &end) == 1 ? KS_SNIFF_STRONG : KS_SNIFF_NO;
}

int ks_media_sniff_webm(const uint8_t *d, size_t len, uint64_t size)
{
	size_t end;
	return ebml_doctype(d, len, &end) == 2 ? KS_SNIFF_STRONG : KS_SNIFF_NO;
}

static int mkv_level1(uint32_t id)
{
	switch (id) {
	case 0x114D9B74: /* SeekHead */
	case 0x1549A966: /* Info */
	case MKV_TRACKS:
	case MKV_CLUSTER:
	case 0x1C53BB6B: /* Cues */
	case 0x1941A469: /* Attachments */
	case 0x1043A770: /* Chapters */
	case 0x1254C367: /* Tags */
	case 0xEC:	 /* Void */
	case 0xBF:	 /* CRC-32 */
		return 1;
	}
	return 0;
}

/* Looks inside Tracks for the first video track's pixel size. */
static void mkv_tracks(const uint8_t *d, size_t pos, size_t end, int depth,
		       struct ks_media_facts *f)
{
	while (pos < end && depth < 4) {
		uint32_t id;
		uint64_t n;
		if (ebml_id(d, end, &pos, &id) < 0 || ebml_size(d, end, &pos, &n) < 0 ||
		    n == EBML_UNKNOWN || n > end - pos)
			return;
		if (id == MKV_TRACKENTRY || id == MKV_VIDEO) {
			mkv_tracks(d, pos, pos + (size_t)n, depth + 1, f);
			if (f->width && f->height)
				return;
		} else if ((id == MKV_PIXELWIDTH || id == MKV_PIXELHEIGHT) && n >= 1 && n <= 4) {
			uint32_t v = 0;
			for (size_t i = 0; i < n; i++)
				v = v << 8 | d[pos + i];
			if (id == MKV_PIXELWIDTH)
				f->width = v;
			else
				f->height = v;
		}
		pos += (size_t)n;
	}
}

static enum ks_valid mkv_check(const uint8_t *d, size_t len, struct ks_media_facts *f, int want)
{
	size_t pos;
	int kind = ebml_doctype(d, len, &pos);
	if (kind < 0)
		return ks_verdict(f, KS_VALID_BAD, "bad EBML header");
	if (kind != want)
		return ks_verdict(f, KS_VALID_BAD, "DocType is not this type");
	if (pos >= len)
		return ks_verdict(f, KS_VALID_TRUNCATED, "no Segment");
	uint32_t id;
	uint64_t n;
	if (ebml_id(d, len, &pos, &id) < 0 || id != MKV_SEGMENT)
		return ks_verdict(f, KS_VALID_BAD, "no Segment after the EBML header");
	if (ebml_size(d, len, &pos, &n) < 0)
		return ks_verdict(f, KS_VALID_TRUNCATED, "ends in the Segment header");
	int seg_unknown = n == EBML_UNKNOWN;
	int cut = seg_unknown || n > len - pos;
	size_t end = cut ? len : pos + (size_t)n;
	int tracks = 0, in_cluster = 0;
	while (pos < end) {
		size_t at = pos;
		if (ebml_id(d, end, &pos, &id) < 0 || ebml_size(d, end, &pos, &n) < 0) {
			if (end - at < 12 && cut)
				return ks_verdict(f, KS_VALID_TRUNCATED,
						  "ends inside an element header");
			f->end = at;
			if (f->measure && seg_unknown && tracks)
				return KS_VALID_OK; /* a live-written Segment ends here */
			return tracks ? ks_verdict(f, KS_VALID_TRUNCATED, "damaged element")
				      : ks_verdict(f, KS_VALID_BAD, "bad element in Segment");
		}
		if (mkv_level1(id)) {
			in_cluster = 0;
		} else if (!in_cluster) {
			f->end = at;
			if (f->measure && seg_unknown && tracks)
				return KS_VALID_OK;
			return tracks
				   ? ks_verdict(f, KS_VALID_TRUNCATED, "damaged: unknown element")
				   : ks_verdict(f, KS_VALID_BAD, "unknown element in Segment");
		}
		if (n == EBML_UNKNOWN) {
			/* Live-written clusters have no size: walk into them. */
			if (id != MKV_CLUSTER)
				return ks_verdict(f, KS_VALID_BAD,
						  "unknown size outside a Cluster");
			in_cluster = 1;
			continue;
		}
		if (id == MKV_TRACKS) {
			tracks = 1;
			mkv_tracks(d, pos, n <= end - pos ? pos + (size_t)n : end, 0, f);
		}
		if (n > end - pos) {
			if (!cut)
				return ks_verdict(f, KS_VALID_TRUNCATED,
						  "damaged: element overruns Segment");
			return ks_verdict(f, KS_VALID_TRUNCATED, "an element runs past the end");
		}
		pos += (size_t)n;
	}
	if (!tracks)
		return cut && (!seg_unknown || f->size > len)
			   ? ks_verdict(f, KS_VALID_TRUNCATED, "no Tracks")
			   : ks_verdict(f, KS_VALID_BAD, "no Tracks");
	if (seg_unknown)
		return KS_VALID_OK; /* a live-written Segment ends where the data ends */
	if (cut)
		return ks_verdict(f, KS_VALID_TRUNCATED, "shorter than its Segment size");
	if (end < len && !ks_media_all_zero(d, end, len))
		f->why = "data after Segment";
	f->end = end;
	return KS_VALID_OK;
}

enum ks_valid ks_media_check_mkv(const uint8_t *d, size_t len, struct ks_media_facts *f)
{
	return mkv_check(d, len, f, 1);
}

enum ks_valid ks_media_check_webm(const uint8_t *d, size_t len, struct ks_media_facts *f)
{
	return mkv_check(d, len, f, 2);
}

/* ---------------------------------------------------------------- ASF */

static const uint8_t asf_header[16] = {0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11,
				       0xA6, 0xD9, 0x00, 0xAA, 0x00, 0x62, 0xCE, 0x6C};
static const uint8_t asf_data[16] = {0x36, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11,
				     0xA6, 0xD9, 0x00, 0xAA, 0x00, 0x62, 0xCE, 0x6C};
static const uint8_t asf_stream_props[16] = {0x91, 0x07, 0xDC, 0xB7, 0xB7, 0xA9, 0xCF, 0x11,
					     0x8E, 0xE6, 0x00, 0xC0, 0x0C, 0x20, 0x53, 0x65};
static const uint8_t asf_video_media[16] = {0xC0, 0xEF, 0x19, 0xBC, 0x4D, 0x5B, 0xCF, 0x11,
					    0xA8, 0xFD, 0x00, 0x80, 0x5F, 0x5C, 0x44, 0x2B};

/* Top-level objects that may follow the data object (Simple Index, Index): when
 * carving, the file ends before any other. */
static const uint8_t asf_simple_index[16] = {0x90, 0x08, 0x00, 0x33, 0xB1, 0xE5, 0xCF, 0x11,
					     0x89, 0xF4, 0x00, 0xA0, 0xC9, 0x03, 0x49, 0xCB};
static const uint8_t asf_index[16] = {0xD3, 0x29, 0xE2, 0xD6, 0xDA, 0x35, 0xD1, 0x11,
				      0x90, 0x34, 0x00, 0xA0, 0xC9, 0x03, 0x49, 0xBE};

int ks_media_sniff_asf(const uint8_t *d, size_t len, uint64_t size)
{
	return ks_has(d, len, 0, asf_header, 16) ? KS_SNIFF_STRONG : KS_SNIFF_NO;
}

enum ks_valid ks_media_check_asf(const uint8_t *d, size_t len, struct ks_media_facts *f)
{
	if (!ks_has(d, len, 0, asf_header, 16))
		return ks_verdict(f, KS_VALID_BAD, "no ASF header GUID");
	if (len < 30)
		return ks_verdict(f, KS_VALID_TRUNCATED, "ends in the header object");
	uint64_t hsize = ks_le64(d + 16);
	uint32_t count = ks_le32(d + 24);
	if (hsize < 30 || d[29] != 0x02 || count > 10000)
		return ks_verdict(f, KS_VALID_BAD, "bad header object");
	/* The header's sub-objects must tile it exactly. */
	size_t hend = hsize < len ? (size_t)hsize : len, pos = 30;
	uint32_t seen = 0;
	while (pos < hend) {
		if (!ks_fits(pos, 24, hend))
			break;
		uint64_t n = ks_le64(d + pos + 16);
		if (n < 24)
			return ks_verdict(f, KS_VALID_BAD, "header sub-object size < 24");
		if (memcmp(d + pos, asf_stream_props, 16) == 0 && ks_fits(pos, 86, hend) &&
		    memcmp(d + pos + 24, asf_video_media, 16) == 0 && !f->width) {
			f->width = ks_le32(d + pos + 78);
			f->height = ks_le32(d + pos + 82);
		}
		seen++;
		if (n > hend - pos)
			break;
		pos += (size_t)n;
	}
	if (hsize > len)
		return ks_verdict(f, KS_VALID_TRUNCATED, "header object runs past the end");
	if (pos != hend || seen != count)
		return ks_verdict(f, KS_VALID_BAD, "header sub-objects do not match their count");
	/* Top-level objects after the header: data, then indexes. */
	int data = 0;
	pos = (size_t)hsize;
	while (pos < len) {
		if (!ks_fits(pos, 24, len)) {
			if (ks_media_all_zero(d, pos, len))
				break;
			return ks_verdict(f, KS_VALID_TRUNCATED, "ends inside an object header");
		}
		uint64_t n = ks_le64(d + pos + 16);
		int is_data = memcmp(d + pos, asf_data, 16) == 0;
		if (f->measure && !is_data && memcmp(d + pos, asf_simple_index, 16) != 0 &&
		    memcmp(d + pos, asf_index, 16) != 0)
			break; /* carving: not part of this file */
		if (is_data)
			data = 1;
		if (n == 0 && is_data)
			n = len - pos; /* broadcast: size not known when written */
		if (n < 24)
			return data ? ks_verdict(f, KS_VALID_TRUNCATED, "damaged object")
				    : ks_verdict(f, KS_VALID_BAD, "object size < 24");
		if (n > len - pos)
			return ks_verdict(f, KS_VALID_TRUNCATED, "an object runs past the end");
		pos += (size_t)n;
	}
	f->end = pos < len ? pos : len;
	if (!data)
		return ks_verdict(f, KS_VALID_TRUNCATED, "no data object");
	return KS_VALID_OK;
}

/* ---------------------------------------------------------------- FLV */

int ks_media_sniff_flv(const uint8_t *d, size_t len, uint64_t size)
{
	if (!ks_has(d, len, 0, "FLV\x01", 4) || len < 9 || (d[4] & 0xFA) || ks_be32(d + 5) < 9)
		return KS_SNIFF_NO;
	return KS_SNIFF_STRONG;
}

enum ks_valid ks_media_check_flv(const uint8_t *d, size_t len, struct ks_media_facts *f)
{
	if (!ks_has(d, len, 0, "FLV\x01", 4))
		return ks_verdict(f, KS_VALID_BAD, "no FLV header");
	if (len < 9)
		return ks_verdict(f, KS_VALID_TRUNCATED, "ends in the header");
	uint32_t hsize = ks_be32(d + 5);
	if ((d[4] & 0xFA) || hsize < 9 || hsize > 1024)
		return ks_verdict(f, KS_VALID_BAD, "bad FLV header");
	size_t pos = hsize;
	if (!ks_fits(pos, 4, len))
		return ks_verdict(f, KS_VALID_TRUNCATED, "ends before the first tag");
	if (ks_be32(d + pos) != 0)
		return ks_verdict(f, KS_VALID_BAD, "first PreviousTagSize is not 0");
	pos += 4;
	unsigned tags = 0;
	while (pos < len) {
		if (!ks_fits(pos, 11, len)) {
			f->end = 0;
			return ks_verdict(f, KS_VALID_TRUNCATED, "ends inside a tag header");
		}
		uint8_t type = d[pos] & 0x1F;
		uint32_t n = ks_be24(d + pos + 1);
		f->end = pos;
		if ((d[pos] & 0xC0) || (type != 8 && type != 9 && type != 18) ||
		    ks_be24(d + pos + 8) != 0) {
			if (f->measure && tags)
				return KS_VALID_OK; /* carving: FLV has no end marker */
			return tags ? ks_verdict(f, KS_VALID_TRUNCATED, "damaged tag")
				    : ks_verdict(f, KS_VALID_BAD, "bad tag");
		}
		if (!ks_fits(pos, 11 + (uint64_t)n + 4, len)) {
			f->end = 0;
			return ks_verdict(f, KS_VALID_TRUNCATED, "a tag runs past the end");
		}
		if (ks_be32(d + pos + 11 + n) != 11 + n) {
			if (f->measure && tags)
				return KS_VALID_OK;
			return tags
				   ? ks_verdict(f, KS_VALID_TRUNCATED, "damaged: tag size mismatch")
				   : ks_verdict(f, KS_VALID_BAD, "tag size mismatch");
		}
		pos += 11 + (size_t)n + 4;
		tags++;
	}
	f->end = 0; /* (ran out of data) */
	if (!tags)
		return ks_verdict(f, KS_VALID_TRUNCATED, "no tags");
	return KS_VALID_OK;
}

/* ---------------------------------------------------------------- MPEG-PS */

/* TRUNCATED because the data ran out (not damage): no end position to report. */
static enum ks_valid ran_out(struct ks_media_facts *f, const char *why)
{
	f->end = 0;
	return ks_verdict(f, KS_VALID_TRUNCATED, why);
}

/* Length of the pack header at d[pos] (MPEG-1 or MPEG-2), 0 if its marker bits are
 * wrong, -1 if it is cut short. */
static long mpeg_pack_len(const uint8_t *d, size_t len, size_t pos)
{
	if (!ks_fits(pos, 12, len))
		return -1;
	const uint8_t *p = d + pos + 4;
	if ((p[0] & 0xC4) == 0x44) { /* MPEG-2: '01' + SCR with markers */
		if (!ks_fits(pos, 14, len))
			return -1;
		if (!(p[2] & 4) || !(p[4] & 4) || !(p[5] & 1) || (p[8] & 3) != 3)
			return 0;
		return 14 + (p[9] & 7);
	}
	if ((p[0] & 0xF1) == 0x21) { /* MPEG-1: '0010' + SCR with markers */
		if (!(p[2] & 1) || !(p[4] & 1) || !(p[5] & 0x80) || !(p[7] & 1))
			return 0;
		return 12;
	}
	return 0;
}

int ks_media_sniff_mpegps(const uint8_t *d, size_t len, uint64_t size)
{
	if (!ks_has(d, len, 0, "\0\0\1\xBA", 4) || mpeg_pack_len(d, len, 0) <= 0)
		return KS_SNIFF_NO;
	return KS_SNIFF_STRONG;
}

/* Picks the picture size from an MPEG-1/2 sequence header inside a video PES. */
static void mpeg_seq_dims(const uint8_t *p, size_t n, struct ks_media_facts *f)
{
	for (size_t i = 0; i + 7 <= n; i++) {
		if (p[i] == 0 && p[i + 1] == 0 && p[i + 2] == 1 && p[i + 3] == 0xB3) {
			f->width = (uint32_t)p[i + 4] << 4 | p[i + 5] >> 4;
			f->height = (uint32_t)(p[i + 5] & 15) << 8 | p[i + 6];
			return;
		}
	}
}

enum ks_valid ks_media_check_mpegps(const uint8_t *d, size_t len, struct ks_media_facts *f)
{
	size_t pos = 0;
	unsigned packs = 0;
	while (pos < len) {
		f->end = pos; /* damage starts here */
		if (!ks_fits(pos, 4, len) || d[pos] != 0 || d[pos + 1] != 0 || d[pos + 2] != 1) {
			if (ks_media_all_zero(d, pos, len) && packs)
				break; /* padding */
			if (f->measure && packs > 1 && ks_fits(pos, 4, len))
				return KS_VALID_OK; /* carving: the stream ends here */
			if (!ks_fits(pos, 4, len) && packs)
				return ran_out(f, "ends inside a start code");
			return packs > 1
				   ? ks_verdict(f, KS_VALID_TRUNCATED, "damaged: lost start code")
				   : ks_verdict(f, KS_VALID_BAD, "no start code");
		}
		uint8_t c = d[pos + 3];
		if (c == 0xBA) {
			long n = mpeg_pack_len(d, len, pos);
			if (n < 0)
				return ran_out(f, "ends inside a pack header");
			if (n == 0)
				return packs > 1 ? ks_verdict(f, KS_VALID_TRUNCATED,
							      "damaged pack header")
						 : ks_verdict(f, KS_VALID_BAD, "bad pack header");
			pos += (size_t)n;
			packs++;
		} else if (c == 0xB9) {
			if (!packs)
				return ks_verdict(f, KS_VALID_BAD, "end code before any pack");
			pos += 4;
			if (pos < len && !ks_media_all_zero(d, pos, len))
				f->why = "data after the end code";
			f->end = pos;
			return KS_VALID_OK;
		} else if (c >= 0xBB) {
			if (!ks_fits(pos, 6, len))
				return ran_out(f, "ends inside a packet header");
			size_t n = ks_be16(d + pos + 4);
			if (!ks_fits(pos + 6, n, len))
				return ran_out(f, "a packet runs past the end");
			if (c >= 0xE0 && c <= 0xEF && !f->width)
				mpeg_seq_dims(d + pos + 6, n, f);
			pos += 6 + n;
		} else {
			return packs > 1
				   ? ks_verdict(f, KS_VALID_TRUNCATED, "damaged: stray start code")
				   : ks_verdict(f, KS_VALID_BAD, "stray start code");
		}
	}
	if (pos >= len)
		f->end = 0; /* (ran out of data) */
	if (!packs)
		return ks_verdict(f, KS_VALID_BAD, "no pack");
	f->why = "no end code";
	return KS_VALID_OK;
}

/* ---------------------------------------------------------------- MPEG-TS */

#define TS_MIN_PACKETS 4

/* Packet size (188, or 192 for M2TS with its 4-byte time stamp) if the head shows
 * TS_MIN_PACKETS sync bytes in a row, else 0. *lead gets the sync byte's offset. */
static size_t ts_packet_size(const uint8_t *d, size_t len, size_t *lead)
{
	static const size_t sizes[2] = {188, 192};
	for (int s = 0; s < 2; s++) {
		size_t ps = sizes[s], off = ps == 192 ? 4 : 0;
		int ok = 1;
		for (size_t k = 0; k < TS_MIN_PACKETS && ok; k++)
			ok = off + k * ps < len && d[off + k * ps] == 0x47;
		if (ok) {
			*lead = off;
			return ps;
		}
	}
	return 0;
}

int ks_media_sniff_mpegts(const uint8_t *d, size_t len, uint64_t size)
{
	size_t lead;
	return ts_packet_size(d, len, &lead) ? KS_SNIFF_WEAK : KS_SNIFF_NO;
}

enum ks_valid ks_media_check_mpegts(const uint8_t *d, size_t len, struct ks_media_facts *f)
{
	size_t lead, ps = ts_packet_size(d, len, &lead);
	if (!ps)
		return ks_verdict(f, KS_VALID_BAD, "no run of sync bytes");
	size_t n = 0, pos = 0;
	int pat = 0;
	for (; pos < len; pos += ps, n++) {
		if (!ks_fits(pos, ps, len)) {
			if (ks_media_all_zero(d, pos, len))
				break;
			return ks_verdict(f, KS_VALID_TRUNCATED, "partial packet at the end");
		}
		const uint8_t *p = d + pos + lead;
		if (p[0] != 0x47) {
			if (ks_media_all_zero(d, pos, len))
				break;
			return n >= 16 ? ks_verdict(f, KS_VALID_TRUNCATED, "damaged: lost sync")
				       : ks_verdict(f, KS_VALID_BAD, "lost sync");
		}
		if (((p[1] & 0x1F) << 8 | p[2]) == 0)
			pat = 1;
	}
	if (!pat)
		return ks_verdict(f, KS_VALID_BAD, "no PAT");
	return KS_VALID_OK;
}
