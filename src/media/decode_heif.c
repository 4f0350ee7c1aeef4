/* HEIF/HEIC (and AVIF where libheif has a decoder) over libheif: the primary image,
 * with its rotation and mirroring applied by libheif (as ImageMagick leaves them on),
 * decoded as ImageMagick 6.9.11 does it: 8-bit Y'CbCr 4:2:0 planes, chroma taken by
 * nearest neighbour, turned into RGB with its YPbPr matrix in 16-bit quanta. */
#include <string.h>

#include <libheif/heif.h>

#include "decode_impl.h"

static int heif_probe(const uint8_t *p, size_t n)
{
	static const char *const brands[] = {"heic", "heix", "heim", "heis", "hevc",
					     "hevx", "mif1", "msf1", "avif", "avis"};
	if (n < 12 || memcmp(p + 4, "ftyp", 4) != 0)
		return 0;
	for (size_t i = 0; i < sizeof brands / sizeof brands[0]; i++)
		if (memcmp(p + 8, brands[i], 4) == 0)
			return 1;
	return 0;
}

static inline uint8_t q16_to_8(double v)
{
	uint32_t q = v <= 0.0 ? 0 : v >= 65535.0 ? 65535 : (uint32_t)(v + 0.5); /* ClampToQuantum */
	return (uint8_t)(((q + 128u) - ((q + 128u) >> 8)) >> 8);
}

/* ImageMagick's YCbCr to sRGB (ConvertYPbPrToRGB on QuantumScale'd 16-bit quanta). */
static void ycc_to_rgb(unsigned y8, unsigned cb8, unsigned cr8, uint8_t *out)
{
	const double qs = 1.0 / 65535.0;
	double Y = qs * (y8 * 257.0), Pb = qs * (cb8 * 257.0), Pr = qs * (cr8 * 257.0);
	double r = 65535.0 * (0.99999999999914679361 * Y - 1.2188941887145875e-06 * (Pb - 0.5) +
			      1.4019995886561440468 * (Pr - 0.5));
	double g = 65535.0 * (0.99999975910502514331 * Y - 0.34413567816504303521 * (Pb - 0.5) -
			      0.71413649331646789076 * (Pr - 0.5));
	double b = 65535.0 * (1.00000124040004623180 * Y + 1.77200006607230409200 * (Pb - 0.5) +
			      2.1453384174593273e-06 * (Pr - 0.5));
	out[0] = q16_to_8(r);
	out[1] = q16_to_8(g);
	out[2] = q16_to_8(b);
}

static int heif_decode(struct ks_decoder *d, void **slot, const uint8_t *data, size_t len,
		       const struct ks_decode_opts *opts, const struct ks_pixel_sink *sink,
		       struct ks_err *err)
{
	const struct ks_decode_limits *lim = ks_decode_limits_of(opts);
	struct heif_context *ctx = heif_context_alloc();
	struct heif_image_handle *h = NULL;
	struct heif_image *img = NULL;
	struct heif_error e;
	int rc = 0;

	(void)slot;
	if (!ctx)
		return ks_err_set(err, KS_E_ENV, "heif: out of memory");
	heif_context_set_maximum_image_size_limit(ctx, (int)lim->max_side);
	e = heif_context_read_from_memory_without_copy(ctx, data, len, NULL);
	if (e.code == heif_error_Ok)
		e = heif_context_get_primary_image_handle(ctx, &h);
	if (e.code != heif_error_Ok) {
		rc = ks_err_set(err,
				e.code == heif_error_Unsupported_feature ? KS_E_UNSUPPORTED
									 : KS_E_EVIDENCE,
				"heif: %s", e.message ? e.message : "cannot read");
		goto out;
	}
	int iw = heif_image_handle_get_width(h), ih = heif_image_handle_get_height(h);
	uint64_t w = iw > 0 ? (uint64_t)iw : 0, hh = ih > 0 ? (uint64_t)ih : 0;
	rc = ks_decode_check(opts, "heif", w, hh, w * hh * 2 + w * 3, err);
	if (rc)
		goto out;
	if (w * hh * 2 > (64ull << 20) && w * hh / 4096 > len) {
		rc = ks_err_set(err, KS_E_EVIDENCE, "heif: %llux%llu picture on only %zu bytes",
				(unsigned long long)w, (unsigned long long)hh, len);
		goto out;
	}
	e = heif_decode_image(h, &img, heif_colorspace_YCbCr, heif_chroma_420, NULL);
	if (e.code != heif_error_Ok) {
		rc = ks_err_set(err,
				e.code == heif_error_Unsupported_feature ||
					e.code == heif_error_Unsupported_filetype
				    ? KS_E_UNSUPPORTED
				    : KS_E_EVIDENCE,
				"heif: %s", e.message ? e.message : "cannot decode");
		goto out;
	}
	int sy = 0, scb = 0, scr = 0;
	const uint8_t *py = heif_image_get_plane_readonly(img, heif_channel_Y, &sy);
	const uint8_t *pcb = heif_image_get_plane_readonly(img, heif_channel_Cb, &scb);
	const uint8_t *pcr = heif_image_get_plane_readonly(img, heif_channel_Cr, &scr);
	int dw = heif_image_get_width(img, heif_channel_Y),
	    dh = heif_image_get_height(img, heif_channel_Y);
	int cw = heif_image_get_width(img, heif_channel_Cb),
	    ch = heif_image_get_height(img, heif_channel_Cb);
	if (!py || !pcb || !pcr || dw <= 0 || dh <= 0 ||
	    heif_image_get_bits_per_pixel_range(img, heif_channel_Y) != 8 || cw < (dw + 1) / 2 ||
	    ch < (dh + 1) / 2 || (uint64_t)dw > w || (uint64_t)dh > hh) {
		rc = ks_err_set(err, KS_E_UNSUPPORTED, "heif: decoded planes are not 8-bit 4:2:0");
		goto out;
	}
	struct ks_image_info info = {
	    .format = "heif",
	    .width = (uint32_t)dw,
	    .height = (uint32_t)dh,
	    .full_width = (uint32_t)dw,
	    .full_height = (uint32_t)dh,
	    .channels = 3,
	    .scale_num = 1,
	    .scale_denom = 1,
	    .depth = 8,
	};
	rc = sink->begin(sink->ctx, &info, err);
	if (rc)
		goto out;
	uint8_t *row = ks_decode_grow(&d->row, (size_t)dw * 3);
	for (int y = 0; y < dh; y++) {
		const uint8_t *ly = py + (size_t)y * (size_t)sy;
		const uint8_t *lb = pcb + (size_t)(y / 2) * (size_t)scb;
		const uint8_t *lr = pcr + (size_t)(y / 2) * (size_t)scr;
		for (int x = 0; x < dw; x++)
			ycc_to_rgb(ly[x], lb[x / 2], lr[x / 2], row + 3 * (size_t)x);
		rc = sink->rows(sink->ctx, (uint32_t)y, 1, row, (size_t)dw * 3, err);
		if (rc)
			goto out;
	}
out:
	heif_image_release(img);
	heif_image_handle_release(h);
	heif_context_free(ctx);
	return rc;
}

const struct ks_decoder_ops ks_decode_heif_ops = {
    .name = "heif",
    .probe = heif_probe,
    .decode = heif_decode,
    .state_free = NULL,
};
