/* TMK+PDQF of a video (see tmk.h): the frames upstream's tmk-hash-video takes from
 * ffmpeg (every frame, 64x64 RGB, 15 per second: ks_video_frames_cfr makes the same
 * ones) go through ks_tmk_add_rgb in order. */
#include "kestrel/tmk.h"
#include "kestrel/video_frames.h"

static int add_frame(void *ctx, const struct ks_video_frame *f, struct ks_err *err)
{
	(void)err;
	ks_tmk_add_rgb(ctx, f->pix, f->stride);
	return 0;
}

int ks_tmk_hash_video(struct ks_video *v, struct ks_tmk *t, struct ks_video_result *res,
		      struct ks_err *err)
{
	const struct ks_video_cfr_opts o = {
	    .width = KS_TMK_SIDE,
	    .height = KS_TMK_SIDE,
	    .rate_num = KS_TMK_FPS,
	    .rate_den = 1,
	};
	int rc = ks_video_frames_cfr(v, &o, add_frame, t, res, err);
	ks_tmk_finish(t);
	return rc;
}
