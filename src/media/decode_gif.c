/* GIF decoder (own LZW): the first frame only, at the frame's own size (not the
 * logical screen), colours from the local or else the global table, transparency
 * ignored (the RGB under a transparent index is kept), as ImageMagick's
 * `convert FILE pnm:-` writes the first image. A stream that ends before the frame
 * is complete is an error (ImageMagick refuses it too). */
#include <string.h>

#include "decode_impl.h"

#define LZW_MAX_BITS 12
#define LZW_CODES (1 << LZW_MAX_BITS)

static int gif_probe(const uint8_t *p, size_t n)
{
	return n >= 6 && memcmp(p, "GIF8", 4) == 0 && (p[4] == '7' || p[4] == '9') && p[5] == 'a';
}

/* Reads the data sub-blocks of one frame as a bit stream (LSB first). */
struct bits {
	const uint8_t *data;
	size_t len, pos;
	size_t left; /* bytes left in the current sub-block */
	int ended;   /* the terminating zero-length block was read, or the data ran out */
	uint32_t acc;
	int nacc;
};

static int next_byte(struct bits *b)
{
	if (b->ended)
		return -1;
	if (b->left == 0) {
		if (b->pos >= b->len) {
			b->ended = 1;
			return -1;
		}
		b->left = b->data[b->pos++];
		if (b->left == 0) {
			b->ended = 1;
			return -1;
		}
	}
	if (b->pos >= b->len) {
		b->ended = 1;
		return -1;
	}
	b->left--;
	return b->data[b->pos++];
}

static int read_code(struct bits *b, int size)
{
	while (b->nacc < size) {
		int c = next_byte(b);
		if (c < 0)
			return -1;
		b->acc |= (uint32_t)c << b->nacc;
		b->nacc += 8;
	}
	int code = (int)(b->acc & ((1u << size) - 1));
	b->acc >>= size;
	b->nacc -= size;
	return code;
}

/* Decodes w*h colour indices into buf. The buffer grows with the pixels actually
 * decoded, so a huge declared frame on a few bytes never allocates much. Returns 0
 * when the frame is complete. */
static int lzw_decode(struct bits *b, int min_size, struct ks_buf *buf, size_t total,
		      struct ks_err *err)
{
	uint8_t *out = buf->data;
	uint16_t prefix[LZW_CODES];
	uint8_t suffix[LZW_CODES], first[LZW_CODES], stack[LZW_CODES];
	const int clear = 1 << min_size, eoi = clear + 1;
	int size = min_size + 1, next = clear + 2, prev = -1;
	size_t n = 0;

	for (int i = 0; i < clear; i++) {
		prefix[i] = 0;
		suffix[i] = (uint8_t)i;
		first[i] = (uint8_t)i;
	}
	while (n < total) {
		if (buf->cap < n + LZW_CODES + 2) {
			buf->len = n;
			ks_buf_reserve(buf, LZW_CODES + 2);
			out = buf->data;
		}
		int code = read_code(b, size);
		if (code < 0)
			return ks_err_set(err, KS_E_EVIDENCE,
					  "gif: image data ends after %zu of %zu pixels", n, total);
		if (code == clear) {
			size = min_size + 1;
			next = clear + 2;
			prev = -1;
			continue;
		}
		if (code == eoi)
			return ks_err_set(err, KS_E_EVIDENCE,
					  "gif: end code after %zu of %zu pixels", n, total);
		if (prev < 0) {
			if (code >= clear)
				return ks_err_set(err, KS_E_EVIDENCE, "gif: bad first code %d",
						  code);
			out[n++] = (uint8_t)code;
			prev = code;
			continue;
		}
		int cur = code, sp = 0;
		uint8_t head;
		if (code < next) {
			head = first[code];
		} else if (code == next && next < LZW_CODES) {
			head = first[prev];
			stack[sp++] = head; /* KwKwK: the new string ends with its own first byte */
			cur = prev;
		} else {
			return ks_err_set(err, KS_E_EVIDENCE, "gif: code %d beyond the table (%d)",
					  code, next);
		}
		while (cur >= clear) {
			stack[sp++] = suffix[cur];
			cur = prefix[cur];
		}
		stack[sp++] = (uint8_t)cur;
		while (sp > 0 && n < total)
			out[n++] = stack[--sp];
		if (next < LZW_CODES) {
			prefix[next] = (uint16_t)prev;
			suffix[next] = head;
			first[next] = first[prev];
			next++;
			if (next == (1 << size) && size < LZW_MAX_BITS)
				size++;
		}
		prev = code;
	}
	return 0;
}

/* Skips data sub-blocks from *pos up to and including the terminator. */
static int skip_blocks(const uint8_t *p, size_t n, size_t *pos)
{
	for (;;) {
		if (*pos >= n)
			return -1;
		size_t len = p[(*pos)++];
		if (len == 0)
			return 0;
		if (len > n - *pos)
			return -1;
		*pos += len;
	}
}

static int gif_decode(struct ks_decoder *d, void **slot, const uint8_t *p, size_t n,
		      const struct ks_decode_opts *opts, const struct ks_pixel_sink *sink,
		      struct ks_err *err)
{
	static const uint8_t black[256 * 3];
	const uint8_t *global = NULL, *table;
	size_t pos = 13, ncolors;
	int rc;

	(void)slot;
	if (n < 13)
		return ks_err_set(err, KS_E_EVIDENCE, "gif: truncated header");
	uint8_t flags = p[10];
	size_t global_n = (size_t)1 << ((flags & 7) + 1);
	if (flags & 0x80) {
		if (global_n * 3 > n - pos)
			return ks_err_set(err, KS_E_EVIDENCE, "gif: truncated colour table");
		global = p + pos;
		pos += global_n * 3;
	}
	/* Find the first image descriptor; extensions are skipped and, as ImageMagick
	 * does, so are stray bytes between blocks. */
	for (;;) {
		if (pos >= n)
			return ks_err_set(err, KS_E_EVIDENCE,
					  "gif: no image before the end of the data");
		uint8_t c = p[pos++];
		if (c == ';')
			return ks_err_set(err, KS_E_EVIDENCE, "gif: no image before the trailer");
		if (c == '!') {
			if (pos >= n)
				return ks_err_set(err, KS_E_EVIDENCE, "gif: truncated extension");
			pos++; /* label */
			if (skip_blocks(p, n, &pos))
				return ks_err_set(err, KS_E_EVIDENCE, "gif: truncated extension");
			continue;
		}
		if (c == ',')
			break;
	}
	if (n - pos < 9)
		return ks_err_set(err, KS_E_EVIDENCE, "gif: truncated image descriptor");
	uint32_t w = ks_rd_le16(p + pos + 4), h = ks_rd_le16(p + pos + 6);
	uint8_t iflags = p[pos + 8];
	int interlaced = (iflags & 0x40) != 0;
	pos += 9;
	if (iflags & 0x80) {
		ncolors = (size_t)1 << ((iflags & 7) + 1);
		if (ncolors * 3 > n - pos)
			return ks_err_set(err, KS_E_EVIDENCE, "gif: truncated local colour table");
		table = p + pos;
		pos += ncolors * 3;
	} else {
		/* no table at all gives black, as ImageMagick's zeroed global map */
		ncolors = global_n;
		table = global ? global : black;
	}
	uint64_t total = (uint64_t)w * h;
	rc = ks_decode_check(opts, "gif", w, h, total + (uint64_t)w * 3, err);
	if (rc)
		return rc;
	if (pos >= n)
		return ks_err_set(err, KS_E_EVIDENCE, "gif: truncated before the image data");
	int min_size = p[pos++];
	if (min_size > 11)
		return ks_err_set(err, KS_E_EVIDENCE, "gif: LZW code size %d", min_size);

	struct ks_image_info info = {
	    .format = "gif",
	    .width = w,
	    .height = h,
	    .full_width = w,
	    .full_height = h,
	    .channels = 3,
	    .scale_num = 1,
	    .scale_denom = 1,
	    .depth = 8,
	};
	struct bits b = {.data = p, .len = n, .pos = pos};
	rc = lzw_decode(&b, min_size, &d->work, (size_t)total, err);
	if (rc)
		return rc;
	const uint8_t *idx = d->work.data;
	rc = sink->begin(sink->ctx, &info, err);
	if (rc)
		return rc;

	uint8_t *row = ks_decode_grow(&d->row, (size_t)w * 3);
	/* Interlaced frames store rows in four passes: 0,8,16.. 4,12.. 2,6.. 1,3.. */
	static const uint32_t start[4] = {0, 4, 2, 1}, step[4] = {8, 8, 4, 2};
	for (uint32_t y = 0; y < h; y++) {
		uint32_t src = y;
		if (interlaced) {
			/* stored index of display row y */
			uint32_t base = 0;
			for (int k = 0; k < 4; k++) {
				uint32_t cnt =
				    h > start[k] ? (h - start[k] + step[k] - 1) / step[k] : 0;
				if (y >= start[k] && (y - start[k]) % step[k] == 0) {
					src = base + (y - start[k]) / step[k];
					break;
				}
				base += cnt;
			}
		}
		const uint8_t *in = idx + (size_t)src * w;
		for (uint32_t x = 0; x < w; x++) {
			size_t c = in[x] < ncolors ? in[x] : 0;
			memcpy(row + 3 * (size_t)x, table + 3 * c, 3);
		}
		rc = sink->rows(sink->ctx, y, 1, row, (size_t)w * 3, err);
		if (rc)
			return rc;
	}
	return 0;
}

const struct ks_decoder_ops ks_decode_gif_ops = {
    .name = "gif",
    .probe = gif_probe,
    .decode = gif_decode,
    .state_free = NULL,
};
