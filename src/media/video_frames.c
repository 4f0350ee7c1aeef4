/* Every frame of a video at a constant rate, as ffmpeg 5.1's command line makes them
 * for `-s WxH -pix_fmt rgb24 -r FPS` (see video_frames.h). The steps are fftools':
 * packets get the file's start time subtracted and ffmpeg's dts bookkeeping (its own
 * dts is what the decoder sees, and timestamps that jump by more than 30 hours are
 * dropped); every packet is decoded and each frame gets its best-effort timestamp;
 * the frame is turned upright by the display matrix (transpose/hflip/vflip); a scaler
 * built as the scale filter builds it (bicubic, MPEG-2 chroma siting for yuv420p, the
 * frame's matrix and range) makes RGB; and do_video_out's constant-frame-rate sync
 * decides how many times each frame is written. Frames are only turned and scaled when
 * written, so dropped frames cost their decoding only. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/display.h>
#include <libavutil/imgutils.h>
#include <libavutil/mathematics.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

#include "kestrel/video_frames.h"
#include "video_impl.h"

#define DTS_ERROR_THRESHOLD 108000LL /* s: ffmpeg's -dts_error_threshold (30 h) */
#define DTS_DELTA_THRESHOLD 10LL     /* s: its -dts_delta_threshold (TS_DISCONT formats) */
#define EOF_DTS_MAX 64
/* Timestamps beyond this many microseconds (about 31 years) are taken as missing: no
 * real video has them, and ffmpeg's arithmetic on hostile ones would overflow. */
#define TS_LIMIT 1000000000000000LL

/* How the frame is turned before scaling (ffmpeg's autorotate filters). */
enum turn {
	TURN_NONE,
	TURN_TRANSPOSE,
	TURN_CLOCK,
	TURN_CCLOCK,
	TURN_CLOCK_FLIP,
	TURN_HFLIP,
	TURN_VFLIP,
	TURN_HVFLIP
};

/* One picture kept for writing: a reference to the decoded frame, and its RGB once made. */
struct pic {
	AVFrame *f;
	uint8_t *rgb;
	int have, rendered, key;
	double t; /* source time, seconds */
};

struct cfr {
	struct ks_video *v;
	struct ks_video_cfr_opts o;
	ks_video_frame_fn fn;
	void *ctx;
	struct ks_video_result *res;
	struct ks_err *err;
	AVStream *st;
	AVRational tb;	   /* the stream's */
	AVRational enc_tb; /* 1 / output rate */
	AVRational guessed_rate;
	int64_t ts_offset; /* AV_TIME_BASE units, added to every timestamp */
	int discont;	   /* the demuxer may jump (AVFMT_TS_DISCONT) */
	int vscfr;	   /* one stream in the file: initial frames are not duplicated */
	/* ffmpeg's InputStream timestamps, AV_TIME_BASE units */
	int saw_first_ts;
	int64_t dts, next_dts, pts, next_pts;
	int64_t eof_dts[EOF_DTS_MAX];
	int n_eof_dts;
	/* turning and scaling */
	AVFrame *turned, *wide; /* turned frame; 4:4:4 copy before turning 4:2:2 */
	struct SwsContext *sws, *sws_wide;
	int sws_w, sws_h, sws_fmt;
	int cs_space, cs_range, cs_done;
	/* the output side (OutputStream) */
	struct pic last, cur;
	int64_t sync_opts, frame_number;
	int64_t last_nb0[3];
	int last_dropped;
	double max_pkt_end;
	uint64_t video_packets;
	int stop, cb_status, env_status;
};

static void mark(struct cfr *c, unsigned m, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void mark(struct cfr *c, unsigned m, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	ks_video_markv(c->v, m, fmt, ap);
	va_end(ap);
	if (m & KS_VIDEO_LIMIT)
		c->stop = 1;
}

static int check_budget(struct cfr *c)
{
	const struct ks_video_limits *l = &c->v->lim;
	const struct ks_video_result *r = c->res;
	if (c->stop)
		return 1;
	if (ks_time_mono() > c->v->deadline)
		mark(c, KS_VIDEO_LIMIT, "time limit (%.0f s) reached at %.1f s of video",
		     l->max_seconds, r->last_pts);
	else if (r->frames_decoded >= l->max_frames)
		mark(c, KS_VIDEO_LIMIT, "frame limit (%llu decoded frames)",
		     (unsigned long long)l->max_frames);
	else if (r->pixels_decoded >= l->max_total_pixels)
		mark(c, KS_VIDEO_LIMIT, "decoded pixel limit (%llu px)",
		     (unsigned long long)l->max_total_pixels);
	else if (r->errors >= l->max_errors)
		mark(c, KS_VIDEO_LIMIT, "%llu damaged packets (limit)",
		     (unsigned long long)r->errors);
	return c->stop;
}

/* v if it is a timestamp within TS_LIMIT (AV_TIME_BASE units), else AV_NOPTS_VALUE. */
static int64_t ts_ok(int64_t v)
{
	return v != AV_NOPTS_VALUE && v >= -TS_LIMIT && v <= TS_LIMIT ? v : AV_NOPTS_VALUE;
}

/* a + b, both timestamps within TS_LIMIT (so no overflow), or AV_NOPTS_VALUE. */
static int64_t ts_add(int64_t a, int64_t b)
{
	if (ts_ok(a) == AV_NOPTS_VALUE || ts_ok(b) == AV_NOPTS_VALUE)
		return AV_NOPTS_VALUE;
	return ts_ok(a + b);
}

/* A packet timestamp in the stream's time base, kept when within TS_LIMIT. */
static int64_t pkt_ts_ok(const struct cfr *c, int64_t v)
{
	if (v == AV_NOPTS_VALUE)
		return v;
	double us = (double)v * av_q2d(c->tb) * AV_TIME_BASE;
	return us >= -(double)TS_LIMIT && us <= (double)TS_LIMIT ? v : AV_NOPTS_VALUE;
}

static void errstr(int e, char *buf, size_t n)
{
	if (av_strerror(e, buf, n) < 0)
		snprintf(buf, n, "error %d", e);
}

/* ---- turning: ffmpeg's autorotate ---- */

/* cmdutils' get_rotation: the display matrix's angle, clockwise, in [0, 360). */
static double rotation_of(const int32_t *m)
{
	double theta = 0;
	if (m)
		theta = -round(av_display_rotation_get(m));
	theta -= 360 * floor(theta / 360 + 0.9 / 360);
	return theta;
}

static enum turn turn_of(const int32_t *m)
{
	double theta = rotation_of(m);
	if (fabs(theta - 90) < 1.0)
		return m[3] > 0 ? TURN_TRANSPOSE : TURN_CLOCK;
	if (fabs(theta - 180) < 1.0) {
		int h = m[0] < 0, vf = m[4] < 0;
		return h && vf ? TURN_HVFLIP : h ? TURN_HFLIP : vf ? TURN_VFLIP : TURN_NONE;
	}
	if (fabs(theta - 270) < 1.0)
		return m[3] < 0 ? TURN_CLOCK_FLIP : TURN_CCLOCK;
	if (fabs(theta) > 1.0) {
		/* ffmpeg's rotate filter (any angle, black corners): not reproduced. */
		ks_log(KS_LOG_DEBUG, "video: rotation by %.0f degrees ignored", theta);
		return TURN_NONE;
	}
	return m && m[4] < 0 ? TURN_VFLIP : TURN_NONE;
}

static const int32_t *display_matrix(const struct cfr *c, const AVFrame *f)
{
	const AVFrameSideData *sd = av_frame_get_side_data(f, AV_FRAME_DATA_DISPLAYMATRIX);
	if (sd && sd->size >= 9 * sizeof(int32_t))
		return (const int32_t *)sd->data;
	size_t size = 0;
	const uint8_t *p = av_stream_get_side_data(c->st, AV_PKT_DATA_DISPLAYMATRIX, &size);
	return p && size >= 9 * sizeof(int32_t) ? (const int32_t *)p : NULL;
}

/* Bytes per pixel in each plane of a format whose components are whole bytes; 0 for a
 * format that cannot be moved pixel by pixel (bitstreams, palettes, hardware). */
static int plane_steps(const AVPixFmtDescriptor *d, int step[4])
{
	if (d->flags & (AV_PIX_FMT_FLAG_BITSTREAM | AV_PIX_FMT_FLAG_PAL | AV_PIX_FMT_FLAG_HWACCEL))
		return 0;
	memset(step, 0, 4 * sizeof *step);
	for (int i = 0; i < d->nb_components; i++)
		if (d->comp[i].step > step[d->comp[i].plane])
			step[d->comp[i].plane] = d->comp[i].step;
	return 1;
}

/* dst = src turned (transpose, hflip, vflip filters: same pixel moves). dst is
 * allocated here with the turned size. */
static int turn_frame(AVFrame *dst, const AVFrame *src, enum turn t)
{
	const AVPixFmtDescriptor *d = av_pix_fmt_desc_get((enum AVPixelFormat)src->format);
	int step[4];
	if (!d || !plane_steps(d, step))
		return AVERROR(EINVAL);
	int swap =
	    t == TURN_TRANSPOSE || t == TURN_CLOCK || t == TURN_CCLOCK || t == TURN_CLOCK_FLIP;
	av_frame_unref(dst);
	dst->format = src->format;
	dst->width = swap ? src->height : src->width;
	dst->height = swap ? src->width : src->height;
	int r = av_frame_get_buffer(dst, 0);
	if (r < 0)
		return r;
	av_frame_copy_props(dst, src);
	int planes = av_pix_fmt_count_planes((enum AVPixelFormat)src->format);
	for (int p = 0; p < planes; p++) {
		int chroma = (p == 1 || p == 2) && !(d->flags & AV_PIX_FMT_FLAG_RGB);
		int sw = chroma ? AV_CEIL_RSHIFT(src->width, d->log2_chroma_w) : src->width;
		int sh = chroma ? AV_CEIL_RSHIFT(src->height, d->log2_chroma_h) : src->height;
		int dw = swap ? sh : sw, dh = swap ? sw : sh;
		int ps = step[p];
		const uint8_t *s = src->data[p];
		ptrdiff_t sl = src->linesize[p];
		uint8_t *o = dst->data[p];
		ptrdiff_t ol = dst->linesize[p];
		for (int y = 0; y < dh; y++) {
			uint8_t *row = o + y * ol;
			for (int x = 0; x < dw; x++) {
				int sx, sy;
				switch (t) {
				case TURN_TRANSPOSE:
					sx = y, sy = x;
					break;
				case TURN_CLOCK:
					sx = y, sy = sh - 1 - x;
					break;
				case TURN_CCLOCK:
					sx = dh - 1 - y, sy = x;
					break;
				case TURN_CLOCK_FLIP:
					sx = dh - 1 - y, sy = sh - 1 - x;
					break;
				case TURN_HFLIP:
					sx = sw - 1 - x, sy = y;
					break;
				case TURN_VFLIP:
					sx = x, sy = sh - 1 - y;
					break;
				case TURN_HVFLIP:
					sx = sw - 1 - x, sy = sh - 1 - y;
					break;
				default:
					sx = x, sy = y;
					break;
				}
				memcpy(row + (ptrdiff_t)x * ps, s + sy * sl + (ptrdiff_t)sx * ps,
				       (size_t)ps);
			}
		}
	}
	return 0;
}

/* ---- scaling: ffmpeg's scale filter ---- */

/* vf_scale's parse_yuv_type("auto", colorspace). */
static const int *matrix_of(int colorspace)
{
	if (colorspace < 1 || colorspace > 10 || colorspace == 8)
		colorspace = AVCOL_SPC_BT470BG;
	return sws_getCoefficients(colorspace);
}

static struct SwsContext *scaler_new(int sw, int sh, int sfmt, int dw, int dh, int dfmt)
{
	struct SwsContext *s = sws_alloc_context();
	if (!s)
		return NULL;
	av_opt_set_int(s, "srcw", sw, 0);
	av_opt_set_int(s, "srch", sh, 0);
	av_opt_set_int(s, "src_format", sfmt, 0);
	av_opt_set_int(s, "dstw", dw, 0);
	av_opt_set_int(s, "dsth", dh, 0);
	av_opt_set_int(s, "dst_format", dfmt, 0);
	av_opt_set_int(s, "sws_flags", SWS_BICUBIC, 0);
	av_opt_set_int(s, "threads", 1, 0);
	/* MPEG-2 chroma siting for yuv420p, as the scale filter overrides it. */
	av_opt_set_int(s, "src_v_chr_pos", sfmt == AV_PIX_FMT_YUV420P ? 128 : -513, 0);
	av_opt_set_int(s, "dst_v_chr_pos", dfmt == AV_PIX_FMT_YUV420P ? 128 : -513, 0);
	if (sws_init_context(s, NULL, NULL) < 0) {
		sws_freeContext(s);
		return NULL;
	}
	return s;
}

/* The colour details the scale filter sets before every frame. */
static void set_colour(struct SwsContext *s, const AVFrame *f)
{
	int *inv, *table, in_full, out_full, bri, con, sat;
	if (sws_getColorspaceDetails(s, &inv, &in_full, &table, &out_full, &bri, &con, &sat) < 0)
		return;
	const int *m = matrix_of(f->colorspace);
	if (f->color_range != AVCOL_RANGE_UNSPECIFIED)
		in_full = f->color_range == AVCOL_RANGE_JPEG;
	sws_setColorspaceDetails(s, m, in_full, m, out_full, bri, con, sat);
}

/* 4:2:2-like formats cannot be transposed as they are; ffmpeg converts them first (to
 * a format the transpose filter takes). Approximated by yuv444p. */
static const AVFrame *widen(struct cfr *c, const AVFrame *f, enum turn t)
{
	const AVPixFmtDescriptor *d = av_pix_fmt_desc_get((enum AVPixelFormat)f->format);
	int swap =
	    t == TURN_TRANSPOSE || t == TURN_CLOCK || t == TURN_CCLOCK || t == TURN_CLOCK_FLIP;
	int step[4];
	if (!swap || (d && d->log2_chroma_w == d->log2_chroma_h && plane_steps(d, step)))
		return f;
	c->sws_wide = sws_getCachedContext(c->sws_wide, f->width, f->height,
					   (enum AVPixelFormat)f->format, f->width, f->height,
					   AV_PIX_FMT_YUV444P, SWS_BICUBIC, NULL, NULL, NULL);
	if (!c->sws_wide)
		return NULL;
	av_frame_unref(c->wide);
	c->wide->format = AV_PIX_FMT_YUV444P;
	c->wide->width = f->width;
	c->wide->height = f->height;
	if (av_frame_get_buffer(c->wide, 0) < 0)
		return NULL;
	av_frame_copy_props(c->wide, f);
	set_colour(c->sws_wide, f);
	sws_scale(c->sws_wide, (const uint8_t *const *)f->data, f->linesize, 0, f->height,
		  c->wide->data, c->wide->linesize);
	return c->wide;
}

/* Makes p's RGB (turned and scaled) if not made yet. 0, or a negative AVERROR. */
static int render(struct cfr *c, struct pic *p)
{
	if (p->rendered)
		return 0;
	const AVFrame *f = p->f;
	enum turn t = turn_of(display_matrix(c, f));
	if (t != TURN_NONE) {
		const AVFrame *w = widen(c, f, t);
		if (!w)
			return AVERROR(ENOMEM);
		int r = turn_frame(c->turned, w, t);
		if (r < 0) {
			ks_log(KS_LOG_DEBUG, "video: cannot turn %s frames",
			       av_get_pix_fmt_name((enum AVPixelFormat)f->format));
		} else {
			f = c->turned;
		}
	}
	if (!c->sws || c->sws_w != f->width || c->sws_h != f->height || c->sws_fmt != f->format) {
		sws_freeContext(c->sws);
		c->sws = scaler_new(f->width, f->height, f->format, (int)c->o.width,
				    (int)c->o.height, AV_PIX_FMT_RGB24);
		c->sws_w = f->width;
		c->sws_h = f->height;
		c->sws_fmt = f->format;
		c->cs_done = 0;
		if (!c->sws)
			return AVERROR(EINVAL);
	}
	if (!c->cs_done || c->cs_space != (int)f->colorspace ||
	    c->cs_range != (int)f->color_range) {
		set_colour(c->sws, f);
		c->cs_space = (int)f->colorspace;
		c->cs_range = (int)f->color_range;
		c->cs_done = 1;
	}
	uint8_t *planes[4] = {p->rgb, NULL, NULL, NULL};
	int strides[4] = {(int)c->o.width * 3, 0, 0, 0};
	int r = sws_scale(c->sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height,
			  planes, strides);
	if (r < 0)
		return r;
	p->rendered = 1;
	return 0;
}

/* ---- writing: do_video_out's constant-frame-rate sync ---- */

static int emit(struct cfr *c, struct pic *p)
{
	if (c->res->frames_kept >= c->o.max_out) {
		mark(c, KS_VIDEO_LIMIT, "output frame limit (%llu frames)",
		     (unsigned long long)c->o.max_out);
		return 1;
	}
	int r = render(c, p);
	if (r < 0) {
		char e[128];
		errstr(r, e, sizeof e);
		c->res->errors++;
		mark(c, KS_VIDEO_CORRUPT, "cannot convert %s frames (%s)",
		     av_get_pix_fmt_name((enum AVPixelFormat)p->f->format), e);
		if (r == AVERROR(ENOMEM)) {
			c->env_status = ks_err_set(c->err, KS_E_ENV, "out of memory");
			c->stop = 1;
		}
		return c->stop;
	}
	struct ks_video_frame vf = {
	    .pix = p->rgb,
	    .stride = (size_t)c->o.width * 3,
	    .width = c->o.width,
	    .height = c->o.height,
	    .channels = 3,
	    .src_width = (uint32_t)p->f->width,
	    .src_height = (uint32_t)p->f->height,
	    .pts = (double)c->sync_opts * av_q2d(c->enc_tb),
	    .frame_number = c->frame_number,
	    .key = p->key,
	    .index = c->res->frames_kept,
	};
	c->res->frames_kept++;
	c->sync_opts++;
	c->frame_number++;
	if (c->fn) {
		int s = c->fn(c->ctx, &vf, c->err);
		if (s) {
			c->cb_status = s;
			c->stop = 1;
		}
	}
	return c->stop;
}

static int64_t mid3(int64_t a, int64_t b, int64_t cc)
{
	if (a > b) {
		if (cc > b)
			b = cc > a ? a : cc;
	} else {
		if (b > cc)
			b = cc > a ? cc : a;
	}
	return b;
}

/* One filtered frame (cur, or none at the end). */
static void video_out(struct cfr *c, int flushing)
{
	int64_t nb, nb0;
	if (flushing) {
		nb = nb0 = mid3(c->last_nb0[0], c->last_nb0[1], c->last_nb0[2]);
	} else {
		const AVFrame *f = c->cur.f;
		double sync_ipts = (double)AV_NOPTS_VALUE;
		if (f->pts != AV_NOPTS_VALUE) {
			AVRational tb = c->enc_tb;
			int extra = av_clip(29 - av_log2((unsigned)tb.den), 0, 16);
			tb.den <<= extra;
			sync_ipts = (double)av_rescale_q(f->pts, c->tb, tb);
			sync_ipts /= 1 << extra;
			/* fftools' nudge away from exact midpoints */
			sync_ipts += (sync_ipts > 0 ? 1 : -1) * 1.0 / (1 << 17);
		}
		double duration = 0;
		AVRational fr = c->guessed_rate;
		if (fr.num > 0 && fr.den > 0)
			duration = 1 / (av_q2d(fr) * av_q2d(c->enc_tb));
		if (c->st->start_time != AV_NOPTS_VALUE)
			duration =
			    fmin(duration, 1 / (av_q2d(av_inv_q(c->enc_tb)) * av_q2d(c->enc_tb)));
		double dp = (double)f->pkt_duration * av_q2d(c->tb) / av_q2d(c->enc_tb);
		long dur_pkt = dp > -1e9 && dp < 1e9 ? lrintf((float)dp) : 0;
		if (dur_pkt > 0)
			duration = (double)dur_pkt;

		double delta0 = sync_ipts - (double)c->sync_opts;
		double delta = delta0 + duration;
		nb0 = 0;
		nb = 1;
		if (delta0 < 0 && delta > 0) {
			sync_ipts = (double)c->sync_opts;
			duration += delta0;
			delta0 = 0;
		}
		if (c->vscfr && c->frame_number == 0 && delta0 >= 0.5) {
			delta = duration;
			delta0 = 0;
			c->sync_opts = llrint(sync_ipts);
		}
		if (delta < -1.1) {
			nb = 0;
		} else if (delta > 1.1) {
			nb = llrintf((float)delta);
			if (delta0 > 1.1)
				nb0 = llrintf((float)(delta0 - 0.6));
		}
	}
	if (nb0 > nb)
		nb0 = nb;
	c->last_nb0[2] = c->last_nb0[1];
	c->last_nb0[1] = c->last_nb0[0];
	c->last_nb0[0] = nb0;
	if (nb > (nb0 && c->last_dropped) + (nb > nb0) && nb > DTS_ERROR_THRESHOLD * 30) {
		/* ffmpeg skips the frame (and keeps the previous one as the last) */
		ks_log(KS_LOG_DEBUG, "video: %lld frame duplication too large, skipping",
		       (long long)(nb - 1));
		return;
	}
	c->last_dropped = nb == nb0 && !flushing;
	for (int64_t i = 0; i < nb && !c->stop; i++) {
		struct pic *p;
		if (i < nb0 && c->last.have)
			p = &c->last;
		else if (!flushing)
			p = &c->cur;
		else
			break;
		emit(c, p);
		if (!c->stop)
			check_budget(c);
	}
	if (flushing)
		return;
	/* the frame becomes the last one */
	av_frame_unref(c->last.f);
	av_frame_move_ref(c->last.f, c->cur.f);
	uint8_t *rgb = c->last.rgb;
	c->last.rgb = c->cur.rgb;
	c->cur.rgb = rgb;
	c->last.rendered = c->cur.rendered;
	c->last.key = c->cur.key;
	c->last.t = c->cur.t;
	c->last.have = 1;
	c->cur.rendered = 0;
	c->cur.have = 0;
}

/* ---- decoding: process_input_packet / decode_video ---- */

/* A decoded frame in cur: ffmpeg's timestamp, budget, then the sync. */
static void on_frame(struct cfr *c, int eof)
{
	AVFrame *f = c->cur.f;
	struct ks_video_result *res = c->res;
	const struct ks_video_limits *lim = &c->v->lim;
	res->frames_decoded++;
	if (f->width <= 0 || f->height <= 0)
		return;
	if ((uint32_t)f->width > lim->max_side || (uint32_t)f->height > lim->max_side ||
	    (uint64_t)f->width * (uint64_t)f->height > lim->max_frame_pixels) {
		mark(c, KS_VIDEO_LIMIT, "decoded size %dx%d is over the limit", f->width,
		     f->height);
		return;
	}
	res->pixels_decoded += (uint64_t)f->width * (uint64_t)f->height;
	if (f->decode_error_flags || (f->flags & AV_FRAME_FLAG_CORRUPT)) {
		res->errors++;
		mark(c, KS_VIDEO_CORRUPT, "damaged frame near %.2f s", res->last_pts);
	}
	int64_t best = f->best_effort_timestamp;
	if (eof && best == AV_NOPTS_VALUE && c->n_eof_dts > 0) {
		best = c->eof_dts[0];
		memmove(c->eof_dts, c->eof_dts + 1,
			(size_t)(c->n_eof_dts - 1) * sizeof c->eof_dts[0]);
		c->n_eof_dts--;
	}
	if (best != AV_NOPTS_VALUE) {
		f->pts = best;
		c->next_pts = c->pts = ts_ok(av_rescale_q(best, c->tb, AV_TIME_BASE_Q));
	}
	double t = f->pts != AV_NOPTS_VALUE ? (double)f->pts * av_q2d(c->tb) : NAN;
	if (!isnan(t) && t > res->last_pts)
		res->last_pts = t;
	c->cur.key = f->key_frame;
	c->cur.t = t;
	c->cur.have = 1;
	c->cur.rendered = 0;
	video_out(c, 0);
}

/* ffmpeg's decode(): one send (pkt, or the empty packet at the end), one receive.
 * Returns 0 with *got, AVERROR_EOF when drained, or another negative error. */
static int decode_one(struct cfr *c, AVPacket *pkt, int *got)
{
	*got = 0;
	if (pkt) {
		int r = avcodec_send_packet(c->v->dec, pkt);
		if (r < 0 && r != AVERROR_EOF)
			return r;
	}
	int r = avcodec_receive_frame(c->v->dec, c->cur.f);
	if (r < 0 && r != AVERROR(EAGAIN))
		return r;
	*got = r >= 0;
	return 0;
}

/* process_input_packet for the video stream; pkt NULL at the end of the data (one
 * frame per call then, as ffmpeg). Returns 1 while the decoder may hold frames. */
static int process_packet(struct cfr *c, AVPacket *pkt, AVPacket *empty)
{
	AVCodecContext *dec = c->v->dec;
	if (!c->saw_first_ts) {
		AVRational afr = c->st->avg_frame_rate;
		double d = afr.num ? -dec->has_b_frames * AV_TIME_BASE / av_q2d(afr) : 0;
		c->dts = d >= -(double)TS_LIMIT && d <= (double)TS_LIMIT ? (int64_t)d : 0;
		c->pts = 0;
		c->saw_first_ts = 1;
	}
	if (c->next_dts == AV_NOPTS_VALUE)
		c->next_dts = c->dts;
	if (c->next_pts == AV_NOPTS_VALUE)
		c->next_pts = c->pts;
	if (pkt && pkt->dts != AV_NOPTS_VALUE)
		c->next_dts = c->dts = ts_ok(av_rescale_q(pkt->dts, c->tb, AV_TIME_BASE_Q));

	int repeating = 0, eof = !pkt;
	for (;;) {
		c->pts = c->next_pts;
		c->dts = c->next_dts;
		AVPacket *send = repeating ? NULL : (pkt ? pkt : empty);
		int64_t dts = c->dts != AV_NOPTS_VALUE ? av_rescale_q(c->dts, AV_TIME_BASE_Q, c->tb)
						       : AV_NOPTS_VALUE;
		if (send && pkt)
			pkt->dts = dts; /* ffmpeg gives the decoder its own dts */
		if (eof && c->n_eof_dts < EOF_DTS_MAX)
			c->eof_dts[c->n_eof_dts++] = dts;
		int got = 0;
		int r = (send && pkt && pkt->size == 0) ? 0 : decode_one(c, send, &got);
		int64_t duration_pts = got ? c->cur.f->pkt_duration : 0;
		if (duration_pts < 0 || pkt_ts_ok(c, duration_pts) == AV_NOPTS_VALUE)
			duration_pts = 0;
		int64_t duration_dts = 0;
		if (!repeating || !pkt || got) {
			if (pkt && pkt->duration) {
				duration_dts =
				    ts_ok(av_rescale_q(pkt->duration, c->tb, AV_TIME_BASE_Q));
				if (duration_dts == AV_NOPTS_VALUE)
					duration_dts = 0;
			} else if (dec->framerate.num != 0 && dec->framerate.den != 0 &&
				   dec->ticks_per_frame > 0) {
				const AVCodecParserContext *pc = av_stream_get_parser(c->st);
				int64_t ticks =
				    pc ? (int64_t)pc->repeat_pict + 1 : dec->ticks_per_frame;
				int64_t num;
				if (__builtin_mul_overflow(
					(int64_t)AV_TIME_BASE * dec->framerate.den, ticks, &num))
					num = 0;
				duration_dts =
				    ts_ok(num / dec->framerate.num / dec->ticks_per_frame);
				if (duration_dts == AV_NOPTS_VALUE)
					duration_dts = 0;
			}
			if (c->dts != AV_NOPTS_VALUE && duration_dts)
				c->next_dts = ts_add(c->next_dts, duration_dts);
			else
				c->next_dts = AV_NOPTS_VALUE;
		}
		if (got) {
			on_frame(c, eof);
			c->next_pts = ts_add(c->next_pts,
					     duration_pts > 0
						 ? av_rescale_q(duration_pts, c->tb, AV_TIME_BASE_Q)
						 : duration_dts);
			av_frame_unref(c->cur.f);
		}
		if (r == AVERROR_EOF)
			return 0;
		if (r < 0) {
			char e[128];
			errstr(r, e, sizeof e);
			c->res->errors++;
			mark(c, KS_VIDEO_CORRUPT, "decoder rejected a packet near %.2f s: %s",
			     c->max_pkt_end, e);
			if (r == AVERROR(ENOMEM))
				mark(c, KS_VIDEO_LIMIT, "decoder out of memory");
			check_budget(c);
			return !eof;
		}
		if (!pkt)
			return got; /* at the end: one frame per call */
		if (check_budget(c) || !got)
			return 1;
		repeating = 1;
	}
}

/* process_input's timestamp fixes for one packet (offset, jumps). */
static void fix_timestamps(struct cfr *c, AVPacket *pkt)
{
	/* Within TS_LIMIT, in any time base a libav demuxer gives (at most 1/INT_MAX s a
	 * tick), timestamp and offset are under 2^61: the sums cannot overflow. */
	pkt->dts = pkt_ts_ok(c, pkt->dts);
	pkt->pts = pkt_ts_ok(c, pkt->pts);
	int64_t off = av_rescale_q(c->ts_offset, AV_TIME_BASE_Q, c->tb);
	if (pkt->dts != AV_NOPTS_VALUE)
		pkt->dts = pkt_ts_ok(c, pkt->dts + off);
	if (pkt->pts != AV_NOPTS_VALUE)
		pkt->pts = pkt_ts_ok(c, pkt->pts + off);
	if (pkt->dts == AV_NOPTS_VALUE || c->next_dts == AV_NOPTS_VALUE)
		return;
	int64_t pkt_dts = av_rescale_q_rnd(pkt->dts, c->tb, AV_TIME_BASE_Q,
					   AV_ROUND_NEAR_INF | AV_ROUND_PASS_MINMAX);
	int64_t delta = pkt_dts - c->next_dts;
	if (c->discont) {
		int64_t hi = c->pts > c->dts ? c->pts : c->dts;
		if (delta < -DTS_DELTA_THRESHOLD * AV_TIME_BASE ||
		    delta > DTS_DELTA_THRESHOLD * AV_TIME_BASE ||
		    pkt->dts + AV_TIME_BASE / 10 < hi) {
			int64_t to = ts_add(c->ts_offset, -delta);
			if (to != AV_NOPTS_VALUE)
				c->ts_offset = to;
			int64_t d = av_rescale_q(delta, AV_TIME_BASE_Q, c->tb);
			pkt->dts = pkt_ts_ok(c, pkt->dts - d);
			if (pkt->pts != AV_NOPTS_VALUE)
				pkt->pts = pkt_ts_ok(c, pkt->pts - d);
		}
		return;
	}
	if (delta < -DTS_ERROR_THRESHOLD * AV_TIME_BASE ||
	    delta > DTS_ERROR_THRESHOLD * AV_TIME_BASE)
		pkt->dts = AV_NOPTS_VALUE;
	if (pkt->pts != AV_NOPTS_VALUE) {
		delta = av_rescale_q(pkt->pts, c->tb, AV_TIME_BASE_Q) - c->next_dts;
		if (delta < -DTS_ERROR_THRESHOLD * AV_TIME_BASE ||
		    delta > DTS_ERROR_THRESHOLD * AV_TIME_BASE)
			pkt->pts = AV_NOPTS_VALUE;
	}
}

/* After the walk: does the data end before the container said it would? */
static void check_truncation(struct cfr *c, int read_status)
{
	struct ks_video *v = c->v;
	double declared = -1;
	if (c->st->duration != AV_NOPTS_VALUE && c->st->duration > 0)
		declared = (double)c->st->duration * av_q2d(c->tb);
	else if (v->info.duration > 0)
		declared = v->info.duration;
	double fd = v->info.fps > 0 ? 1 / v->info.fps : 0;
	double tol = fd > 0 ? fmax(1.0, 3 * fd) : 1.0;
	if (read_status != AVERROR_EOF && read_status < 0) {
		char e[128];
		errstr(read_status, e, sizeof e);
		if (v->src.size && v->src.pos >= v->src.size)
			mark(c, KS_VIDEO_TRUNCATED, "data ends early (%s) at %.2f s", e,
			     c->max_pkt_end);
		else
			mark(c, KS_VIDEO_CORRUPT, "container unreadable after %.2f s: %s",
			     c->max_pkt_end, e);
	}
	if (!c->res->frames_decoded)
		mark(c, KS_VIDEO_CORRUPT, "no frame could be decoded");
	if (declared > 0 && c->max_pkt_end + tol < declared)
		mark(c, KS_VIDEO_TRUNCATED, "data ends at %.2f s of %.2f s declared",
		     c->max_pkt_end, declared);
}

static void opts_resolve(struct ks_video_cfr_opts *o, const struct ks_video_cfr_opts *in)
{
	static const struct ks_video_cfr_opts d = {0};
	*o = in ? *in : d;
	if (!o->width || o->width > 4096)
		o->width = 64;
	if (!o->height || o->height > 4096)
		o->height = 64;
	if (o->rate_num <= 0 || o->rate_den <= 0) {
		o->rate_num = 15;
		o->rate_den = 1;
	}
	if (!o->max_out)
		o->max_out = KS_VIDEO_CFR_MAX_OUT;
}

int ks_video_frames_cfr(struct ks_video *v, const struct ks_video_cfr_opts *opts,
			ks_video_frame_fn fn, void *ctx, struct ks_video_result *res,
			struct ks_err *err)
{
	struct ks_video_result res_local;
	if (!res)
		res = &res_local;
	memset(res, 0, sizeof *res);
	if (v->sampled)
		return ks_err_set(err, KS_E_USAGE, "a video can be walked once per open");
	v->sampled = 1;

	int rc = KS_OK;
	struct cfr *c = ks_xcalloc(1, sizeof *c);
	AVPacket *pkt = av_packet_alloc(), *empty = av_packet_alloc();
	c->cur.f = av_frame_alloc();
	c->last.f = av_frame_alloc();
	c->turned = av_frame_alloc();
	c->wide = av_frame_alloc();
	if (!pkt || !empty || !c->cur.f || !c->last.f || !c->turned || !c->wide) {
		rc = ks_err_set(err, KS_E_ENV, "out of memory");
		goto out;
	}
	c->v = v;
	opts_resolve(&c->o, opts);
	c->fn = fn;
	c->ctx = ctx;
	c->res = res;
	c->err = err;
	c->cur.rgb = ks_xmalloc((size_t)c->o.width * c->o.height * 3);
	c->last.rgb = ks_xmalloc((size_t)c->o.width * c->o.height * 3);
	c->st = v->fmt->streams[v->vs];
	c->tb = c->st->time_base;
	c->enc_tb = av_inv_q((AVRational){c->o.rate_num, c->o.rate_den});
	c->guessed_rate = av_guess_frame_rate(v->fmt, c->st, NULL);
	c->ts_offset = ts_ok(v->fmt->start_time) != AV_NOPTS_VALUE ? -v->fmt->start_time : 0;
	c->discont = v->fmt->iformat && (v->fmt->iformat->flags & AVFMT_TS_DISCONT);
	c->vscfr = v->fmt->nb_streams == 1;
	c->next_dts = c->next_pts = AV_NOPTS_VALUE;
	c->dts = c->pts = AV_NOPTS_VALUE;
	if (c->tb.num <= 0 || c->tb.den <= 0) {
		mark(c, KS_VIDEO_CORRUPT, "no time base");
		goto done;
	}
	v->dec->skip_frame = AVDISCARD_DEFAULT;
	for (unsigned i = 0; i < v->fmt->nb_streams; i++)
		if ((int)i != v->vs)
			v->fmt->streams[i]->discard = AVDISCARD_ALL;

	int read_status = 0, consecutive = 0;
	while (!c->stop) {
		if (check_budget(c))
			break;
		if (res->packets >= v->lim.max_packets) {
			mark(c, KS_VIDEO_LIMIT, "packet limit (%llu packets)",
			     (unsigned long long)v->lim.max_packets);
			break;
		}
		int r = av_read_frame(v->fmt, pkt);
		if (r < 0) {
			read_status = r;
			if (r == AVERROR_EOF)
				break;
			if (r == AVERROR_EXIT) {
				check_budget(c);
				break;
			}
			res->errors++;
			if (avio_feof(v->fmt->pb) || ++consecutive >= 16 ||
			    res->errors >= v->lim.max_errors)
				break;
			continue;
		}
		consecutive = 0;
		read_status = 0;
		res->packets++;
		if (pkt->stream_index != v->vs) {
			av_packet_unref(pkt);
			continue;
		}
		c->video_packets++;
		if (pkt->flags & AV_PKT_FLAG_CORRUPT) {
			res->errors++;
			mark(c, KS_VIDEO_CORRUPT, "damaged packet near %.2f s", c->max_pkt_end);
		}
		fix_timestamps(c, pkt);
		int64_t ts = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
		if (ts != AV_NOPTS_VALUE) {
			double t = (double)ts * av_q2d(c->tb);
			double dur = pkt->duration > 0 ? (double)pkt->duration * av_q2d(c->tb)
						       : (v->info.fps > 0 ? 1 / v->info.fps : 0);
			if (t + dur > c->max_pkt_end)
				c->max_pkt_end = t + dur;
		}
		process_packet(c, pkt, empty);
		av_packet_unref(pkt);
	}
	/* the decoder's remaining frames, one per call, then the last frame's repeats */
	while (!c->stop && process_packet(c, NULL, empty))
		;
	if (!c->stop)
		video_out(c, 1);
	if (!c->stop)
		check_truncation(c, read_status);
done:
	if (c->env_status)
		rc = c->env_status;
	else if (c->cb_status)
		rc = c->cb_status;
out:
	res->seconds = ks_time_mono() - v->t0;
	res->marks = v->info.marks;
	snprintf(res->why, sizeof res->why, "%s", v->info.why);
	if (c) {
		sws_freeContext(c->sws);
		sws_freeContext(c->sws_wide);
		av_frame_free(&c->cur.f);
		av_frame_free(&c->last.f);
		av_frame_free(&c->turned);
		av_frame_free(&c->wide);
		free(c->cur.rgb);
		free(c->last.rgb);
		free(c);
	}
	av_packet_free(&pkt);
	av_packet_free(&empty);
	return rc;
}
