/* kestrel video: moving images through libavformat/libavcodec, from a file or from a
 * byte buffer (carved and archive-member videos need no temporary file). A prober
 * (container, duration, size, codecs, frame rate, creation time), a frame sampler that
 * decodes only the key frames it keeps where the codec allows, under a per-item budget
 * that hostile files cannot escape, and contact sheets (a JPEG grid of sampled frames
 * with their times). Audio is never decoded. */
#ifndef KESTREL_VIDEO_H
#define KESTREL_VIDEO_H

#include <stddef.h>
#include <stdint.h>

#include "kestrel/base.h"

/* The per-item budget. Every limit applies to one open video, from ks_video_open_* to
 * ks_video_close (probing included). 0 in a field means "the default's value". */
struct ks_video_limits {
	double max_seconds;          /* wall time */
	uint64_t max_packets;        /* packets read from the container (all streams) */
	uint64_t max_frames;         /* frames decoded (kept or not) */
	uint32_t max_side;           /* largest width or height, declared or decoded */
	uint64_t max_frame_pixels;   /* largest width * height of one frame */
	uint64_t max_total_pixels;   /* sum of width * height over decoded frames */
	uint64_t max_errors;         /* packets the decoder rejects before giving up */
};
/* 120 s, 10M packets, 1M frames, 16384 px per side, 36 Mpx per frame (8K UHD fits),
 * 1e11 px in all, 1000 errors. */
extern const struct ks_video_limits ks_video_default_limits;

/* Marks on an item: set as they are found, never cleared. */
enum ks_video_mark {
	KS_VIDEO_TRUNCATED = 1, /* the data ends before the container says it should */
	KS_VIDEO_CORRUPT = 2,   /* packets the demuxer or decoder could not read */
	KS_VIDEO_LIMIT = 4,     /* a budget stopped the work (see why) */
	KS_VIDEO_NO_INDEX = 8,  /* index missing (e.g. MP4 without moov): nothing decodable */
};

/* What the prober found. Strings are NUL-terminated, "" when unknown; numbers are 0
 * (or negative for duration/fps) when unknown. */
struct ks_video_info {
	char container[16];      /* kestrel type name: "mp4", "mov", "3gp", "avi", "mkv",
				    "webm", "asf", "flv", "mpeg-ps", "mpeg-ts", or the
				    demuxer's name for anything else */
	char demuxer[48];        /* libavformat's name ("mov,mp4,m4a,3gp,3g2,mj2") */
	char video_codec[32];    /* "h264", "mpeg4", "vp9", ... */
	char audio_codec[32];    /* first audio stream's codec as the container declares
				    it (never probed by decoding), "" if none */
	char pix_fmt[32];        /* "yuv420p", ... */
	double duration;         /* seconds, -1 if unknown */
	double fps;              /* average frame rate, -1 if unknown */
	uint32_t width, height;  /* coded picture size of the video stream */
	int64_t creation_time;   /* container creation time, Unix seconds, 0 if none */
	int64_t bit_rate;        /* bits per second, 0 if unknown */
	uint64_t declared_frames; /* frame count the container declares, 0 if unknown */
	uint64_t size;           /* bytes of the item, 0 if unknown (a pipe) */
	int video_stream;        /* index of the stream sampled */
	int n_streams;
	int has_audio;
	unsigned marks;          /* enum ks_video_mark found so far */
	char why[160];           /* why: the first limit hit, else the latest mark; "" */
};

/* An open video. Not thread-safe: one per thread, one item at a time. */
struct ks_video;

/* Opens the file at path read-only (through kestrel's own reader: no protocol,
 * playlist or external reference is ever followed) and probes it. lim may be NULL
 * (defaults). On success *out owns the video; release with ks_video_close. Returns
 * KS_E_NOTFOUND/KS_E_ENV (cannot open the file), KS_E_EVIDENCE (not a video kestrel
 * can read, or no index: *out is NULL but info, if non-NULL, gets what was learnt and
 * the marks), KS_E_UNSUPPORTED (no video stream or no decoder), KS_E_LIMIT (declared
 * size or the probe ran out of budget). info may be NULL. */
int ks_video_open_file(struct ks_video **out, const char *path, const struct ks_video_limits *lim,
		       struct ks_video_info *info, struct ks_err *err);
/* The same over data[0..len), which must stay valid and unchanged until close. Never
 * reads outside it and never writes it. */
int ks_video_open_mem(struct ks_video **out, const uint8_t *data, size_t len,
		      const struct ks_video_limits *lim, struct ks_video_info *info,
		      struct ks_err *err);
/* Reads up to n bytes at offset off of the item into buf. Returns the bytes read, 0 at
 * the end of the data, or a negative value on a read error. */
typedef int64_t (*ks_video_read_fn)(void *ctx, uint64_t off, uint8_t *buf, size_t n);
/* The same over a reader: bytes 0..size) of an item read through read(ctx, ...), which
 * must stay valid until close (e.g. an evidence item too large to hold in memory).
 * Reads happen only inside ks_video_* calls, on the calling thread. */
int ks_video_open_reader(struct ks_video **out, ks_video_read_fn read, void *ctx, uint64_t size,
			 const struct ks_video_limits *lim, struct ks_video_info *info,
			 struct ks_err *err);
void ks_video_close(struct ks_video *v); /* accepts NULL */

/* The probe's findings, with marks added by sampling so far (borrowed, valid until
 * close). */
const struct ks_video_info *ks_video_get_info(const struct ks_video *v);

/* ---- The frame sampler ---- */

enum ks_video_sample_mode {
	/* Key frames only: packets the container does not flag as key are never
	 * decoded (and the decoder skips non-key frames), except between key frames
	 * further apart than key_gap (long GOPs), where the sampler decodes forward
	 * from the key frame to take frames at about the rate (reference frames only
	 * where the codec allows), while the item's time budget allows. Streams with no
	 * key flag at all within the first seconds fall back to KS_VIDEO_ALL. */
	KS_VIDEO_KEY = 0,
	/* Every frame is decoded (except intra-only codecs such as MJPEG, whose frames
	 * are skipped before decoding when the rate cap would drop them); scene changes
	 * between any two frames are seen. */
	KS_VIDEO_ALL = 1,
};

struct ks_video_sample_opts {
	int mode;               /* enum ks_video_sample_mode */
	double rate;            /* at most this many kept frames per second of video;
				   0: 1 fps; < 0: no cap */
	double max_interval;    /* keep a candidate if this many seconds passed since the
				   last kept frame even without a scene change; 0: 1/rate
				   (every candidate the cap allows is kept) */
	double scene_threshold; /* mean absolute luma difference, 0..255, over a 32x32
				   thumbnail, that makes a scene change; 0: 24 */
	uint32_t max_side;      /* long side of delivered frames; 0: 512 (never upscaled) */
	int channels;           /* 3: RGB (default, also for 0), 1: luma */
	uint64_t max_kept;      /* stop after this many kept frames; 0: no limit */
	double key_gap;         /* KEY mode: key frames further apart than this many
				   seconds are filled (see KS_VIDEO_KEY); 0:
				   KS_VIDEO_KEY_GAP_DEFAULT; < 0: never */
};
/* Seconds between key frames above which KEY mode decodes forward. */
#define KS_VIDEO_KEY_GAP_DEFAULT 10.0

/* One kept frame, valid only during the callback. */
struct ks_video_frame {
	const uint8_t *pix;     /* height rows of width * channels bytes, stride apart */
	size_t stride;
	uint32_t width, height; /* as delivered (long side <= max_side) */
	int channels;           /* 1 or 3 (R, G, B) */
	uint32_t src_width, src_height; /* decoded size */
	double pts;             /* seconds from the start of the stream */
	int64_t frame_number;   /* index of the frame in the stream (from pts and the frame
				   rate; decode order count when either is missing) */
	int key;                /* it was a key frame */
	int scene;              /* kept because the picture changed (not by the clock) */
	uint64_t index;         /* 0, 1, 2 ... among kept frames */
};

/* Called once per kept frame, in presentation order. Nonzero (a negative ks_status
 * with err set) stops sampling; ks_video_sample returns it. */
typedef int (*ks_video_frame_fn)(void *ctx, const struct ks_video_frame *f, struct ks_err *err);

/* What a sampling pass did. */
struct ks_video_result {
	uint64_t packets;        /* packets read (all streams) */
	uint64_t frames_decoded;
	uint64_t frames_kept;
	uint64_t pixels_decoded;
	uint64_t errors;         /* packets rejected by the demuxer or decoder */
	double seconds;          /* wall time of the item so far */
	double last_pts;         /* latest pts reached, seconds (how far it got) */
	int fell_back;           /* KEY mode found no key flags and decoded everything */
	uint64_t frames_filled;  /* kept frames decoded forward between distant key frames */
	unsigned marks;          /* enum ks_video_mark (also in the info) */
	char why[160];
};

/* Samples the video from its start, delivering each kept frame to fn (which may be
 * NULL to only count). opts may be NULL (defaults). Callable once per open video
 * (KS_E_USAGE after). Returns 0 when the walk ended — at the end of the data, or
 * early on a truncated, corrupt or over-budget item: res->marks and res->why say so
 * and the frames delivered so far are valid. Returns the callback's status if it
 * stopped the walk. res may be NULL. */
int ks_video_sample(struct ks_video *v, const struct ks_video_sample_opts *opts,
		    ks_video_frame_fn fn, void *ctx, struct ks_video_result *res,
		    struct ks_err *err);

/* Human text of a mark set ("truncated,limit"); "ok" for 0. */
const char *ks_video_marks_name(unsigned marks, char *buf, size_t n);

/* ---- Contact sheets ---- */

struct ks_contact_opts {
	uint32_t columns;    /* 0: 4 */
	uint32_t max_tiles;  /* 0: 24; frames beyond are thinned evenly over the video */
	uint32_t tile_width; /* 0: 240 px (height follows the aspect ratio) */
	int quality;         /* JPEG quality, 0: 80 */
};

/* Accumulates kept frames into tiles (bounded memory whatever the video's length)
 * and renders a grid with each tile's time ("h:mm:ss") as a baseline JPEG. */
struct ks_contact;
struct ks_contact *ks_contact_new(const struct ks_contact_opts *opts); /* opts may be NULL */
void ks_contact_free(struct ks_contact *c);                          /* accepts NULL */
/* Adds one frame (1 or 3 channels). Matches ks_video_frame_fn, so it can be the
 * sampler's callback directly (ctx = the sheet). Returns 0. */
int ks_contact_add(void *sheet, const struct ks_video_frame *f, struct ks_err *err);
/* Number of tiles the sheet would render now. */
size_t ks_contact_count(const struct ks_contact *c);
/* Renders the sheet as JPEG into out (appended). With no frames, renders a single
 * grey tile saying "--:--". Returns 0 or KS_E_ENV (encoder failure). */
int ks_contact_render(struct ks_contact *c, struct ks_buf *out, struct ks_err *err);

/* Convenience: samples v (opts may be NULL) and renders its contact sheet into out.
 * Same returns as ks_video_sample, or ks_contact_render's. */
int ks_video_contact_sheet(struct ks_video *v, const struct ks_video_sample_opts *opts,
			   const struct ks_contact_opts *copts, struct ks_buf *out,
			   struct ks_video_result *res, struct ks_err *err);

#endif
