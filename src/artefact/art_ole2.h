/* Private to the artefact layer: a small, bounded reader of OLE2 compound files
 * (MS-CFB), enough for Thumbs.db: header, FAT (with DIFAT), directory, mini FAT and
 * mini stream, stream reads. Every sector id is checked against the file, every
 * chain against a step limit (loops), every size against the bytes that exist. */
#ifndef KS_ART_OLE2_H
#define KS_ART_OLE2_H

#include <stddef.h>
#include <stdint.h>

#include "kestrel/base.h"

enum { KS_OLE2_EMPTY = 0, KS_OLE2_STORAGE = 1, KS_OLE2_STREAM = 2, KS_OLE2_ROOT = 5 };

struct ks_ole2_entry {
	char name[160];   /* UTF-8 */
	int type;         /* KS_OLE2_* */
	uint32_t start;   /* first sector (or mini sector) */
	uint64_t size;
	uint64_t mtime;   /* FILETIME as stored, 0 if none */
};

struct ks_ole2 {
	const uint8_t *p;
	size_t len;
	unsigned major;
	size_t ss, mss;   /* sector and mini-sector sizes */
	uint32_t cutoff;  /* streams smaller than this live in the mini stream */
	size_t nsec;      /* sectors present in the file (the last may be short) */
	uint32_t *fat, *minifat;
	size_t nfat, nminifat;
	struct ks_ole2_entry *dir;
	size_t ndir;
	struct ks_buf mini; /* the mini stream */
};

/* Opens a compound file held in p[0..len) (borrowed until close). KS_E_EVIDENCE with
 * err on anything malformed. o is zeroed first; close it whatever the result. */
int ks_ole2_open(struct ks_ole2 *o, const uint8_t *p, size_t len, struct ks_err *err);
void ks_ole2_close(struct ks_ole2 *o);
/* First stream (or any type when type < 0) named name, NULL if none. */
const struct ks_ole2_entry *ks_ole2_find(const struct ks_ole2 *o, const char *name, int type);
/* Reads a stream into out (reset first). KS_E_LIMIT when e->size > max, KS_E_EVIDENCE
 * when its chain is broken (out then holds what could be read). */
int ks_ole2_read(const struct ks_ole2 *o, const struct ks_ole2_entry *e, uint64_t max,
		 struct ks_buf *out, struct ks_err *err);

#endif
