/* WebP decoder over libwebp: lossy and lossless, alpha dropped (the RGB under it is
 * kept, as libwebp's non-premultiplied RGBA that ImageMagick reads), default decoder
 * options (fancy upsampling) as ImageMagick uses them. An animation gives its first
 * frame, decoded alone at the frame's own size. */
#include <string.h>

#include <webp/decode.h>
#include <webp/demux.h>

#include "decode_impl.h"

static int webp_probe(const uint8_t *p, size_t n)
{
	return n >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WEBP", 4) == 0;
}

static const char *status_text(VP8StatusCode s)
{
	switch (s) {
	case VP8_STATUS_OUT_OF_MEMORY:
		return "out of memory";
	case VP8_STATUS_INVALID_PARAM:
		return "invalid parameter";
	case VP8_STATUS_BITSTREAM_ERROR:
		return "bitstream error";
	case VP8_STATUS_UNSUPPORTED_FEATURE:
		return "unsupported feature";
	case VP8_STATUS_SUSPENDED:
		return "suspended";
	case VP8_STATUS_USER_ABORT:
		return "aborted";
	case VP8_STATUS_NOT_ENOUGH_DATA:
		return "truncated";
	default:
		return "error";
	}
}

static int webp_decode(struct ks_decoder *d, void **slot, const uint8_t *data, size_t len,
		       const struct ks_decode_opts *opts, const struct ks_pixel_sink *sink,
		       struct ks_err *err)
{
	WebPBitstreamFeatures feat;
	WebPDemuxer *demux = NULL;
	WebPIterator it;
	int have_iter = 0, rc = 0;
	const uint8_t *frame = data;
	size_t flen = len;

	(void)slot;
	VP8StatusCode st = WebPGetFeatures(data, len, &feat);
	if (st != VP8_STATUS_OK)
		return ks_err_set(err, KS_E_EVIDENCE, "webp: %s", status_text(st));
	if (feat.has_animation) {
		WebPData wd = {data, len};
		demux = WebPDemux(&wd);
		if (!demux || !WebPDemuxGetFrame(demux, 1, &it)) {
			rc = ks_err_set(err, KS_E_EVIDENCE,
					"webp: animation without a readable first frame");
			goto out;
		}
		have_iter = 1;
		frame = it.fragment.bytes;
		flen = it.fragment.size;
		st = WebPGetFeatures(frame, flen, &feat);
		if (st != VP8_STATUS_OK) {
			rc = ks_err_set(err, KS_E_EVIDENCE, "webp: first frame: %s",
					status_text(st));
			goto out;
		}
	}
	uint64_t w = (uint64_t)(feat.width > 0 ? feat.width : 0);
	uint64_t h = (uint64_t)(feat.height > 0 ? feat.height : 0);
	uint64_t bytes = w * h * 3;
	rc = ks_decode_check(opts, "webp", w, h, bytes, err);
	if (rc)
		goto out;
	/* A flat picture compresses enormously, so only a large frame on very few bytes is
	 * refused. */
	if (bytes > (64ull << 20) && w * h / 4096 > flen) {
		rc = ks_err_set(err, KS_E_EVIDENCE, "webp: %llux%llu picture on only %zu bytes",
				(unsigned long long)w, (unsigned long long)h, flen);
		goto out;
	}
	uint8_t *pix = ks_decode_grow(&d->work, (size_t)bytes);
	if (!WebPDecodeRGBInto(frame, flen, pix, (size_t)bytes, (int)(w * 3))) {
		rc = ks_err_set(err, KS_E_EVIDENCE, "webp: cannot decode the picture data");
		goto out;
	}
	struct ks_image_info info = {
	    .format = "webp",
	    .width = (uint32_t)w,
	    .height = (uint32_t)h,
	    .full_width = (uint32_t)w,
	    .full_height = (uint32_t)h,
	    .channels = 3,
	    .scale_num = 1,
	    .scale_denom = 1,
	    .depth = 8,
	};
	rc = sink->begin(sink->ctx, &info, err);
	if (!rc)
		rc = sink->rows(sink->ctx, 0, (uint32_t)h, pix, (size_t)w * 3, err);
out:
	if (have_iter)
		WebPDemuxReleaseIterator(&it);
	WebPDemuxDelete(demux);
	return rc;
}

const struct ks_decoder_ops ks_decode_webp_ops = {
    .name = "webp",
    .probe = webp_probe,
    .decode = webp_decode,
    .state_free = NULL,
};
