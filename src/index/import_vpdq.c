/* vPDQ lists: known videos as Meta's vpdq tools write them, one sampled frame per line
 * ("frame,quality,hash,seconds"; `kestrel vpdq` writes the same). One file is one
 * video, named after the file, unless "# video: NAME" lines split it into several
 * videos (each line starts the next one). Every frame becomes an entry with its PDQ
 * hash, quality, frame number and time (video_frame set, name = the video's name);
 * the user gives the category of the whole list. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "index_int.h"

#define NAME_MAX_LEN 1024

/* Is s[0..len) "# video:" (any case, blanks around)? Sets the name's start. */
static int video_line(const char *s, size_t len, size_t *name_at)
{
	size_t i = 0;
	if (!len || s[0] != '#')
		return 0;
	i = 1;
	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (len - i < 6 || strncasecmp(s + i, "video:", 6) != 0)
		return 0;
	i += 6;
	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	*name_at = i;
	return 1;
}

/* Splits "frame,quality,hash,seconds" (blanks around fields allowed). 0 or -1. */
static int parse_line(const char *s, size_t len, struct ks_hash_entry *e)
{
	const char *f[4];
	size_t fl[4];
	size_t n = 0, start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != ',')
			continue;
		if (n == 4)
			return -1;
		f[n] = s + start;
		fl[n] = i - start;
		n++;
		start = i + 1;
	}
	if (n != 4)
		return -1;
	int64_t frame = ks_parse_size(f[0], fl[0]);
	int64_t quality = ks_parse_size(f[1], fl[1]);
	if (frame < 0 || quality < 0 || quality > 100 || ks_hex_field(f[2], fl[2], e->pdq, 32) < 0)
		return -1;
	char num[64];
	size_t k = fl[3];
	while (k && (f[3][k - 1] == ' ' || f[3][k - 1] == '\t'))
		k--;
	size_t b = 0;
	while (b < k && (f[3][b] == ' ' || f[3][b] == '\t'))
		b++;
	if (k - b == 0 || k - b >= sizeof num)
		return -1;
	memcpy(num, f[3] + b, k - b);
	num[k - b] = '\0';
	for (size_t i = 0; num[i]; i++)
		if (!isdigit((unsigned char)num[i]) && num[i] != '.')
			return -1;
	char *end;
	double sec = strtod(num, &end);
	if (*end || sec < 0 || sec > 1e9)
		return -1;
	e->frame = frame;
	e->pdq_quality = (int)quality;
	e->seconds = sec;
	return 0;
}

static int vpdq_probe(const uint8_t *head, size_t len, const char *path)
{
	(void)path;
	const char *s = (const char *)head;
	size_t i = 0;
	int named = 0;
	while (i < len) {
		const char *nl = memchr(s + i, '\n', len - i);
		if (!nl)
			return 0; /* the first line is cut by the head: cannot tell */
		size_t n = (size_t)(nl - (s + i));
		if (n && s[i + n - 1] == '\r')
			n--;
		size_t at;
		if (video_line(s + i, n, &at))
			named = 1;
		else if (n && s[i] != '#') {
			struct ks_hash_entry e;
			memset(&e, 0, sizeof e);
			return parse_line(s + i, n, &e) == 0 ? (named ? 95 : 90) : 0;
		}
		i += (size_t)(nl - (s + i)) + 1;
	}
	return 0;
}

static int vpdq_run(const char *path, const struct ks_import_opts *o, ks_entry_fn fn, void *ctx,
		    struct ks_err *err)
{
	struct ks_lines lr;
	struct ks_err local;
	const char *scheme, *category;
	uint64_t entries = 0;
	char name[NAME_MAX_LEN + 1];
	int rc;
	if (!err)
		err = &local;
	ks_err_clear(err);
	rc = ks_import_fixed_category(o, &scheme, &category, err);
	if (rc < 0)
		return rc;
	/* Frames before any "# video:" line belong to a video named after the file. */
	const char *base = strrchr(path, '/');
	snprintf(name, sizeof name, "%s", base ? base + 1 : path);
	rc = ks_lines_open(&lr, path, err);
	if (rc < 0)
		return rc;
	for (;;) {
		char *line;
		size_t len, at;
		rc = ks_lines_next(&lr, &line, &len, err);
		if (rc <= 0)
			break;
		unsigned long long ln = (unsigned long long)lr.lineno;
		size_t i = 0;
		while (i < len && (line[i] == ' ' || line[i] == '\t'))
			i++;
		if (video_line(line + i, len - i, &at)) {
			size_t k = len - i - at;
			while (k && (line[i + at + k - 1] == ' ' || line[i + at + k - 1] == '\t'))
				k--;
			if (k == 0 || k > NAME_MAX_LEN) {
				rc = ks_err_set(err, KS_E_FORMAT,
						"line %llu: a video name of 1 to %d bytes expected",
						ln, NAME_MAX_LEN);
				goto out;
			}
			memcpy(name, line + i + at, k);
			name[k] = '\0';
			continue;
		}
		if (i == len || line[i] == '#')
			continue;
		struct ks_hash_entry e = {.has = KS_HAS_PDQ,
					  .scheme = scheme,
					  .category = category,
					  .size = -1,
					  .distributed = -1,
					  .name = name,
					  .video_frame = 1};
		if (parse_line(line + i, len - i, &e) < 0) {
			char ex[80];
			ks_quote_excerpt(line + i, len - i, ex);
			rc = ks_err_set(err, KS_E_FORMAT,
					"line %llu: \"%s\" is not \"frame,quality,hash,seconds\"",
					ln, ex);
			goto out;
		}
		entries++;
		int frc = fn(ctx, &e);
		if (frc < 0) {
			rc = ks_import_stopped(frc, entries, err);
			goto out;
		}
	}
out:
	ks_lines_close(&lr);
	return rc < 0 ? rc : KS_OK;
}

const struct ks_importer_ops ks_import_vpdq_ops = {"vpdq", vpdq_probe, vpdq_run, NULL};
