/* Fuzz target for the constant-rate frame walk (ks_video_frames_cfr, what TMK+PDQF is
 * computed from): any bytes as an in-memory video, every frame decoded, turned by its
 * display matrix, scaled and re-timed under a tight budget (and an output frame cap:
 * timestamps far apart would otherwise repeat frames at length), every delivered
 * pixel read and the TMK+PDQF finished. Nothing may crash, leak, hang past the budget
 * or read outside the input. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_video_common.h"
#include "kestrel/tmk.h"
#include "kestrel/video_frames.h"

static int on_frame(void *ctx, const struct ks_video_frame *f, struct ks_err *err)
{
	(void)err;
	if (f->width != KS_TMK_SIDE || f->height != KS_TMK_SIDE || f->channels != 3)
		abort();
	ks_tmk_add_rgb(ctx, f->pix, f->stride);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ks_video *v = NULL;
	struct ks_err err = {0};
	if (ks_video_open_mem(&v, data, size, &fz_video_limits, NULL, &err) != 0)
		return 0;
	struct ks_video_cfr_opts o = {.max_out = 2000};
	struct ks_tmk *t = ks_tmk_new();
	struct ks_video_result res;
	if (ks_video_frames_cfr(v, &o, on_frame, t, &res, &err) == 0 &&
	    res.frames_kept != (uint64_t)t->frames)
		abort();
	ks_tmk_finish(t);
	ks_tmk_free(t);
	ks_video_close(v);
	return 0;
}
