/* kestrel EXIF reader (media layer): a small, bounded TIFF/IFD parser of kestrel's own
 * for the tags that matter to victim identification (camera, serial, lens, software,
 * capture time and offset, GPS, orientation, embedded thumbnail). It finds the EXIF
 * block in JPEG, TIFF, PNG (eXIf), WebP (EXIF) and HEIF (Exif item), never parses
 * maker notes, never allocates and never reads outside the buffer it is given. */
#ifndef KESTREL_EXIF_H
#define KESTREL_EXIF_H

#include <stddef.h>
#include <stdint.h>

#include "kestrel/base.h"

/* Limits the parser holds to whatever the file claims. */
#define KS_EXIF_MAX_ENTRIES 1024 /* entries per IFD; more is a damaged IFD */
#define KS_EXIF_MAX_IFDS 8       /* IFDs visited per file (IFD0, IFD1, Exif, GPS, …) */
#define KS_EXIF_MAX_SEGMENTS 4096 /* JPEG segments / PNG chunks / boxes walked */
#define KS_EXIF_STR 128          /* text fields are cut to KS_EXIF_STR - 1 bytes */

/* What was found. Text is NUL-terminated, printable ASCII/UTF-8 as stored (control
 * bytes become '?', trailing blanks are trimmed), "" when absent. */
struct ks_exif {
	char container[8];  /* "jpeg" "tiff" "png" "webp" "heif" */
	uint64_t tiff_offset; /* byte offset of the TIFF header in the buffer */
	uint64_t tiff_length; /* bytes of the EXIF (TIFF) block */
	int big_endian;       /* "MM" byte order */

	char make[KS_EXIF_STR];        /* 0x010F */
	char model[KS_EXIF_STR];       /* 0x0110 */
	char software[KS_EXIF_STR];    /* 0x0131 */
	char artist[KS_EXIF_STR];      /* 0x013B */
	char body_serial[KS_EXIF_STR]; /* BodySerialNumber 0xA431 (Exif IFD) */
	char lens_make[KS_EXIF_STR];   /* 0xA433 */
	char lens_model[KS_EXIF_STR];  /* 0xA434 */
	char lens_serial[KS_EXIF_STR]; /* 0xA435 */
	char owner_name[KS_EXIF_STR];  /* CameraOwnerName 0xA430 */
	char image_unique_id[KS_EXIF_STR]; /* 0xA420 */

	/* DateTimeOriginal 0x9003 exactly as stored ("2023:04:05 06:07:08") and
	 * OffsetTimeOriginal 0x9011 ("+01:00"). time_local is the wall-clock time read as if
	 * it were UTC (Unix seconds, 0 if absent or malformed); time_utc is the true UTC
	 * instant, set only when both the time and a well-formed offset exist
	 * (has_time_utc). DateTime 0x0132 (last change) is kept as text only. */
	char datetime_original[20];
	char offset_time_original[8];
	char datetime[20];
	int64_t time_local;
	int64_t time_utc;
	int has_time_utc;

	/* GPS IFD. Latitude/longitude in signed decimal degrees (south, west negative),
	 * altitude in metres (below sea level negative). A rational with a zero
	 * denominator or a value out of range leaves has_gps 0. gps_time is the UTC of
	 * GPSDateStamp + GPSTimeStamp when both exist (else 0). */
	int has_gps;
	double gps_lat, gps_lon;
	int has_gps_alt;
	double gps_alt;
	int64_t gps_time;

	int orientation; /* 0x0112: 1..8, 0 when absent or out of range */

	/* Embedded thumbnail from IFD1 (JPEGInterchangeFormat 0x0201 / Length 0x0202),
	 * as an offset in the buffer passed to ks_exif_parse (not in the TIFF block) and a
	 * length, both checked to lie inside the EXIF block. thumb_is_jpeg says the bytes
	 * start with a JPEG SOI. has_thumb 0 when absent or out of bounds. */
	int has_thumb;
	uint64_t thumb_offset, thumb_length;
	int thumb_is_jpeg;

	/* Problems met on the way (the first one), e.g. "IFD loop", "GPS rational with
	 * zero denominator"; "" when none. Fields read before and after still count. */
	char warning[96];
};

/* Finds the EXIF block of a whole file held in data[0..len) (JPEG, TIFF, PNG, WebP or
 * HEIF, told apart by content) and parses it into *out (zeroed first).
 * Returns KS_OK when an EXIF block was found and its TIFF header is sound (fields the
 * block lacks stay empty; damage after the header is noted in out->warning),
 * KS_E_NOTFOUND when the container is known but carries no EXIF, KS_E_UNSUPPORTED
 * for an unknown container, KS_E_EVIDENCE (err says why) when the EXIF block itself
 * is unusable. Thread-safe; never allocates. */
int ks_exif_parse(const uint8_t *data, size_t len, struct ks_exif *out, struct ks_err *err);

/* Same, for a bare TIFF/EXIF block (starting "II*\0" or "MM\0*", as found after
 * "Exif\0\0" in a JPEG APP1). Offsets in *out are relative to tiff. */
int ks_exif_parse_tiff(const uint8_t *tiff, size_t len, struct ks_exif *out, struct ks_err *err);

/* Locates the EXIF (TIFF) block of a whole file without parsing it: *off and *n get its
 * place in data. *container gets a static name ("jpeg", …). Same returns as
 * ks_exif_parse. */
int ks_exif_locate(const uint8_t *data, size_t len, size_t *off, size_t *n, const char **container,
		   struct ks_err *err);

#endif
