/* Fuzz target for the video layer: any bytes as an in-memory video, probed, sampled
 * (key-frame or every-frame mode, chosen by the input's length) under a tight
 * budget, every delivered pixel read, and the contact sheet rendered. Nothing may
 * crash, leak, hang past the budget or read outside the input. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_video_common.h"
#include "kestrel/video.h"

struct sink {
	struct ks_contact *sheet;
	unsigned sum;
};

static int on_frame(void *ctx, const struct ks_video_frame *f, struct ks_err *err)
{
	struct sink *s = ctx;
	for (uint32_t y = 0; y < f->height; y++) {
		const uint8_t *row = f->pix + (size_t)y * f->stride;
		for (uint32_t x = 0; x < f->width * (uint32_t)f->channels; x++)
			s->sum += row[x];
	}
	return ks_contact_add(s->sheet, f, err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ks_video *v = NULL;
	struct ks_video_info info;
	struct ks_err err = {0};
	if (ks_video_open_mem(&v, data, size, &fz_video_limits, &info, &err) != 0)
		return 0;
	struct ks_contact_opts co = {.max_tiles = 4, .tile_width = 64};
	struct sink s = {.sheet = ks_contact_new(&co)};
	struct ks_video_sample_opts o = {.mode = size & 1 ? KS_VIDEO_ALL : KS_VIDEO_KEY,
					 .max_side = 128};
	struct ks_video_result res;
	if (ks_video_sample(v, &o, on_frame, &s, &res, &err) == 0) {
		struct ks_buf jpg = {0};
		ks_contact_render(s.sheet, &jpg, &err);
		ks_buf_release(&jpg);
	}
	ks_contact_free(s.sheet);
	ks_video_close(v);
	return (int)(s.sum & 0);
}
