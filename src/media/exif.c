/* EXIF reader: walks the TIFF IFDs of an EXIF block (IFD0, IFD1, Exif, GPS) with every
 * offset and count checked against the block, a visited set against IFD loops and a
 * cap on entries, and keeps the handful of tags kestrel reports. Maker notes are never
 * interpreted. The containers (JPEG, PNG, WebP, HEIF) are located in exif_locate.c. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kestrel/exif.h"

enum { IFD_0, IFD_1, IFD_EXIF, IFD_GPS };

struct tiff {
	const uint8_t *p;
	size_t len;
	int be;
	size_t visited[KS_EXIF_MAX_IFDS];
	int nvisited;
	struct ks_exif *out;
	/* GPS parts, combined when the GPS IFD is done */
	char lat_ref, lon_ref;
	int alt_ref;
	double lat, lon, alt;
	int have_lat, have_lon, have_alt;
	char gps_date[12];
	double gps_hms[3];
	int have_gps_hms;
	uint32_t thumb_off, thumb_len;
	int have_thumb_off, have_thumb_len;
	uint32_t exif_ifd, gps_ifd;
	int have_exif_ifd, have_gps_ifd;
	char dng_serial[KS_EXIF_STR];
};

struct entry {
	uint16_t tag, type;
	uint32_t count;
	size_t valoff; /* where the value bytes start in the block */
	size_t bytes;
};

static void warn(struct tiff *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void warn(struct tiff *t, const char *fmt, ...)
{
	if (t->out->warning[0])
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(t->out->warning, sizeof t->out->warning, fmt, ap);
	va_end(ap);
}

static uint16_t rd16(const struct tiff *t, size_t off)
{
	const uint8_t *q = t->p + off;
	return t->be ? (uint16_t)(q[0] << 8 | q[1]) : (uint16_t)(q[1] << 8 | q[0]);
}

static uint32_t rd32(const struct tiff *t, size_t off)
{
	const uint8_t *q = t->p + off;
	if (t->be)
		return (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3];
	return (uint32_t)q[3] << 24 | (uint32_t)q[2] << 16 | (uint32_t)q[1] << 8 | q[0];
}

static size_t type_size(uint16_t type)
{
	switch (type) {
	case 1: /* BYTE */
	case 2: /* ASCII */
	case 6: /* SBYTE */
	case 7: /* UNDEFINED */
		return 1;
	case 3: /* SHORT */
	case 8: /* SSHORT */
		return 2;
	case 4:  /* LONG */
	case 9:  /* SLONG */
	case 11: /* FLOAT */
	case 13: /* IFD */
		return 4;
	case 5:  /* RATIONAL */
	case 10: /* SRATIONAL */
	case 12: /* DOUBLE */
		return 8;
	default:
		return 0;
	}
}

/* Decodes the 12-byte entry at off; -1 when its value lies outside the block or its
 * type is unknown (the entry is then skipped). */
static int entry_at(const struct tiff *t, size_t off, struct entry *e)
{
	e->tag = rd16(t, off);
	e->type = rd16(t, off + 2);
	e->count = rd32(t, off + 4);
	size_t sz = type_size(e->type);
	if (sz == 0 || e->count == 0 || e->count > t->len / sz)
		return -1;
	e->bytes = (size_t)e->count * sz;
	if (e->bytes <= 4) {
		e->valoff = off + 8;
		return 0;
	}
	e->valoff = rd32(t, off + 8);
	if (e->valoff > t->len || e->bytes > t->len - e->valoff)
		return -1;
	return 0;
}

/* First value of an integer entry (BYTE, SHORT, LONG, IFD); -1 if not integer. */
static int64_t entry_uint(const struct tiff *t, const struct entry *e)
{
	switch (e->type) {
	case 1:
	case 7:
		return t->p[e->valoff];
	case 3:
		return rd16(t, e->valoff);
	case 4:
	case 13:
		return rd32(t, e->valoff);
	default:
		return -1;
	}
}

/* Value i of a RATIONAL/SRATIONAL entry into *v; -1 for a zero denominator or
 * another type. */
static int entry_rational(const struct tiff *t, const struct entry *e, uint32_t i, double *v)
{
	if ((e->type != 5 && e->type != 10) || i >= e->count)
		return -1;
	uint32_t n = rd32(t, e->valoff + 8 * (size_t)i);
	uint32_t d = rd32(t, e->valoff + 8 * (size_t)i + 4);
	if (d == 0)
		return -1;
	if (e->type == 10)
		*v = (double)(int32_t)n / (double)(int32_t)d;
	else
		*v = (double)n / (double)d;
	return 0;
}

/* Copies a text entry into dst (cap bytes): stops at the first NUL, turns control
 * bytes and broken UTF-8 into '?', trims trailing blanks. */
static void entry_text(const struct tiff *t, const struct entry *e, char *dst, size_t cap)
{
	size_t n = 0;
	if (e->type != 2 && e->type != 7 && e->type != 1) {
		dst[0] = '\0';
		return;
	}
	const uint8_t *s = t->p + e->valoff;
	size_t i = 0;
	while (i < e->bytes && s[i] != 0 && n + 1 < cap) {
		uint8_t c = s[i];
		size_t seq = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3
			: (c & 0xF8) == 0xF0 ? 4 : 0;
		int ok = seq > 0 && i + seq <= e->bytes && n + seq < cap;
		for (size_t k = 1; ok && k < seq; k++)
			ok = (s[i + k] & 0xC0) == 0x80;
		if (seq == 1 && (c < 0x20 || c == 0x7F))
			ok = 0;
		if (!ok) {
			dst[n++] = '?';
			i++;
			continue;
		}
		memcpy(dst + n, s + i, seq);
		n += seq;
		i += seq;
	}
	while (n > 0 && dst[n - 1] == ' ')
		n--;
	dst[n] = '\0';
}

static int is_digits(const char *s, int n)
{
	for (int i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

static int num(const char *s, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* "YYYY:MM:DD" into days since the epoch; -1 if malformed. */
static int parse_date(const char *s, int64_t *days)
{
	if (strlen(s) < 10 || !is_digits(s, 4) || !is_digits(s + 5, 2) || !is_digits(s + 8, 2))
		return -1;
	if ((s[4] != ':' && s[4] != '-') || (s[7] != ':' && s[7] != '-'))
		return -1;
	int y = num(s, 4), mo = num(s + 5, 2), d = num(s + 8, 2);
	if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > 31)
		return -1;
	*days = days_from_civil(y, mo, d);
	return 0;
}

/* "YYYY:MM:DD HH:MM:SS" as Unix seconds of that wall-clock time read as UTC. */
static int parse_datetime(const char *s, int64_t *out)
{
	int64_t days;
	if (strlen(s) != 19 || parse_date(s, &days) != 0)
		return -1;
	if ((s[10] != ' ' && s[10] != 'T') || s[13] != ':' || s[16] != ':' ||
	    !is_digits(s + 11, 2) || !is_digits(s + 14, 2) || !is_digits(s + 17, 2))
		return -1;
	int h = num(s + 11, 2), mi = num(s + 14, 2), se = num(s + 17, 2);
	if (h > 23 || mi > 59 || se > 60)
		return -1;
	*out = days * 86400 + h * 3600 + mi * 60 + se;
	return 0;
}

/* "+HH:MM" / "-HH:MM" into seconds east of UTC. */
static int parse_offset(const char *s, int *secs)
{
	if (strlen(s) != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':' || !is_digits(s + 1, 2) ||
	    !is_digits(s + 4, 2))
		return -1;
	int h = num(s + 1, 2), m = num(s + 4, 2);
	if (h > 14 || m > 59)
		return -1;
	*secs = (h * 3600 + m * 60) * (s[0] == '-' ? -1 : 1);
	return 0;
}

static void take_ifd0(struct tiff *t, const struct entry *e)
{
	struct ks_exif *o = t->out;
	int64_t v;
	switch (e->tag) {
	case 0x010F:
		entry_text(t, e, o->make, sizeof o->make);
		break;
	case 0x0110:
		entry_text(t, e, o->model, sizeof o->model);
		break;
	case 0x0131:
		entry_text(t, e, o->software, sizeof o->software);
		break;
	case 0x013B:
		entry_text(t, e, o->artist, sizeof o->artist);
		break;
	case 0x0132:
		entry_text(t, e, o->datetime, sizeof o->datetime);
		break;
	case 0xC62F: /* DNG CameraSerialNumber: a standard tag, used when 0xA431 is absent */
		entry_text(t, e, t->dng_serial, sizeof t->dng_serial);
		break;
	case 0x0112:
		v = entry_uint(t, e);
		o->orientation = v >= 1 && v <= 8 ? (int)v : 0;
		break;
	case 0x8769:
		v = entry_uint(t, e);
		if (v > 0) {
			t->exif_ifd = (uint32_t)v;
			t->have_exif_ifd = 1;
		}
		break;
	case 0x8825:
		v = entry_uint(t, e);
		if (v > 0) {
			t->gps_ifd = (uint32_t)v;
			t->have_gps_ifd = 1;
		}
		break;
	}
}

static void take_exif(struct tiff *t, const struct entry *e)
{
	struct ks_exif *o = t->out;
	switch (e->tag) {
	case 0x9003:
		entry_text(t, e, o->datetime_original, sizeof o->datetime_original);
		break;
	case 0x9011:
		entry_text(t, e, o->offset_time_original, sizeof o->offset_time_original);
		break;
	case 0xA420:
		entry_text(t, e, o->image_unique_id, sizeof o->image_unique_id);
		break;
	case 0xA430:
		entry_text(t, e, o->owner_name, sizeof o->owner_name);
		break;
	case 0xA431:
		entry_text(t, e, o->body_serial, sizeof o->body_serial);
		break;
	case 0xA433:
		entry_text(t, e, o->lens_make, sizeof o->lens_make);
		break;
	case 0xA434:
		entry_text(t, e, o->lens_model, sizeof o->lens_model);
		break;
	case 0xA435:
		entry_text(t, e, o->lens_serial, sizeof o->lens_serial);
		break;
	}
}

/* Degrees from three rationals (d, m, s); a writer may put decimal degrees in the
 * first alone. */
static int dms(struct tiff *t, const struct entry *e, double *out)
{
	double d, m = 0, s = 0;
	if (entry_rational(t, e, 0, &d) != 0 ||
	    (e->count > 1 && entry_rational(t, e, 1, &m) != 0) ||
	    (e->count > 2 && entry_rational(t, e, 2, &s) != 0)) {
		warn(t, "GPS rational with zero denominator or wrong type");
		return -1;
	}
	*out = d + m / 60.0 + s / 3600.0;
	return 0;
}

static void take_gps(struct tiff *t, const struct entry *e)
{
	char ref[4];
	switch (e->tag) {
	case 0x0001:
	case 0x0003:
		entry_text(t, e, ref, sizeof ref);
		if (e->tag == 1)
			t->lat_ref = ref[0];
		else
			t->lon_ref = ref[0];
		break;
	case 0x0002:
		t->have_lat = dms(t, e, &t->lat) == 0;
		break;
	case 0x0004:
		t->have_lon = dms(t, e, &t->lon) == 0;
		break;
	case 0x0005:
		t->alt_ref = (int)entry_uint(t, e);
		break;
	case 0x0006:
		t->have_alt = entry_rational(t, e, 0, &t->alt) == 0;
		break;
	case 0x0007:
		t->have_gps_hms = e->count >= 3 && entry_rational(t, e, 0, &t->gps_hms[0]) == 0 &&
				  entry_rational(t, e, 1, &t->gps_hms[1]) == 0 &&
				  entry_rational(t, e, 2, &t->gps_hms[2]) == 0;
		break;
	case 0x001D:
		entry_text(t, e, t->gps_date, sizeof t->gps_date);
		break;
	}
}

static void take_ifd1(struct tiff *t, const struct entry *e)
{
	int64_t v = entry_uint(t, e);
	if (v < 0)
		return;
	if (e->tag == 0x0201) {
		t->thumb_off = (uint32_t)v;
		t->have_thumb_off = 1;
	} else if (e->tag == 0x0202) {
		t->thumb_len = (uint32_t)v;
		t->have_thumb_len = 1;
	}
}

/* Walks one IFD; returns the offset of the next IFD (0 for none) or -1 when this
 * one is unusable. */
static int64_t walk_ifd(struct tiff *t, size_t off, int which)
{
	for (int i = 0; i < t->nvisited; i++)
		if (t->visited[i] == off) {
			warn(t, "IFD loop at offset %zu", off);
			return -1;
		}
	if (t->nvisited >= KS_EXIF_MAX_IFDS) {
		warn(t, "too many IFDs");
		return -1;
	}
	t->visited[t->nvisited++] = off;
	if (off < 8 || off > t->len || t->len - off < 2) {
		warn(t, "IFD offset %zu outside the block", off);
		return -1;
	}
	uint16_t n = rd16(t, off);
	if (n > KS_EXIF_MAX_ENTRIES) {
		warn(t, "IFD at %zu claims %u entries", off, n);
		return -1;
	}
	size_t need = 2 + 12 * (size_t)n;
	if (t->len - off < need) {
		warn(t, "IFD at %zu runs past the block", off);
		return -1;
	}
	int bad = 0;
	for (uint16_t i = 0; i < n; i++) {
		struct entry e;
		if (entry_at(t, off + 2 + 12 * (size_t)i, &e) != 0) {
			bad++;
			continue;
		}
		switch (which) {
		case IFD_0:
			take_ifd0(t, &e);
			break;
		case IFD_1:
			take_ifd1(t, &e);
			break;
		case IFD_EXIF:
			take_exif(t, &e);
			break;
		case IFD_GPS:
			take_gps(t, &e);
			break;
		}
	}
	if (bad)
		warn(t, "%d IFD entries with values outside the block", bad);
	if (t->len - off - need < 4)
		return 0;
	return rd32(t, off + need);
}

static void finish(struct tiff *t)
{
	struct ks_exif *o = t->out;
	if (!o->body_serial[0] && t->dng_serial[0])
		memcpy(o->body_serial, t->dng_serial, sizeof o->body_serial);

	int64_t local;
	if (o->datetime_original[0] && parse_datetime(o->datetime_original, &local) == 0) {
		o->time_local = local;
		int off;
		if (o->offset_time_original[0] && parse_offset(o->offset_time_original, &off) == 0) {
			o->time_utc = local - off;
			o->has_time_utc = 1;
		}
	} else if (o->datetime_original[0]) {
		warn(t, "malformed DateTimeOriginal");
	}

	if (t->have_lat && t->have_lon) {
		double lat = t->lat, lon = t->lon;
		if (t->lat_ref == 'S' || t->lat_ref == 's')
			lat = -lat;
		if (t->lon_ref == 'W' || t->lon_ref == 'w')
			lon = -lon;
		if (lat >= -90.0 && lat <= 90.0 && lon >= -180.0 && lon <= 180.0) {
			o->has_gps = 1;
			o->gps_lat = lat;
			o->gps_lon = lon;
		} else {
			warn(t, "GPS position out of range");
		}
	}
	if (o->has_gps && t->have_alt) {
		o->has_gps_alt = 1;
		o->gps_alt = t->alt_ref == 1 ? -t->alt : t->alt;
	}
	int64_t days;
	if (t->have_gps_hms && t->gps_date[0] && parse_date(t->gps_date, &days) == 0 &&
	    t->gps_hms[0] >= 0 && t->gps_hms[0] < 24 && t->gps_hms[1] >= 0 && t->gps_hms[1] < 60 &&
	    t->gps_hms[2] >= 0 && t->gps_hms[2] <= 60)
		o->gps_time = days * 86400 + (int64_t)t->gps_hms[0] * 3600 +
			      (int64_t)t->gps_hms[1] * 60 + (int64_t)t->gps_hms[2];

	if (t->have_thumb_off && t->have_thumb_len && t->thumb_len > 0) {
		if (t->thumb_off <= t->len && t->thumb_len <= t->len - t->thumb_off) {
			o->has_thumb = 1;
			o->thumb_offset = t->thumb_off;
			o->thumb_length = t->thumb_len;
			o->thumb_is_jpeg = t->thumb_len >= 3 && t->p[t->thumb_off] == 0xFF &&
					   t->p[t->thumb_off + 1] == 0xD8 &&
					   t->p[t->thumb_off + 2] == 0xFF;
		} else {
			warn(t, "thumbnail outside the EXIF block");
		}
	}
}

int ks_exif_parse_tiff(const uint8_t *p, size_t len, struct ks_exif *out, struct ks_err *err)
{
	memset(out, 0, sizeof *out);
	snprintf(out->container, sizeof out->container, "tiff");
	out->tiff_length = len;
	if (len < 8)
		return ks_err_set(err, KS_E_EVIDENCE, "EXIF block of %zu bytes is too short", len);
	struct tiff t = {.p = p, .len = len, .out = out};
	if (p[0] == 'I' && p[1] == 'I')
		t.be = 0;
	else if (p[0] == 'M' && p[1] == 'M')
		t.be = 1;
	else
		return ks_err_set(err, KS_E_EVIDENCE, "EXIF block has no TIFF byte order mark");
	if (rd16(&t, 2) != 42)
		return ks_err_set(err, KS_E_EVIDENCE, "EXIF block: TIFF magic is not 42");
	out->big_endian = t.be;
	uint32_t ifd0 = rd32(&t, 4);
	if (ifd0 < 8 || ifd0 > len - 2)
		return ks_err_set(err, KS_E_EVIDENCE, "EXIF block: IFD0 offset %u outside %zu bytes",
				  ifd0, len);

	int64_t next = walk_ifd(&t, ifd0, IFD_0);
	if (next > 0)
		walk_ifd(&t, (size_t)next, IFD_1);
	if (t.have_exif_ifd)
		walk_ifd(&t, t.exif_ifd, IFD_EXIF);
	if (t.have_gps_ifd)
		walk_ifd(&t, t.gps_ifd, IFD_GPS);
	finish(&t);
	return KS_OK;
}

int ks_exif_parse(const uint8_t *data, size_t len, struct ks_exif *out, struct ks_err *err)
{
	size_t off = 0, n = 0;
	const char *container = NULL;
	memset(out, 0, sizeof *out);
	int rc = ks_exif_locate(data, len, &off, &n, &container, err);
	if (rc != KS_OK)
		return rc;
	rc = ks_exif_parse_tiff(data + off, n, out, err);
	snprintf(out->container, sizeof out->container, "%s", container);
	if (rc != KS_OK) {
		ks_err_prefix(err, "%s", container);
		return rc;
	}
	out->tiff_offset = off;
	if (out->has_thumb)
		out->thumb_offset += off;
	return KS_OK;
}
