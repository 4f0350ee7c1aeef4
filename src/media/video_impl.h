/* Private to the video files of the media layer (video.c opens and samples,
 * video_frames.c decodes every frame at a constant rate): the open video's state, so
 * that a second way of walking the frames is a new file rather than a longer video.c. */
#ifndef KESTREL_VIDEO_IMPL_H
#define KESTREL_VIDEO_IMPL_H

#include <stdarg.h>
#include <stdint.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>

#include "kestrel/video.h"

/* Where the bytes come from: a buffer, a caller's reader, or a file descriptor
 * (seekable or a pipe). */
struct vsrc {
	const uint8_t *mem;
	ks_video_read_fn read; /* with rctx: a caller's reader (seekable, size known) */
	void *rctx;
	int fd;
	int seekable;
	uint64_t size; /* 0 when unknown */
	uint64_t pos;
};

struct ks_video {
	struct vsrc src;
	AVFormatContext *fmt;
	AVIOContext *avio;
	AVCodecContext *dec; /* opened for fmt->streams[vs], one thread */
	int vs;
	struct ks_video_limits lim; /* resolved: no zero fields */
	double t0, deadline;	    /* ks_time_mono() at open, and when time runs out */
	int sampled;		    /* a walk over the frames was started (one per open) */
	struct ks_video_info info;
	uint8_t head[64];
	size_t head_len;
};

/* Adds marks m to v->info; the first limit's reason stays in info.why, otherwise the
 * latest reason replaces it. */
void ks_video_markv(struct ks_video *v, unsigned m, const char *fmt, va_list ap);

#endif
