/* kestrel video frames at a constant rate: every frame of an open video decoded, turned
 * upright, scaled to a fixed size in RGB and re-timed to a fixed frame rate, so that the
 * frames are the ones `ffmpeg -i VIDEO -s WxH -pix_fmt rgb24 -r FPS` (ffmpeg 5.1) writes
 * to a raw file: the same decoding, the same scaler (bicubic, MPEG-2 chroma siting, the
 * frame's colour matrix and range), the same rotation by the display matrix, and the
 * same duplicate/drop decisions of its constant-frame-rate sync. TMK+PDQF's frames
 * (64x64 at 15 fps) are made this way. Costs a full decode: every frame of the video. */
#ifndef KESTREL_VIDEO_FRAMES_H
#define KESTREL_VIDEO_FRAMES_H

#include <stdint.h>

#include "kestrel/video.h"

struct ks_video_cfr_opts {
	uint32_t width, height; /* output size; 0: 64 (the aspect ratio is not kept, as -s) */
	int rate_num, rate_den; /* output frames per second; 0: 15/1 */
	uint64_t max_out;	/* stop (marked limit) after this many output frames; 0:
				   KS_VIDEO_CFR_MAX_OUT */
};

/* Six hours at 15 fps. */
#define KS_VIDEO_CFR_MAX_OUT (15ULL * 3600 * 6)

/* Walks v from its start and delivers each output frame to fn, in order: pix is
 * height rows of width * 3 bytes (R, G, B), stride = width * 3; channels 3; index and
 * frame_number are the output frame's number (0, 1, 2 ...), pts its time (index /
 * rate, seconds); src_width/src_height the decoded size and key whether the source
 * frame was a key frame; scene 0. A repeated frame is delivered again as a new output
 * frame, as ffmpeg writes it again. fn may be NULL (to count).
 *
 * Budget: v's limits (time, packets, decoded frames and pixels, errors, frame size) as
 * for sampling, plus opts->max_out. Callable once per open video (KS_E_USAGE after;
 * ks_video_sample and this share the once). Returns 0 when the walk ended (end of
 * data, or stopped early: res->marks and res->why say why; the frames delivered so far
 * are valid), the callback's nonzero status if it stopped the walk, or KS_E_ENV (out
 * of memory, scaler cannot be made). res->frames_kept counts output frames; opts and
 * res may be NULL.
 *
 * Exact for containers with timestamps (MP4/MOV/3GP, Matroska/WebM, AVI ...) and
 * rotations by multiples of 90 degrees; ffmpeg's corrections for timestamp jumps in
 * MPEG-TS/PS, its rotation by other angles and its format conversion before a
 * transpose of 4:2:2 video are approximated. */
int ks_video_frames_cfr(struct ks_video *v, const struct ks_video_cfr_opts *opts,
			ks_video_frame_fn fn, void *ctx, struct ks_video_result *res,
			struct ks_err *err);

#endif
