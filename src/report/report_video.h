/* Private to the report layer: what the reports say of a video (report_video.c) —
 * its probe facts, how much of it was fingerprinted, and its video matches with the
 * time of the frame that matched. */
#ifndef KS_REPORT_VIDEO_H
#define KS_REPORT_VIDEO_H

#include "report_impl.h"

/* Appends `,"video":{…}` to a file object (null when the row is not a video the scan
 * looked at): status, container, codecs, duration, fps, width, height, creation_time,
 * marks, why, frames_decoded, frames_fingerprinted, tmk (status, frames, why; null
 * without `scan --tmk`), and matches (set, how, entry, distance, time, frame,
 * query_pct and target_pct for vpdq, level1 and level2 for tmk, category, scheme). */
void ks_report_json_video(struct ks_buf *b, const struct ks_file_row *r);
/* Appends a video's facts and matches as HTML lines (each starting "<br>"). */
void ks_report_html_item_video(struct ks_buf *b, const struct ks_file_row *r);

#endif
