/* Videos in the reports: the probe facts the scan recorded (duration, size, codecs,
 * frame rate, container time), how far decoding went and why it stopped, how many
 * frames were fingerprinted, and each video match with the time of its frame
 * ("frame at 0:01:23.4 within 4 bits of …"), so a court can see where in a video the
 * known material is without anyone watching it; a whole-video TMK+PDQF match shows
 * upstream's two scores. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kestrel/store_video.h"
#include "kestrel/video.h"
#include "report_video.h"

/* "h:mm:ss.t" */
static void add_clock(struct ks_buf *b, double s)
{
	if (!(s >= 0) || s > 1e9)
		s = 0;
	long long t = llround(s * 10);
	ks_buf_addf(b, "%lld:%02lld:%02lld.%lld", t / 36000, t / 600 % 60, t / 10 % 60, t % 10);
}

static void add_num(struct ks_buf *b, double v, int known)
{
	if (known && isfinite(v))
		ks_buf_addf(b, "%.3f", v);
	else
		ks_buf_adds(b, "null");
}

void ks_report_json_video(struct ks_buf *b, const struct ks_file_row *r)
{
	const struct ks_video_row *v = r->video;
	ks_buf_adds(b, ",\"video\":");
	if (!v) {
		ks_buf_adds(b, "null");
		return;
	}
	const struct ks_video_facts *f = &v->f;
	char marks[64];
	ks_buf_adds(b, "{\"status\":");
	ks_json_add_string(b, f->status);
	ks_buf_adds(b, ",\"container\":");
	ks_json_add_string_or_null(b, *f->container ? f->container : NULL);
	ks_buf_adds(b, ",\"video_codec\":");
	ks_json_add_string_or_null(b, *f->video_codec ? f->video_codec : NULL);
	ks_buf_adds(b, ",\"audio_codec\":");
	ks_json_add_string_or_null(b, *f->audio_codec ? f->audio_codec : NULL);
	ks_buf_adds(b, ",\"duration\":");
	add_num(b, f->duration, f->duration >= 0);
	ks_buf_adds(b, ",\"fps\":");
	add_num(b, f->fps, f->fps > 0);
	ks_buf_addf(b, ",\"width\":%u,\"height\":%u,\"creation_time\":", f->width, f->height);
	ks_json_add_time(b, f->creation_time);
	ks_buf_adds(b, ",\"marks\":");
	ks_json_add_string(b, ks_video_marks_name(f->marks, marks, sizeof marks));
	ks_buf_adds(b, ",\"why\":");
	ks_json_add_string_or_null(b, *f->why ? f->why : NULL);
	ks_buf_addf(b, ",\"frames_decoded\":%llu,\"frames_fingerprinted\":%llu,\"reached\":",
		    (unsigned long long)f->frames_decoded, (unsigned long long)v->features);
	add_num(b, f->reached, 1);
	ks_buf_adds(b, ",\"tmk\":");
	if (v->tmk.status) {
		ks_buf_adds(b, "{\"status\":");
		ks_json_add_string(b, v->tmk.status);
		ks_buf_addf(b, ",\"frames\":%lld,\"why\":", (long long)v->tmk.frames);
		ks_json_add_string_or_null(b, v->tmk.why && *v->tmk.why ? v->tmk.why : NULL);
		ks_buf_adds(b, "}");
	} else {
		ks_buf_adds(b, "null");
	}
	ks_buf_adds(b, ",\"matches\":[");
	for (size_t i = 0; i < v->nmatches; i++) {
		const struct ks_video_match_row *m = &v->matches[i];
		ks_buf_adds(b, i ? ",{\"set\":" : "{\"set\":");
		ks_json_add_string(b, m->set);
		ks_buf_adds(b, ",\"how\":");
		ks_json_add_string(b, m->how);
		ks_buf_adds(b, ",\"entry\":");
		ks_json_add_string(b, m->entry);
		ks_buf_addf(b, ",\"distance\":%d,\"time\":", m->distance);
		add_num(b, m->seconds, 1);
		ks_buf_addf(b, ",\"frame\":%lld", (long long)m->frame);
		if (strcmp(m->how, "vpdq") == 0)
			ks_buf_addf(b, ",\"query_pct\":%.1f,\"target_pct\":%.1f", m->query_pct,
				    m->target_pct);
		if (strcmp(m->how, "tmk") == 0)
			ks_buf_addf(b, ",\"level1\":%.6f,\"level2\":%.6f", m->level1, m->level2);
		ks_buf_adds(b, ",\"category\":");
		ks_json_add_string_or_null(
		    b, m->category ? ks_report_cat_label(m->scheme, m->category) : NULL);
		ks_buf_adds(b, ",\"category_code\":");
		ks_json_add_string_or_null(b, m->category);
		ks_buf_adds(b, ",\"scheme\":");
		ks_json_add_string_or_null(b, m->category ? m->scheme : NULL);
		ks_buf_adds(b, "}");
	}
	ks_buf_adds(b, "]}");
}

void ks_report_html_item_video(struct ks_buf *b, const struct ks_file_row *r)
{
	const struct ks_video_row *v = r->video;
	if (!v)
		return;
	const struct ks_video_facts *f = &v->f;
	char marks[64];
	ks_buf_adds(b, "<br>video: ");
	if (f->duration >= 0)
		add_clock(b, f->duration);
	else
		ks_buf_adds(b, "duration unknown");
	if (f->width && f->height)
		ks_buf_addf(b, ", %ux%u", f->width, f->height);
	if (*f->video_codec) {
		ks_buf_adds(b, " ");
		ks_html_add(b, f->video_codec);
	}
	if (f->fps > 0)
		ks_buf_addf(b, " %.2f fps", f->fps);
	if (*f->container) {
		ks_buf_adds(b, " (");
		ks_html_add(b, f->container);
		ks_buf_adds(b, ")");
	}
	if (f->creation_time) {
		char iso[32];
		ks_time_iso8601(f->creation_time, iso);
		ks_buf_addf(b, ", made %s", iso);
	}
	ks_buf_addf(b, "; %llu frames fingerprinted", (unsigned long long)v->features);
	if (v->tmk.status) {
		ks_buf_addf(b, "; TMK+PDQF %s (%lld frames at 15 fps", v->tmk.status,
			    (long long)v->tmk.frames);
		if (v->tmk.why && *v->tmk.why) {
			ks_buf_adds(b, ": ");
			ks_html_add(b, v->tmk.why);
		}
		ks_buf_adds(b, ")");
	}
	if (strcmp(f->status, "ok") != 0 || f->marks) {
		ks_buf_adds(b, "<br><span class=\"bad\">video ");
		ks_html_add(b, f->status);
		ks_buf_adds(b, " (");
		ks_html_add(b, ks_video_marks_name(f->marks, marks, sizeof marks));
		ks_buf_adds(b, ")");
		if (*f->why) {
			ks_buf_adds(b, ": ");
			ks_html_add(b, f->why);
		}
		ks_buf_adds(b, "</span>");
	}
	for (size_t i = 0; i < v->nmatches; i++) {
		const struct ks_video_match_row *m = &v->matches[i];
		ks_buf_adds(b, "<br>");
		if (strcmp(m->how, "vpdq") == 0) {
			ks_buf_addf(b, "%.0f %% of its frames are in known video ", m->query_pct);
			ks_html_add(b, m->entry);
			ks_buf_addf(b,
				    " (%.0f %% of that video's frames are here; closest frame at ",
				    m->target_pct);
			add_clock(b, m->seconds);
			ks_buf_addf(b, ", %d bits)", m->distance);
		} else if (strcmp(m->how, "tmk") == 0) {
			ks_buf_addf(b, "TMK+PDQF scores %.3f / %.3f against known video ", m->level1,
				    m->level2);
			ks_html_add(b, m->entry);
		} else {
			ks_buf_adds(b, "frame at ");
			add_clock(b, m->seconds);
			ks_buf_addf(b, " within %d bits of ", m->distance);
			ks_html_add(b, m->entry);
		}
		ks_buf_adds(b, " in set ");
		ks_html_add(b, m->set);
		ks_buf_adds(b, ": ");
		ks_html_add(b, ks_report_cat_label(m->scheme, m->category));
	}
}
