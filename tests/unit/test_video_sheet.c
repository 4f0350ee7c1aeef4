/* Contact sheets: the JPEG decodes to the grid the options ask for, tiles hold the
 * frames (checked by colour), thinning keeps an even spread over a long video with
 * bounded tiles, time labels are drawn, and a real test video (ffmpeg testsrc) gives
 * one tile per sampled frame. */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

#include "kestrel/video.h"
#include "ktest.h"
#include "test_video_util.h"

struct pic {
	uint32_t w, h;
	uint8_t *rgb;
};

struct jerr {
	struct jpeg_error_mgr pub;
	jmp_buf jb;
};

static void on_jerr(j_common_ptr c)
{
	longjmp(((struct jerr *)c->err)->jb, 1);
}

static int decode(const struct ks_buf *b, struct pic *p)
{
	struct jpeg_decompress_struct d;
	struct jerr je;
	memset(p, 0, sizeof *p);
	d.err = jpeg_std_error(&je.pub);
	je.pub.error_exit = on_jerr;
	if (setjmp(je.jb)) {
		jpeg_destroy_decompress(&d);
		free(p->rgb);
		p->rgb = NULL;
		return -1;
	}
	jpeg_create_decompress(&d);
	jpeg_mem_src(&d, b->data, (unsigned long)b->len);
	jpeg_read_header(&d, TRUE);
	d.out_color_space = JCS_RGB;
	jpeg_start_decompress(&d);
	p->w = d.output_width;
	p->h = d.output_height;
	p->rgb = malloc((size_t)p->w * p->h * 3);
	while (d.output_scanline < d.output_height) {
		JSAMPROW row = p->rgb + (size_t)d.output_scanline * p->w * 3;
		jpeg_read_scanlines(&d, &row, 1);
	}
	jpeg_finish_decompress(&d);
	jpeg_destroy_decompress(&d);
	return 0;
}

static const uint8_t *px(const struct pic *p, uint32_t x, uint32_t y)
{
	return p->rgb + ((size_t)y * p->w + x) * 3;
}

/* A flat grey frame whose level tells which frame it was. */
static void offer(struct ks_contact *c, uint64_t i, uint8_t level, int channels)
{
	static uint8_t buf[64 * 48 * 3];
	memset(buf, level, sizeof buf);
	struct ks_video_frame f = {
		.pix = buf,
		.stride = (size_t)64 * channels,
		.width = 64,
		.height = 48,
		.channels = channels,
		.pts = (double)i,
		.index = i,
	};
	ks_contact_add(c, &f, NULL);
}

static void test_synthetic(void)
{
	struct ks_err err = {0};
	struct ks_buf out = {0};
	struct pic p;

	/* Empty sheet: one grey tile with "--:--". */
	struct ks_contact *c = ks_contact_new(NULL);
	CHECK(ks_contact_count(c) == 0);
	CHECK(ks_contact_render(c, &out, &err) == 0);
	CHECK(out.len > 100 && out.data[0] == 0xFF && out.data[1] == 0xD8);
	CHECK(decode(&out, &p) == 0);
	CHECK(p.w == 240 + 8 && p.h == 180 + 8);
	free(p.rgb);
	ks_contact_free(c);

	/* 1000 frames into at most 10 tiles of 80 px, 5 columns: 2 rows, evenly spread. */
	struct ks_contact_opts o = {.columns = 5, .max_tiles = 10, .tile_width = 80, .quality = 90};
	c = ks_contact_new(&o);
	for (uint64_t i = 0; i < 1000; i++)
		offer(c, i, (uint8_t)(i / 4), i % 2 ? 1 : 3);
	CHECK(ks_contact_count(c) == 10);
	ks_buf_reset(&out);
	CHECK(ks_contact_render(c, &out, &err) == 0);
	CHECK(decode(&out, &p) == 0);
	CHECK(p.w == 5 * 80 + 6 * 4 && p.h == 2 * 60 + 3 * 4);
	if (p.rgb) {
		int prev = -1, first = -1, last = -1, maxgap = 0;
		for (int k = 0; k < 10; k++) {
			uint32_t x = 4 + (uint32_t)(k % 5) * 84 + 40, y = 4 + (uint32_t)(k / 5) * 64 + 10;
			int idx = px(&p, x, y)[0] * 4;
			if (k == 0)
				first = idx;
			last = idx;
			CHECK(idx > prev);
			if (prev >= 0 && idx - prev > maxgap)
				maxgap = idx - prev;
			prev = idx;
		}
		CHECK(first < 8);
		CHECK(last > 800);
		CHECK(maxgap <= 200);
		/* The label box (black, white digits) sits at the bottom-left of each tile. */
		int dark = 0, white = 0;
		for (uint32_t y = 4 + 60 - 11; y < 4 + 60; y++)
			for (uint32_t x = 4; x < 4 + 40; x++) {
				const uint8_t *q = px(&p, x, y);
				dark += q[0] < 40;
				white += q[0] > 200;
			}
		CHECK(dark > 100 && white > 20);
		free(p.rgb);
	}
	ks_contact_free(c);
	ks_buf_release(&out);
}

static void test_video(void)
{
	vt_init();
	CHECK(vt_ffmpeg("-f lavfi -i testsrc=size=160x120:rate=25:duration=5 -c:v mpeg4 -g 25 s.mp4") == 0);
	struct ks_err err = {0};
	struct ks_video *v = NULL;
	struct ks_buf out = {0};
	struct ks_video_result res;
	struct pic p;
	CHECK(ks_video_open_file(&v, vt_path("s.mp4"), NULL, NULL, &err) == 0);
	if (!v)
		return;
	CHECK(ks_video_contact_sheet(v, NULL, NULL, &out, &res, &err) == 0);
	CHECK(res.frames_kept == 5);
	CHECK(decode(&out, &p) == 0);
	/* 5 tiles, 4 columns, 240x180 each. */
	CHECK(p.w == 4 * 240 + 5 * 4 && p.h == 2 * 180 + 3 * 4);
	if (p.rgb) {
		/* testsrc is colourful: a tile's middle is not the grey background, and the
		 * unused sixth cell is. */
		const uint8_t *mid = px(&p, 4 + 120, 4 + 90);
		const uint8_t *bg = px(&p, 4 + 244 + 120, 4 + 184 + 90);
		CHECK(!(mid[0] == mid[1] && mid[1] == mid[2] && mid[0] < 40));
		CHECK(bg[0] < 40 && bg[1] < 40 && bg[2] < 40);
		free(p.rgb);
	}
	ks_video_close(v);
	ks_buf_release(&out);
}

int main(void)
{
	test_synthetic();
	test_video();
	return ktest_done();
}
