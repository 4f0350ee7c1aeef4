/* Video probing and frame sampling through libavformat/libavcodec (see video.h).
 * Bytes come from kestrel's own reader (a read-only file descriptor or a caller's
 * buffer) so that no protocol, playlist or external reference is ever opened; every
 * loop checks the item's budget, and the demuxer is interrupted when time runs out. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
#include <libavutil/log.h>
#include <libavutil/mem.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

#include "kestrel/video.h"
#include "video_impl.h"

const struct ks_video_limits ks_video_default_limits = {
	.max_seconds = 120,
	.max_packets = 10000000,
	.max_frames = 1000000,
	.max_side = 16384,
	.max_frame_pixels = 36000000,
	.max_total_pixels = 100000000000ULL,
	.max_errors = 1000,
};

/* Demuxers kestrel lets libavformat use: containers of moving images and raw video
 * elementary streams. Playlists (hls, dash), concat, image sequences and devices are
 * left out on purpose: they open other files or URLs. */
static const char format_whitelist[] = "mov,mp4,avi,matroska,webm,asf,flv,mpeg,mpegts,"
				       "mpegvideo,h264,hevc,m4v,h263,vc1,ogg,rm,ivf,dv,mxf,"
				       "nut,wtv,yuv4mpegpipe,3gp";

#define AVIO_BUF 65536
#define THUMB 32
/* KEY mode falls back to decoding everything when no key flag shows up this soon. */
#define KEY_FALLBACK_SECONDS 20.0
#define KEY_FALLBACK_PACKETS 1000
/* Packets held since the latest key frame, in case its stretch turns out long: beyond
 * these the stretch is not filled. */
#define GAP_MAX_PACKETS 4096
#define GAP_MAX_BYTES (32u << 20)
/* Fills are decoded while the time spent stays within this share of the item's budget,
 * prorated to how far into the video the walk is (at least FILL_WARMUP of it). */
#define FILL_SHARE 0.5
#define FILL_WARMUP 0.1

static void av_log_to_ks(void *avcl, int level, const char *fmt, va_list vl)
{
	if (level > AV_LOG_WARNING)
		return;
	char line[512];
	int prefix = 1;
	av_log_format_line2(avcl, level, fmt, vl, line, sizeof line, &prefix);
	size_t n = strlen(line);
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	ks_log(KS_LOG_DEBUG, "libav: %s", line);
}

static void av_setup(void)
{
	av_log_set_callback(av_log_to_ks);
	/* No single libav allocation may exceed this, whatever a file declares (a 36 Mpx
	 * frame plane needs 36 MB; libav's own default is 2 GB). */
	av_max_alloc(256u << 20);
}

/* ---- the byte source ---- */

static int src_read(void *opaque, uint8_t *buf, int n)
{
	struct vsrc *s = opaque;
	if (n <= 0)
		return 0;
	if (s->mem) {
		if (s->pos >= s->size)
			return AVERROR_EOF;
		uint64_t left = s->size - s->pos;
		size_t k = (uint64_t)n < left ? (size_t)n : (size_t)left;
		memcpy(buf, s->mem + s->pos, k);
		s->pos += k;
		return (int)k;
	}
	if (s->read) {
		if (s->pos >= s->size)
			return AVERROR_EOF;
		uint64_t left = s->size - s->pos;
		size_t k = (uint64_t)n < left ? (size_t)n : (size_t)left;
		int64_t got = s->read(s->rctx, s->pos, buf, k);
		if (got < 0)
			return AVERROR(EIO);
		if (got == 0)
			return AVERROR_EOF;
		if ((uint64_t)got > k)
			got = (int64_t)k; /* a reader that claims more than asked */
		s->pos += (uint64_t)got;
		return (int)got;
	}
	ssize_t r;
	do {
		r = s->seekable ? pread(s->fd, buf, (size_t)n, (off_t)s->pos)
				: read(s->fd, buf, (size_t)n);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return AVERROR(errno);
	if (r == 0)
		return AVERROR_EOF;
	s->pos += (uint64_t)r;
	return (int)r;
}

static int64_t src_seek(void *opaque, int64_t off, int whence)
{
	struct vsrc *s = opaque;
	whence &= ~AVSEEK_FORCE;
	if (whence == AVSEEK_SIZE)
		return s->size ? (int64_t)s->size : AVERROR(ENOSYS);
	int64_t base;
	switch (whence) {
	case SEEK_SET: base = 0; break;
	case SEEK_CUR: base = (int64_t)s->pos; break;
	case SEEK_END:
		if (!s->size)
			return AVERROR(ENOSYS);
		base = (int64_t)s->size;
		break;
	default: return AVERROR(EINVAL);
	}
	if ((off > 0 && base > INT64_MAX - off) || base + off < 0)
		return AVERROR(EINVAL);
	s->pos = (uint64_t)(base + off);
	return (int64_t)s->pos;
}

/* Nested opens (MOV data references, playlists) are refused: one item, its own bytes. */
static int refuse_io_open(struct AVFormatContext *s, AVIOContext **pb, const char *url, int flags,
			  AVDictionary **options)
{
	(void)s, (void)pb, (void)flags, (void)options;
	ks_log(KS_LOG_DEBUG, "video: refused to open nested resource \"%s\"", url);
	return AVERROR(EPERM);
}

static int interrupt_cb(void *opaque)
{
	const struct ks_video *v = opaque;
	return ks_time_mono() > v->deadline;
}

/* ---- marks ---- */

static void vmark(struct ks_video *v, unsigned m, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void ks_video_markv(struct ks_video *v, unsigned m, const char *fmt, va_list ap)
{
	/* The first limit's reason stays; otherwise the latest reason is kept. */
	int keep = (v->info.marks & KS_VIDEO_LIMIT) && v->info.why[0];
	v->info.marks |= m;
	if (keep)
		return;
	vsnprintf(v->info.why, sizeof v->info.why, fmt, ap);
}

static void vmark(struct ks_video *v, unsigned m, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	ks_video_markv(v, m, fmt, ap);
	va_end(ap);
}

const char *ks_video_marks_name(unsigned marks, char *buf, size_t n)
{
	static const char *names[] = {"truncated", "corrupt", "limit", "no-index"};
	if (!n)
		return buf;
	buf[0] = '\0';
	if (!marks) {
		snprintf(buf, n, "ok");
		return buf;
	}
	size_t len = 0;
	for (unsigned i = 0; i < 4; i++) {
		if (!(marks & (1u << i)))
			continue;
		int w = snprintf(buf + len, n - len, "%s%s", len ? "," : "", names[i]);
		if (w < 0 || (size_t)w >= n - len)
			break;
		len += (size_t)w;
	}
	return buf;
}

/* ---- probing ---- */

static void copy_str(char *dst, size_t n, const char *s)
{
	size_t k = s ? strlen(s) : 0;
	if (k >= n)
		k = n - 1;
	if (k)
		memcpy(dst, s, k);
	dst[k] = '\0';
}

static int64_t parse_creation_time(const AVDictionary *md)
{
	const AVDictionaryEntry *e = av_dict_get(md, "creation_time", NULL, 0);
	if (!e || !e->value)
		return 0;
	struct tm tm = {0};
	int y, mo, d, h, mi, s;
	if (sscanf(e->value, "%d-%d-%d%*[T ]%d:%d:%d", &y, &mo, &d, &h, &mi, &s) != 6)
		return 0;
	if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    s > 60)
		return 0;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	time_t t = timegm(&tm);
	return t > 0 ? (int64_t)t : 0;
}

static int head_has(const struct ks_video *v, const char *needle)
{
	size_t k = strlen(needle);
	for (size_t i = 0; i + k <= v->head_len; i++)
		if (memcmp(v->head + i, needle, k) == 0)
			return 1;
	return 0;
}

static int head_is_isobmff(const struct ks_video *v)
{
	static const char *boxes[] = {"ftyp", "moov", "mdat", "free", "wide", "skip", "pnot"};
	if (v->head_len < 8)
		return 0;
	for (size_t i = 0; i < sizeof boxes / sizeof boxes[0]; i++)
		if (memcmp(v->head + 4, boxes[i], 4) == 0)
			return 1;
	return 0;
}

static void name_container(struct ks_video *v)
{
	const char *d = v->info.demuxer;
	const char *name = d;
	if (strncmp(d, "mov", 3) == 0) {
		const AVDictionaryEntry *e = av_dict_get(v->fmt->metadata, "major_brand", NULL, 0);
		const char *b = e && e->value ? e->value : "";
		if (strncmp(b, "qt", 2) == 0)
			name = "mov";
		else if (strncmp(b, "3g", 2) == 0)
			name = "3gp";
		else
			name = "mp4";
	} else if (strncmp(d, "matroska", 8) == 0) {
		name = head_has(v, "webm") ? "webm" : "mkv";
	} else if (strcmp(d, "mpeg") == 0) {
		name = "mpeg-ps";
	} else if (strcmp(d, "mpegts") == 0) {
		name = "mpeg-ts";
	}
	copy_str(v->info.container, sizeof v->info.container, name);
}

/* The video stream to sample: the largest picture that is not cover art. */
static int pick_stream(AVFormatContext *fmt)
{
	int best = -1;
	int64_t best_area = -1;
	for (unsigned i = 0; i < fmt->nb_streams; i++) {
		const AVStream *st = fmt->streams[i];
		if (st->codecpar->codec_type != AVMEDIA_TYPE_VIDEO ||
		    (st->disposition & AV_DISPOSITION_ATTACHED_PIC))
			continue;
		int64_t area = (int64_t)st->codecpar->width * st->codecpar->height;
		if (area > best_area) {
			best = (int)i;
			best_area = area;
		}
	}
	return best;
}

static void fill_info(struct ks_video *v)
{
	struct ks_video_info *in = &v->info;
	AVFormatContext *fmt = v->fmt;
	copy_str(in->demuxer, sizeof in->demuxer, fmt->iformat ? fmt->iformat->name : "");
	name_container(v);
	in->n_streams = (int)fmt->nb_streams;
	in->bit_rate = fmt->bit_rate > 0 ? fmt->bit_rate : 0;
	in->duration = fmt->duration != AV_NOPTS_VALUE && fmt->duration > 0
			       ? (double)fmt->duration / AV_TIME_BASE
			       : -1;
	in->creation_time = parse_creation_time(fmt->metadata);
	for (unsigned i = 0; i < fmt->nb_streams; i++) {
		const AVStream *st = fmt->streams[i];
		if (st->codecpar->codec_type == AVMEDIA_TYPE_AUDIO && !in->has_audio) {
			in->has_audio = 1;
			copy_str(in->audio_codec, sizeof in->audio_codec,
				 avcodec_get_name(st->codecpar->codec_id));
		}
	}
	in->video_stream = v->vs;
	if (v->vs < 0)
		return;
	const AVStream *st = fmt->streams[v->vs];
	const AVCodecParameters *cp = st->codecpar;
	copy_str(in->video_codec, sizeof in->video_codec, avcodec_get_name(cp->codec_id));
	const char *pf = av_get_pix_fmt_name((enum AVPixelFormat)cp->format);
	copy_str(in->pix_fmt, sizeof in->pix_fmt, pf);
	in->width = cp->width > 0 ? (uint32_t)cp->width : 0;
	in->height = cp->height > 0 ? (uint32_t)cp->height : 0;
	AVRational fr = st->avg_frame_rate.num > 0 && st->avg_frame_rate.den > 0 ? st->avg_frame_rate
										  : st->r_frame_rate;
	double fps = fr.num > 0 && fr.den > 0 ? av_q2d(fr) : -1;
	in->fps = fps > 0 && fps <= 1000 ? fps : -1;
	in->declared_frames = st->nb_frames > 0 ? (uint64_t)st->nb_frames : 0;
	if (in->duration < 0 && st->duration != AV_NOPTS_VALUE && st->duration > 0)
		in->duration = (double)st->duration * av_q2d(st->time_base);
	if (!in->creation_time)
		in->creation_time = parse_creation_time(st->metadata);
}

static void lim_resolve(struct ks_video_limits *l, const struct ks_video_limits *in)
{
	const struct ks_video_limits *d = &ks_video_default_limits;
	*l = in ? *in : *d;
	if (l->max_seconds <= 0)
		l->max_seconds = d->max_seconds;
	if (!l->max_packets)
		l->max_packets = d->max_packets;
	if (!l->max_frames)
		l->max_frames = d->max_frames;
	if (!l->max_side)
		l->max_side = d->max_side;
	if (!l->max_frame_pixels)
		l->max_frame_pixels = d->max_frame_pixels;
	if (!l->max_total_pixels)
		l->max_total_pixels = d->max_total_pixels;
	if (!l->max_errors)
		l->max_errors = d->max_errors;
}

static void av_errstr(int e, char *buf, size_t n)
{
	if (av_strerror(e, buf, n) < 0)
		snprintf(buf, n, "error %d", e);
}

/* Opens the demuxer and the decoder over v->src (already set up). */
static int video_start(struct ks_video *v, struct ks_err *err)
{
	int rc = KS_OK, r;
	AVDictionary *opts = NULL;
	AVDictionary **sopts = NULL;
	unsigned nsopts = 0;
	char e[128];

	v->t0 = ks_time_mono();
	v->deadline = v->t0 + v->lim.max_seconds;
	v->vs = -1;
	v->info.size = v->src.size;
	v->info.duration = -1;
	v->info.fps = -1;
	v->info.video_stream = -1;

	/* The head, for names the demuxer does not expose (WebM's DocType, ISO boxes). */
	if (v->src.mem) {
		v->head_len = v->src.size < sizeof v->head ? (size_t)v->src.size : sizeof v->head;
		memcpy(v->head, v->src.mem, v->head_len);
	} else if (v->src.read) {
		uint64_t want = v->src.size < sizeof v->head ? v->src.size : sizeof v->head;
		int64_t n = v->src.read(v->src.rctx, 0, v->head, (size_t)want);
		v->head_len = n > 0 && (uint64_t)n <= want ? (size_t)n : 0;
	} else if (v->src.seekable) {
		ssize_t n = pread(v->src.fd, v->head, sizeof v->head, 0);
		v->head_len = n > 0 ? (size_t)n : 0;
	}

	uint8_t *buf = av_malloc(AVIO_BUF);
	if (!buf) {
		rc = ks_err_set(err, KS_E_ENV, "out of memory");
		goto out;
	}
	v->avio = avio_alloc_context(buf, AVIO_BUF, 0, &v->src, src_read, NULL,
				     v->src.mem || v->src.seekable ? src_seek : NULL);
	if (!v->avio) {
		av_free(buf);
		rc = ks_err_set(err, KS_E_ENV, "out of memory");
		goto out;
	}
	v->avio->seekable = v->src.mem || v->src.seekable ? AVIO_SEEKABLE_NORMAL : 0;
	v->fmt = avformat_alloc_context();
	if (!v->fmt) {
		rc = ks_err_set(err, KS_E_ENV, "out of memory");
		goto out;
	}
	v->fmt->pb = v->avio;
	v->fmt->flags |= AVFMT_FLAG_CUSTOM_IO;
	v->fmt->io_open = refuse_io_open;
	v->fmt->interrupt_callback.callback = interrupt_cb;
	v->fmt->interrupt_callback.opaque = v;
	v->fmt->format_whitelist = av_strdup(format_whitelist);
	v->fmt->protocol_whitelist = av_strdup("none");
	av_dict_set(&opts, "max_streams", "64", 0);
	av_dict_set(&opts, "probesize", "5000000", 0);
	r = avformat_open_input(&v->fmt, NULL, NULL, &opts);
	if (r < 0) {
		/* avformat_open_input freed the context on failure. */
		v->fmt = NULL;
		av_errstr(r, e, sizeof e);
		if (ks_time_mono() > v->deadline) {
			vmark(v, KS_VIDEO_LIMIT, "time limit (%.0f s) while opening",
			      v->lim.max_seconds);
			rc = ks_err_set(err, KS_E_LIMIT, "%s", v->info.why);
		} else if (head_is_isobmff(v)) {
			vmark(v, KS_VIDEO_NO_INDEX | KS_VIDEO_TRUNCATED,
			      "MP4/MOV without a readable moov index (truncated or carved): "
			      "nothing decodable");
			rc = ks_err_set(err, KS_E_EVIDENCE, "%s", v->info.why);
		} else {
			rc = ks_err_set(err, KS_E_EVIDENCE, "not a readable video: %s", e);
		}
		goto out;
	}
	/* Audio, subtitles and data are never decoded, not even to probe them: what the
	 * container says of them is all the info needs. */
	for (unsigned i = 0; i < v->fmt->nb_streams; i++)
		if (v->fmt->streams[i]->codecpar->codec_type != AVMEDIA_TYPE_VIDEO)
			v->fmt->streams[i]->discard = AVDISCARD_ALL;
	nsopts = v->fmt->nb_streams;
	if (nsopts) {
		sopts = ks_xcalloc(nsopts, sizeof *sopts);
		for (unsigned i = 0; i < nsopts; i++) {
			av_dict_set_int(&sopts[i], "max_pixels", (int64_t)v->lim.max_frame_pixels, 0);
			av_dict_set(&sopts[i], "threads", "1", 0);
		}
	}
	r = avformat_find_stream_info(v->fmt, sopts);
	if (r < 0) {
		av_errstr(r, e, sizeof e);
		if (ks_time_mono() > v->deadline) {
			vmark(v, KS_VIDEO_LIMIT, "time limit (%.0f s) while probing",
			      v->lim.max_seconds);
			rc = ks_err_set(err, KS_E_LIMIT, "%s", v->info.why);
			goto out;
		}
		/* Not fatal: the container's own parameters may be enough. */
		ks_log(KS_LOG_DEBUG, "video: stream info incomplete: %s", e);
	}
	v->vs = pick_stream(v->fmt);
	fill_info(v);
	if (v->vs < 0) {
		rc = ks_err_set(err, KS_E_UNSUPPORTED, "no video stream (%s)", v->info.demuxer);
		goto out;
	}
	const AVCodecParameters *cp = v->fmt->streams[v->vs]->codecpar;
	if (cp->width < 0 || cp->height < 0 || (uint32_t)cp->width > v->lim.max_side ||
	    (uint32_t)cp->height > v->lim.max_side ||
	    (uint64_t)cp->width * (uint64_t)cp->height > v->lim.max_frame_pixels) {
		vmark(v, KS_VIDEO_LIMIT, "declared size %dx%d is over the limit (%u px a side, %llu px)",
		      cp->width, cp->height, v->lim.max_side,
		      (unsigned long long)v->lim.max_frame_pixels);
		rc = ks_err_set(err, KS_E_LIMIT, "%s", v->info.why);
		goto out;
	}
	const AVCodec *codec = avcodec_find_decoder(cp->codec_id);
	if (!codec) {
		rc = ks_err_set(err, KS_E_UNSUPPORTED, "no decoder for %s", v->info.video_codec);
		goto out;
	}
	v->dec = avcodec_alloc_context3(codec);
	if (!v->dec) {
		rc = ks_err_set(err, KS_E_ENV, "out of memory");
		goto out;
	}
	if (avcodec_parameters_to_context(v->dec, cp) < 0) {
		rc = ks_err_set(err, KS_E_EVIDENCE, "bad codec parameters");
		goto out;
	}
	v->dec->thread_count = 1;
	v->dec->max_pixels = (int64_t)v->lim.max_frame_pixels;
	v->dec->pkt_timebase = v->fmt->streams[v->vs]->time_base;
	r = avcodec_open2(v->dec, codec, NULL);
	if (r < 0) {
		av_errstr(r, e, sizeof e);
		rc = ks_err_set(err, KS_E_EVIDENCE, "cannot open the %s decoder: %s",
				v->info.video_codec, e);
		goto out;
	}
out:
	av_dict_free(&opts);
	for (unsigned i = 0; i < nsopts; i++)
		av_dict_free(&sopts[i]);
	free(sopts);
	return rc;
}

static void video_free(struct ks_video *v)
{
	if (!v)
		return;
	avcodec_free_context(&v->dec);
	avformat_close_input(&v->fmt);
	if (v->avio) {
		av_freep(&v->avio->buffer);
		avio_context_free(&v->avio);
	}
	if (!v->src.mem && v->src.fd >= 0)
		close(v->src.fd);
	free(v);
}

void ks_video_close(struct ks_video *v)
{
	video_free(v);
}

static int video_open(struct ks_video **out, struct ks_video *v, struct ks_video_info *info,
		      struct ks_err *err)
{
	int rc = video_start(v, err);
	if (info)
		*info = v->info;
	if (rc < 0) {
		video_free(v);
		return rc;
	}
	*out = v;
	return KS_OK;
}

static struct ks_video *video_new(const struct ks_video_limits *lim)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, av_setup);
	struct ks_video *v = ks_xcalloc(1, sizeof *v);
	v->src.fd = -1;
	lim_resolve(&v->lim, lim);
	return v;
}

int ks_video_open_file(struct ks_video **out, const char *path, const struct ks_video_limits *lim,
		       struct ks_video_info *info, struct ks_err *err)
{
	*out = NULL;
	if (info)
		memset(info, 0, sizeof *info);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int en = errno;
		return ks_err_set(err, en == ENOENT ? KS_E_NOTFOUND : KS_E_ENV, "%s: %s", path,
				  strerror(en));
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || S_ISDIR(st.st_mode)) {
		close(fd);
		return ks_err_set(err, KS_E_USAGE, "%s: not a file", path);
	}
	struct ks_video *v = video_new(lim);
	v->src.fd = fd;
	if (S_ISREG(st.st_mode)) {
		v->src.seekable = 1;
		v->src.size = (uint64_t)st.st_size;
	}
	return video_open(out, v, info, err);
}

int ks_video_open_mem(struct ks_video **out, const uint8_t *data, size_t len,
		      const struct ks_video_limits *lim, struct ks_video_info *info,
		      struct ks_err *err)
{
	*out = NULL;
	if (info)
		memset(info, 0, sizeof *info);
	if (!data || !len)
		return ks_err_set(err, KS_E_EVIDENCE, "empty item");
	struct ks_video *v = video_new(lim);
	v->src.mem = data;
	v->src.size = len;
	v->src.seekable = 1;
	return video_open(out, v, info, err);
}

int ks_video_open_reader(struct ks_video **out, ks_video_read_fn read, void *ctx, uint64_t size,
			 const struct ks_video_limits *lim, struct ks_video_info *info,
			 struct ks_err *err)
{
	*out = NULL;
	if (info)
		memset(info, 0, sizeof *info);
	if (!read)
		return ks_err_set(err, KS_E_USAGE, "no reader");
	if (!size)
		return ks_err_set(err, KS_E_EVIDENCE, "empty item");
	struct ks_video *v = video_new(lim);
	v->src.read = read;
	v->src.rctx = ctx;
	v->src.size = size;
	v->src.seekable = 1;
	return video_open(out, v, info, err);
}

const struct ks_video_info *ks_video_get_info(const struct ks_video *v)
{
	return &v->info;
}

/* ---- sampling ---- */

/* A packet held in case its stretch turns out to be a long GOP (its data in an arena). */
struct held {
	size_t off;
	int size, flags;
	int64_t pts, dts, duration;
};

struct sampler {
	struct ks_video *v;
	struct ks_video_sample_opts o;
	ks_video_frame_fn fn;
	void *ctx;
	struct ks_video_result *res;
	struct ks_err *err;
	AVRational tb;
	int64_t start_pts; /* AV_NOPTS_VALUE until known */
	double frame_dur;  /* seconds, 0 if unknown */
	double min_gap;    /* 1/rate, 0 without cap */
	int intra_only;
	int key_mode;
	int have_kept;
	double last_kept_t;
	int scene_pending;
	int have_prev_thumb;
	uint8_t prev_thumb[THUMB * THUMB];
	uint8_t kept_thumb[THUMB * THUMB];
	uint8_t cur_thumb[THUMB * THUMB];
	struct SwsContext *sws_out, *sws_thumb;
	uint8_t *out;
	size_t out_cap;
	uint64_t video_packets;
	int key_seen;
	double max_pkt_end; /* end of the latest video packet demuxed, seconds */
	int have_sent;      /* a frame decodable alone was sent to the decoder ... */
	double last_sent_t; /* ... at this time (the cap applies before decoding) */
	int last_corrupt_at_end; /* the latest packet was cut short by the end of data */
	/* Long GOPs (KEY mode): the packets since the latest key frame, from it on. */
	struct held *gop;
	size_t ngop, cgop;
	uint64_t gop_bytes;  /* bytes of arena used */
	uint8_t *arena;      /* the held packets' data, each followed by zero padding */
	size_t arena_cap;
	AVPacket *held;      /* a held packet handed to the decoder */
	int gop_open;       /* a key frame began the current stretch and gop holds it */
	int gop_key_sent;   /* that key frame went to the decoder */
	double gop_key_t;
	int filling;        /* decoding forward through the current stretch */
	int stop;           /* 1: budget or error stop, the walk ends */
	int cb_status;      /* the callback's nonzero return */
};

static double ts_seconds(const struct sampler *s, int64_t ts)
{
	if (ts == AV_NOPTS_VALUE)
		return NAN;
	/* In double: hostile timestamps may be anywhere in int64_t. */
	double base = s->start_pts != AV_NOPTS_VALUE ? (double)s->start_pts : 0;
	return ((double)ts - base) * av_q2d(s->tb);
}

static int budget_stop(struct sampler *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int budget_stop(struct sampler *s, const char *fmt, ...)
{
	char why[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	vmark(s->v, KS_VIDEO_LIMIT, "%s", why);
	s->stop = 1;
	return 1;
}

static int check_time(struct sampler *s)
{
	if (ks_time_mono() > s->v->deadline)
		return budget_stop(s, "time limit (%.0f s) reached at %.1f s of video",
				   s->v->lim.max_seconds, s->res->last_pts);
	return 0;
}

static void thumb_of(struct sampler *s, const AVFrame *f, uint8_t *dst)
{
	s->sws_thumb = sws_getCachedContext(s->sws_thumb, f->width, f->height,
					    (enum AVPixelFormat)f->format, THUMB, THUMB,
					    AV_PIX_FMT_GRAY8, SWS_AREA, NULL, NULL, NULL);
	if (!s->sws_thumb) {
		memset(dst, 0, THUMB * THUMB);
		return;
	}
	uint8_t *planes[4] = {dst, NULL, NULL, NULL};
	int strides[4] = {THUMB, 0, 0, 0};
	sws_scale(s->sws_thumb, (const uint8_t *const *)f->data, f->linesize, 0, f->height, planes,
		  strides);
}

static double thumb_diff(const uint8_t *a, const uint8_t *b)
{
	unsigned long sum = 0;
	for (int i = 0; i < THUMB * THUMB; i++)
		sum += (unsigned long)abs((int)a[i] - (int)b[i]);
	return (double)sum / (THUMB * THUMB);
}

static int deliver(struct sampler *s, const AVFrame *f, double t, int scene)
{
	uint32_t w = (uint32_t)f->width, h = (uint32_t)f->height, ms = s->o.max_side;
	uint32_t ow = w, oh = h;
	if (w > ms || h > ms) {
		if (w >= h) {
			ow = ms;
			oh = (uint32_t)llround((double)h * ms / w);
		} else {
			oh = ms;
			ow = (uint32_t)llround((double)w * ms / h);
		}
		if (!ow)
			ow = 1;
		if (!oh)
			oh = 1;
	}
	int ch = s->o.channels;
	enum AVPixelFormat dst = ch == 1 ? AV_PIX_FMT_GRAY8 : AV_PIX_FMT_RGB24;
	s->sws_out = sws_getCachedContext(s->sws_out, f->width, f->height,
					  (enum AVPixelFormat)f->format, (int)ow, (int)oh, dst,
					  SWS_AREA | SWS_ACCURATE_RND, NULL, NULL, NULL);
	if (!s->sws_out) {
		s->res->errors++;
		vmark(s->v, KS_VIDEO_CORRUPT, "cannot convert %s frames",
		      av_get_pix_fmt_name((enum AVPixelFormat)f->format));
		return 0;
	}
	if (f->color_range == AVCOL_RANGE_JPEG) {
		const int *cs = sws_getCoefficients(SWS_CS_DEFAULT);
		sws_setColorspaceDetails(s->sws_out, cs, 1, cs, 1, 0, 1 << 16, 1 << 16);
	}
	size_t stride = (size_t)ow * (size_t)ch;
	size_t need = stride * oh;
	if (need > s->out_cap) {
		free(s->out);
		s->out = ks_xmalloc(need);
		s->out_cap = need;
	}
	uint8_t *planes[4] = {s->out, NULL, NULL, NULL};
	int strides[4] = {(int)stride, 0, 0, 0};
	sws_scale(s->sws_out, (const uint8_t *const *)f->data, f->linesize, 0, f->height, planes,
		  strides);

	struct ks_video_frame vf = {
		.pix = s->out,
		.stride = stride,
		.width = ow,
		.height = oh,
		.channels = ch,
		.src_width = w,
		.src_height = h,
		.pts = t,
		.key = f->key_frame,
		.scene = scene,
		.index = s->res->frames_kept,
	};
	double fps = s->v->info.fps;
	vf.frame_number = fps > 0 && !isnan(t) ? llround(t * fps) : (int64_t)s->res->frames_decoded - 1;
	s->res->frames_kept++;
	if (s->fn) {
		int r = s->fn(s->ctx, &vf, s->err);
		if (r) {
			s->cb_status = r;
			s->stop = 1;
			return r;
		}
	}
	if (s->o.max_kept && s->res->frames_kept >= s->o.max_kept)
		s->stop = 1;
	return 0;
}

static int on_frame(struct sampler *s, AVFrame *f)
{
	struct ks_video_result *res = s->res;
	struct ks_video_limits *lim = &s->v->lim;
	res->frames_decoded++;
	if (f->width <= 0 || f->height <= 0)
		return 0;
	if ((uint32_t)f->width > lim->max_side || (uint32_t)f->height > lim->max_side ||
	    (uint64_t)f->width * (uint64_t)f->height > lim->max_frame_pixels)
		return budget_stop(s, "decoded size %dx%d is over the limit", f->width, f->height);
	res->pixels_decoded += (uint64_t)f->width * (uint64_t)f->height;
	/* In KEY mode a frame that is not key was decoded forward in a long GOP. */
	int filled = s->key_mode && !f->key_frame;
	if (f->decode_error_flags || (f->flags & AV_FRAME_FLAG_CORRUPT)) {
		/* Decoded forward, a frame may miss references from before its key frame
		 * (open GOPs): not damage in the evidence, and not kept. */
		if (filled)
			return 0;
		res->errors++;
		vmark(s->v, KS_VIDEO_CORRUPT, "damaged frame near %.2f s", res->last_pts);
	}

	int64_t pts = f->best_effort_timestamp;
	if (pts == AV_NOPTS_VALUE)
		pts = f->pts;
	if (s->start_pts == AV_NOPTS_VALUE && pts != AV_NOPTS_VALUE)
		s->start_pts = pts;
	double t = ts_seconds(s, pts);
	if (isnan(t))
		t = s->frame_dur > 0 ? (double)(res->frames_decoded - 1) * s->frame_dur : 0;
	if (t > res->last_pts)
		res->last_pts = t;

	/* In ALL mode every decoded frame is compared with the one before it, so a cut
	 * between two kept frames is remembered until the cap lets a frame through. */
	if (!s->key_mode && !s->intra_only) {
		thumb_of(s, f, s->cur_thumb);
		if (s->have_prev_thumb &&
		    thumb_diff(s->cur_thumb, s->prev_thumb) >= s->o.scene_threshold)
			s->scene_pending = 1;
		memcpy(s->prev_thumb, s->cur_thumb, sizeof s->prev_thumb);
		s->have_prev_thumb = 1;
	}

	double eps = s->frame_dur > 0 ? s->frame_dur / 2 : 1e-3;
	if (s->have_kept && t < s->last_kept_t - 1.0)
		s->last_kept_t = t - s->o.max_interval - s->min_gap; /* timestamps jumped back */
	int keep = 0, scene = 0;
	if (!s->have_kept) {
		keep = 1;
	} else if (filled) {
		/* Frames decoded forward are taken on the rate's grid (whole seconds at
		 * 1 fps), where another copy's sampler takes its frames too. */
		double next = (floor(s->last_kept_t / s->min_gap + 1e-6) + 1) * s->min_gap;
		keep = t >= next - eps && t >= s->last_kept_t + s->min_gap / 2;
	} else if (t >= s->last_kept_t + s->min_gap - eps) {
		if (t >= s->last_kept_t + s->o.max_interval - eps) {
			keep = 1;
		} else if (!s->key_mode && !s->intra_only) {
			keep = scene = s->scene_pending;
		} else {
			thumb_of(s, f, s->cur_thumb);
			keep = scene = thumb_diff(s->cur_thumb, s->kept_thumb) >= s->o.scene_threshold;
		}
	}
	if (!keep)
		return 0;
	if (s->key_mode || s->intra_only) {
		if (!scene)
			thumb_of(s, f, s->cur_thumb);
		memcpy(s->kept_thumb, s->cur_thumb, sizeof s->kept_thumb);
	}
	s->have_kept = 1;
	s->last_kept_t = t;
	s->scene_pending = 0;
	res->frames_filled += (uint64_t)filled;
	deliver(s, f, t, scene);
	return s->stop;
}

/* Sends pkt (NULL: flush) and takes every frame out. */
static void decode(struct sampler *s, AVPacket *pkt, AVFrame *frame)
{
	struct ks_video *v = s->v;
	int r = avcodec_send_packet(v->dec, pkt);
	if (r < 0 && r != AVERROR(EAGAIN) && r != AVERROR_EOF) {
		char e[128];
		av_errstr(r, e, sizeof e);
		s->res->errors++;
		vmark(v, KS_VIDEO_CORRUPT, "decoder rejected a packet near %.2f s: %s",
		      s->max_pkt_end, e);
		if (s->res->errors >= v->lim.max_errors)
			budget_stop(s, "%llu damaged packets (limit)",
				    (unsigned long long)s->res->errors);
		else if (r == AVERROR(ENOMEM))
			budget_stop(s, "decoder out of memory");
		return;
	}
	for (;;) {
		r = avcodec_receive_frame(v->dec, frame);
		if (r == AVERROR(EAGAIN) || r == AVERROR_EOF)
			break;
		if (r < 0) {
			char e[128];
			av_errstr(r, e, sizeof e);
			s->res->errors++;
			vmark(v, KS_VIDEO_CORRUPT, "decoding failed near %.2f s: %s",
			      s->max_pkt_end, e);
			if (s->res->errors >= v->lim.max_errors)
				budget_stop(s, "%llu damaged packets (limit)",
					    (unsigned long long)s->res->errors);
			break;
		}
		if (!s->stop)
			on_frame(s, frame);
		av_frame_unref(frame);
		if (s->stop)
			break;
		if (s->res->frames_decoded >= v->lim.max_frames) {
			budget_stop(s, "frame limit (%llu decoded frames)",
				    (unsigned long long)v->lim.max_frames);
			break;
		}
		if (s->res->pixels_decoded >= v->lim.max_total_pixels) {
			budget_stop(s, "decoded pixel limit (%llu px)",
				    (unsigned long long)v->lim.max_total_pixels);
			break;
		}
		if (check_time(s))
			break;
	}
}

/* ---- long GOPs ---- */

static void gop_clear(struct sampler *s)
{
	s->ngop = 0;
	s->gop_bytes = 0;
	s->gop_open = 0;
}

static void gop_free(struct sampler *s)
{
	free(s->gop);
	free(s->arena);
	av_packet_free(&s->held);
}

/* Holds a copy of pkt in the current stretch (an arena reused from stretch to stretch:
 * the demuxer's buffers go back to it at once, and nothing is allocated per packet);
 * when the stretch grows past the caps it is dropped and will not be filled. Side data
 * is not held: a fill decodes without it. */
static void gop_hold(struct sampler *s, const AVPacket *pkt)
{
	uint64_t need = s->gop_bytes + (uint64_t)pkt->size + AV_INPUT_BUFFER_PADDING_SIZE;
	if (pkt->size < 0 || s->ngop >= GAP_MAX_PACKETS || need > GAP_MAX_BYTES) {
		gop_clear(s);
		return;
	}
	if (s->ngop == s->cgop) {
		s->cgop = s->cgop ? 2 * s->cgop : 256;
		s->gop = ks_xrealloc(s->gop, s->cgop * sizeof *s->gop);
	}
	if (need > s->arena_cap) {
		size_t cap = s->arena_cap ? s->arena_cap : 1u << 20;
		while (cap < need)
			cap *= 2;
		s->arena = ks_xrealloc(s->arena, cap);
		s->arena_cap = cap;
	}
	struct held *h = &s->gop[s->ngop++];
	h->off = (size_t)s->gop_bytes;
	h->size = pkt->size;
	h->pts = pkt->pts;
	h->dts = pkt->dts;
	h->duration = pkt->duration;
	h->flags = pkt->flags;
	if (pkt->size)
		memcpy(s->arena + h->off, pkt->data, (size_t)pkt->size);
	memset(s->arena + h->off + (size_t)pkt->size, 0, AV_INPUT_BUFFER_PADDING_SIZE);
	s->gop_bytes = need;
}

/* Whether a fill may start at t seconds of video: the time spent so far is within
 * FILL_SHARE of the budget, prorated to the part of the video walked. */
static int fill_allowed(const struct sampler *s, double t)
{
	const struct ks_video *v = s->v;
	double share = 1;
	if (v->info.duration > 0 && t < v->info.duration)
		share = fmax(t / v->info.duration, FILL_WARMUP);
	return ks_time_mono() - v->t0 < v->lim.max_seconds * FILL_SHARE * share;
}

/* Decodes pkt of a fill: a frame on the rate's grid is decoded whatever it is, the
 * others only if other frames refer to them (where the codec can tell). */
static void fill_decode(struct sampler *s, AVPacket *pkt, AVFrame *frame)
{
	int64_t ts = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
	double t = ts_seconds(s, ts);
	double half = s->frame_dur > 0 ? s->frame_dur / 2 : 1e-3;
	int on_grid = !isnan(t) && fabs(t - nearbyint(t / s->min_gap) * s->min_gap) < half;
	s->v->dec->skip_frame = on_grid ? AVDISCARD_DEFAULT : AVDISCARD_NONREF;
	decode(s, pkt, frame);
}

/* The stretch from the held key frame has lasted past key_gap: decodes it forward
 * from the held packets, and every packet after them until the next key frame. */
static void fill_start(struct sampler *s, AVFrame *frame)
{
	s->filling = 1;
	if (!s->held && !(s->held = av_packet_alloc())) {
		gop_clear(s);
		return;
	}
	for (size_t i = s->gop_key_sent ? 1 : 0; i < s->ngop && !s->stop; i++) {
		const struct held *h = &s->gop[i];
		AVPacket *p = s->held; /* not reference-counted: the decoder copies it */
		p->data = s->arena + h->off;
		p->size = h->size;
		p->pts = h->pts;
		p->dts = h->dts;
		p->duration = h->duration;
		p->flags = h->flags;
		p->stream_index = s->v->vs;
		fill_decode(s, p, frame);
	}
	gop_clear(s);
}

static void opts_resolve(struct ks_video_sample_opts *o, const struct ks_video_sample_opts *in)
{
	static const struct ks_video_sample_opts d = {0};
	*o = in ? *in : d;
	if (o->rate == 0)
		o->rate = 1;
	if (o->scene_threshold <= 0)
		o->scene_threshold = 24;
	if (!o->max_side)
		o->max_side = 512;
	if (o->channels != 1)
		o->channels = 3;
	if (o->mode != KS_VIDEO_ALL)
		o->mode = KS_VIDEO_KEY;
	if (o->key_gap == 0)
		o->key_gap = KS_VIDEO_KEY_GAP_DEFAULT;
}

/* After the walk: does the data end before the container said it would? */
static void check_truncation(struct sampler *s, int read_status)
{
	struct ks_video *v = s->v;
	const AVStream *st = v->fmt->streams[v->vs];
	double declared = -1;
	if (st->duration != AV_NOPTS_VALUE && st->duration > 0)
		declared = (double)st->duration * av_q2d(st->time_base);
	else if (v->info.duration > 0)
		declared = v->info.duration;
	double got = s->max_pkt_end;
	double tol = s->frame_dur > 0 ? fmax(1.0, 3 * s->frame_dur) : 1.0;
	if (read_status != AVERROR_EOF && read_status < 0) {
		char e[128];
		av_errstr(read_status, e, sizeof e);
		if (v->src.size && v->src.pos >= v->src.size)
			vmark(v, KS_VIDEO_TRUNCATED, "data ends early (%s) at %.2f s", e, got);
		else
			vmark(v, KS_VIDEO_CORRUPT, "container unreadable after %.2f s: %s", got, e);
	}
	if (!s->res->frames_decoded && !s->stop)
		vmark(v, KS_VIDEO_CORRUPT, "no frame could be decoded");
	uint64_t frames = v->info.declared_frames;
	/* Frames reached: packets read, or the timeline they cover when that is more. An
	 * AVI whose frame rate was raised (`-r 30`) repeats frames as empty chunks that
	 * the index counts but the demuxer never returns. */
	uint64_t reached = s->video_packets;
	if (v->info.fps > 0 && got > 0 && got * v->info.fps < (double)UINT64_MAX / 2 &&
	    (uint64_t)llround(got * v->info.fps) > reached)
		reached = (uint64_t)llround(got * v->info.fps);
	if (declared > 0 && got >= 0 && got + tol < declared)
		vmark(v, KS_VIDEO_TRUNCATED, "data ends at %.2f s of %.2f s declared", got, declared);
	else if (frames > 4 && reached + 2 < frames - frames / 50)
		vmark(v, KS_VIDEO_TRUNCATED, "data ends after %llu of %llu declared frames",
		      (unsigned long long)reached, (unsigned long long)frames);
	else if (strcmp(v->info.container, "mpeg-ts") == 0 && v->src.size &&
		 v->src.size % 188 && v->src.size % 192 && v->src.size % 204)
		vmark(v, KS_VIDEO_TRUNCATED, "data ends inside a transport packet (%llu bytes)",
		      (unsigned long long)v->src.size);
	else if (s->last_corrupt_at_end)
		vmark(v, KS_VIDEO_TRUNCATED, "last packet cut short by the end of the data");
}

int ks_video_sample(struct ks_video *v, const struct ks_video_sample_opts *opts,
		    ks_video_frame_fn fn, void *ctx, struct ks_video_result *res,
		    struct ks_err *err)
{
	struct ks_video_result res_local;
	if (!res)
		res = &res_local;
	memset(res, 0, sizeof *res);
	if (v->sampled)
		return ks_err_set(err, KS_E_USAGE, "a video can be sampled once per open");
	v->sampled = 1;

	int rc = KS_OK;
	struct sampler *s = ks_xcalloc(1, sizeof *s);
	AVPacket *pkt = av_packet_alloc();
	AVFrame *frame = av_frame_alloc();
	if (!pkt || !frame) {
		rc = ks_err_set(err, KS_E_ENV, "out of memory");
		goto out;
	}
	s->v = v;
	opts_resolve(&s->o, opts);
	s->fn = fn;
	s->ctx = ctx;
	s->res = res;
	s->err = err;
	AVStream *st = v->fmt->streams[v->vs];
	s->tb = st->time_base;
	s->start_pts = st->start_time;
	s->frame_dur = v->info.fps > 0 ? 1.0 / v->info.fps : 0;
	s->min_gap = s->o.rate > 0 ? 1.0 / s->o.rate : 0;
	if (s->o.max_interval <= 0)
		s->o.max_interval = s->min_gap;
	const AVCodecDescriptor *desc = avcodec_descriptor_get(v->dec->codec_id);
	s->intra_only = desc && (desc->props & AV_CODEC_PROP_INTRA_ONLY);
	s->key_mode = s->o.mode == KS_VIDEO_KEY && !s->intra_only;
	if (s->key_mode)
		v->dec->skip_frame = AVDISCARD_NONKEY;
	for (unsigned i = 0; i < v->fmt->nb_streams; i++)
		if ((int)i != v->vs)
			v->fmt->streams[i]->discard = AVDISCARD_ALL; /* audio is never read */

	/* Long GOPs are filled in KEY mode under a rate cap. */
	int fill_on = s->key_mode && s->o.key_gap > 0 && s->min_gap > 0;
	int read_status = 0, consecutive = 0;
	while (!s->stop) {
		if (check_time(s))
			break;
		if (res->packets >= v->lim.max_packets) {
			budget_stop(s, "packet limit (%llu packets)",
				    (unsigned long long)v->lim.max_packets);
			break;
		}
		int r = av_read_frame(v->fmt, pkt);
		if (r < 0) {
			read_status = r;
			if (r == AVERROR_EOF)
				break;
			if (r == AVERROR_EXIT) {
				check_time(s);
				break;
			}
			res->errors++;
			/* A demuxer error at the end of the data is the end; elsewhere it may
			 * resynchronise, but not forever. */
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
		s->video_packets++;
		s->last_corrupt_at_end = 0;
		if (pkt->flags & AV_PKT_FLAG_CORRUPT) {
			res->errors++;
			vmark(v, KS_VIDEO_CORRUPT, "damaged packet near %.2f s", s->max_pkt_end);
			s->last_corrupt_at_end = v->src.size && v->src.pos >= v->src.size;
		}
		int64_t ts = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
		if (s->start_pts == AV_NOPTS_VALUE && ts != AV_NOPTS_VALUE)
			s->start_pts = ts;
		double t = ts_seconds(s, ts);
		if (!isnan(t)) {
			double dur = pkt->duration > 0 ? (double)pkt->duration * av_q2d(s->tb)
						       : s->frame_dur;
			if (t + dur > s->max_pkt_end)
				s->max_pkt_end = t + dur;
		}
		int is_key = (pkt->flags & AV_PKT_FLAG_KEY) != 0;
		if (is_key)
			s->key_seen = 1;
		if (s->key_mode && is_key && fill_on) {
			/* A new stretch: the fill of the last one (if any) ends here. */
			if (s->filling) {
				s->filling = 0;
				v->dec->skip_frame = AVDISCARD_NONKEY;
			}
			gop_clear(s);
			s->gop_open = !isnan(t);
			s->gop_key_t = t;
			s->gop_key_sent = 0;
		}
		if (s->key_mode && !is_key && s->filling) {
			fill_decode(s, pkt, frame);
			av_packet_unref(pkt);
			continue;
		}
		if (s->key_mode && !is_key && s->gop_open) {
			int due = !isnan(t) && t - s->gop_key_t > s->o.key_gap;
			gop_hold(s, pkt);
			av_packet_unref(pkt);
			if (due && s->gop_open && fill_allowed(s, t))
				fill_start(s, frame);
			else if (due)
				gop_clear(s); /* over budget: this stretch keeps its key frame only */
			continue;
		}
		if (s->key_mode && !is_key) {
			if (!s->key_seen && (s->video_packets > KEY_FALLBACK_PACKETS ||
					     (!isnan(t) && t > KEY_FALLBACK_SECONDS))) {
				s->key_mode = 0;
				res->fell_back = 1;
				v->dec->skip_frame = AVDISCARD_DEFAULT;
			} else {
				av_packet_unref(pkt);
				continue;
			}
		}
		if (s->key_mode && is_key && s->gop_open)
			gop_hold(s, pkt); /* whatever the cap decides below: a fill starts here */
		/* Frames that are decodable alone and that the cap would drop are never
		 * decoded. */
		if ((s->key_mode || s->intra_only) && s->min_gap > 0 && !isnan(t)) {
			double eps = s->frame_dur > 0 ? s->frame_dur / 2 : 1e-3;
			if (s->have_sent && t >= s->last_sent_t - 1.0 &&
			    t < s->last_sent_t + s->min_gap - eps) {
				av_packet_unref(pkt);
				continue;
			}
			s->have_sent = 1;
			s->last_sent_t = t;
		}
		if (s->key_mode && is_key && s->gop_open)
			s->gop_key_sent = 1;
		decode(s, pkt, frame);
		av_packet_unref(pkt);
	}
	if (!s->stop)
		decode(s, NULL, frame);
	if (!s->stop)
		check_truncation(s, read_status);
	if (s->cb_status)
		rc = s->cb_status;
out:
	res->seconds = ks_time_mono() - v->t0;
	res->marks = v->info.marks;
	copy_str(res->why, sizeof res->why, v->info.why);
	if (s) {
		gop_free(s);
		sws_freeContext(s->sws_out);
		sws_freeContext(s->sws_thumb);
		free(s->out);
		free(s);
	}
	av_packet_free(&pkt);
	av_frame_free(&frame);
	return rc;
}
