/* Private to the report layer: provenance in the reports (report_prov.c) — each
 * item's references and EXIF, the distribution figures (per exhibit, the distinct
 * media the device owner sent, per category) and the camera list (per body serial,
 * the media it took) — and the VICS 2.0 case export (report_vics.c). */
#ifndef KS_REPORT_PROV_H
#define KS_REPORT_PROV_H

#include "report_impl.h"

extern const struct ks_report_writer ks_report_vics;

/* One sentence for a reference: "sent to Alex Example (447700900123@s.whatsapp.net)
 * via WhatsApp at 2023-07-22T04:26:40Z", "downloaded from … with Chrome at …",
 * "thumbnail in thumbcache_256.db (entry …)". Appends to b (plain text, unescaped). */
void ks_report_ref_sentence(struct ks_buf *b, const struct ks_ref_row *r);

/* Appends `,"references":[…],"exif":{…}` (exif null when none) to a file object. */
void ks_report_json_prov(struct ks_buf *b, const struct ks_file_row *r);
/* Appends the JSON object of a media's EXIF. */
void ks_report_json_exif(struct ks_buf *b, const struct ks_exif *x);
/* Appends an item's references and EXIF as HTML lines (each starting "<br>"). */
void ks_report_html_item_prov(struct ks_buf *b, const struct ks_file_row *r);

/* The report sections, appended to b (flushed to out when large):
 * JSON: `,\n"distribution": […],\n"cameras": […]` (between "exhibits" and "items");
 * HTML: the "Distribution" and "Cameras" sections;
 * CSV: "distributed", "distributed_media" and "camera" records with their columns rows. */
int ks_report_json_prov_sections(struct ks_store *st, const struct ks_tally *t, struct ks_buf *b,
				 FILE *out, struct ks_err *err);
int ks_report_html_prov_sections(struct ks_store *st, const struct ks_tally *t, struct ks_buf *b,
				 FILE *out, struct ks_err *err);
int ks_report_csv_prov_sections(struct ks_store *st, const struct ks_tally *t, struct ks_buf *b,
				FILE *out, struct ks_err *err);

/* Distinct media of the case that a "sent" reference points at (any exhibit), by
 * media id, sorted; for VICS IsDistributed. *out is freed by the caller. */
int ks_report_distributed_ids(struct ks_store *st, int64_t **out, size_t *n, struct ks_err *err);

#endif
