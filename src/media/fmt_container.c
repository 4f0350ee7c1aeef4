/* Containers (opened later through libarchive: zip, gzip, bzip2, xz, 7z, tar, cpio,
 * rar, ISO 9660) and documents that hold media (PDF, OLE2 compound files). Checks are
 * lighter than for pictures: the magic plus the framing that can be confirmed without
 * decompressing (central directory, header CRCs, stream footers, header chains). */
#include "sniff_impl.h"

/* ---------------------------------------------------------------- zip */

int ks_media_sniff_zip(const uint8_t *d, size_t len, uint64_t size)
{
	if (ks_has(d, len, 0, "PK\3\4", 4) || ks_has(d, len, 0, "PK\7\10PK\3\4", 8))
		return KS_SNIFF_STRONG;
	if (ks_has(d, len, 0, "PK\5\6", 4) && size >= 22)
		return KS_SNIFF_STRONG; /* empty archive: only the end record */
	return KS_SNIFF_NO;
}

/* Offset of the end-of-central-directory record, or -1. The record's comment must
 * reach the end of the data exactly (a stray PK\5\6 inside a member rarely does). */
static long zip_find_eocd(const uint8_t *d, size_t len)
{
	if (len < 22)
		return -1;
	size_t lo = len - 22 > 65535 ? len - 22 - 65535 : 0;
	for (size_t i = len - 22 + 1; i-- > lo;)
		if (d[i] == 'P' && memcmp(d + i, "PK\5\6", 4) == 0 &&
		    (size_t)ks_le16(d + i + 20) == len - i - 22)
			return (long)i;
	return -1;
}

enum ks_valid ks_media_check_zip(const uint8_t *d, size_t len, struct ks_media_facts *f)
{
	size_t pos = ks_has(d, len, 0, "PK\7\10", 4) ? 4 : 0;
	if (ks_has(d, len, 0, "PK\5\6", 4)) {
		if (len < 22)
			return ks_verdict(f, KS_VALID_TRUNCATED, "ends in the end record");
		return ks_le16(d + 10) == 0
			   ? KS_VALID_OK
			   : ks_verdict(f, KS_VALID_BAD, "end record lists entries");
	}
	if (!ks_has(d, len, pos, "PK\3\4", 4))
		return ks_verdict(f, KS_VALID_BAD, "no local header");
	if (!ks_fits(pos, 30, len))
		return ks_verdict(f, KS_VALID_TRUNCATED, "ends in the first local header");
	uint16_t need = ks_le16(d + pos + 4), method = ks_le16(d + pos + 8);
	if ((need & 0xff) > 90 || !(method <= 20 || method == 93 || method == 95 || method == 96 ||
				    method == 97 || method == 98 || method == 99))
		return ks_verdict(f, KS_VALID_BAD, "bad first local header");
	if (!ks_fits(pos + 30, (uint64_t)ks_le16(d + pos + 26) + ks_le16(d + pos + 28), len))
		return ks_verdict(f, KS_VALID_TRUNCATED, "ends in the first local header");

	long e = zip_find_eocd(d, len);
	if (e < 0)
		return ks_verdict(f, KS_VALID_TRUNCATED, "no end of central directory");
	size_t eocd = (size_t)e, cd_end = eocd;
	uint64_t total = ks_le16(d + eocd + 10), cdsize = ks_le32(d + eocd + 12),
		 cdoff = ks_le32(d + eocd + 16);
	if (total == 0xFFFF || cdsize == 0xFFFFFFFF || cdoff == 0xFFFFFFFF) {
		/* zip64: locator just before the record points at the zip64 end record. */
		if (eocd < 20 || memcmp(d + eocd - 20, "PK\6\7", 4) != 0)
			return ks_verdict(f, KS_VALID_TRUNCATED, "damaged: zip64 locator missing");
		uint64_t z = ks_le64(d + eocd - 20 + 8);
		if (!ks_fits(z, 56, eocd - 20) || memcmp(d + z, "PK\6\6", 4) != 0)
			return ks_verdict(f, KS_VALID_TRUNCATED,
					  "damaged: zip64 end record missing");
		total = ks_le64(d + z + 32);
		cdsize = ks_le64(d + z + 40);
		cdoff = ks_le64(d + z + 48);
		cd_end = (size_t)z;
	}
	if (!ks_fits(cdoff, cdsize, cd_end))
		return ks_verdict(f, KS_VALID_TRUNCATED, "damaged: central directory out of place");
	size_t p = (size_t)cdoff, end = (size_t)(cdoff + cdsize);
	for (uint64_t k = 0; k < total; k++) {
		if (!ks_fits(p, 46, end) || memcmp(d + p, "PK\1\2", 4) != 0)
			return ks_verdict(f, KS_VALID_TRUNCATED, "damaged central directory");
		uint64_t n =
		    46 + (uint64_t)ks_le16(d + p + 28) + ks_le16(d + p + 30) + ks_le16(d + p + 32);
		if (!ks_fits(p, n, end))
			return ks_verdict(f, KS_VALID_TRUNCATED, "damaged central directory");
		p += (size_t)n;
	}
	return KS_VALID_OK;
}

/* ---------------------------------------------------------------- gzip */

int ks_media_sniff_gzip(const uint8_t *d, size_t len, uint64_t size)
{
	return len >= 10 && d[0] == 0x1F && d[1] == 0x8B && d[2] == 8 && !(d[3] & 0xE0)
		   ? KS_SNIFF_STRONG
		   : KS_SNIFF_NO;
}

/* Header fields are checked and the first deflate block's header; the compressed data
 * itself is not inflated (libarchive does that), so a cut inside it goes unnoticed. */
enum ks_valid ks_media_check_gzip(const uint8_t *d, size_t len, struct ks_media_facts *f)
{
	if (len < 3 || d[0] != 0x1F || d[1] != 0x8B || d[2] != 8)
		return ks_verdict(f, KS_VALID_BAD, "no gzip header");
	if (len < 10)
		return ks_verdict(f, KS_VALID_TRUNCATED, "ends in the header");
	uint8_t flg = d[3];
	if (flg & 0xE0)
		return ks_verdict(f, KS_VALID_BAD, "reserved flags set");
	size_t pos = 10;
	if (flg & 4) {
		if (!ks_fits(pos, 2, len) || !ks_fits(pos + 2, ks_le16(d + pos), len))
			return ks_verdict(f, KS_VALID_TRUNCATED, "ends in the extra field");
		pos += 2 + (size_t)ks_le16(d + pos);
	}
	for (int bit = 8; bit <= 16; bit <<= 1) {
		if (!(flg & bit))
			continue;
		const uint8_t *z = pos < len ? memchr(d + pos, 0, len - pos) : NULL;
		if (!z)
			return ks_verdict(f, KS_VALID_TRUNCATED, "ends in the name or comment");
		pos = (size_t)(z - d) + 1;
	}
	if (flg & 2) {
		struct ks_crc32 crc;
		if (!ks_fits(pos, 2, len))
			return ks_verdict(f, KS_VALID_TRUNCATED, "ends in the header CRC");
		ks_media_crc32_init(&crc);
		if ((ks_media_crc32(&crc, 0, d, pos) & 0xFFFF) != ks_le16(d + pos))
			return ks_verdict(f, KS_VALID_BAD, "header CRC mismatch");
		pos += 2;
	}
	if (pos >= len)
		return ks_verdict(f, KS_VALID_TRUNCATED, "no compressed data");
	int btype = (d[pos] >> 1) & 3;
	if (btype == 3)
		return ks_verdict(f, KS_VALID_BAD, "reserved deflate block type");
	if (btype == 0 && ks_fits(pos, 5, len) &&
	    (ks_le16(d + pos + 1) ^ ks_le16(d + pos + 3)) != 0xFFFF)
		return ks_verdict(f, KS_VALID_BAD, "stored block length check fails");
	if (!ks_fits(pos, 1 + 8, len))
		return ks_verdict(f, KS_VALID_TRUNCATED, "ends before the trailer");
	return KS_VALID_OK;
}

/* ---------------------------------------------------------------- bzip2 */

static const uint8_t bz_block[6] = {0x31, 0x41, 0x59, 0x26, 0x53, 0x59};
static const uint8_t bz_eos[6] = {0x17, 0x72, 0x45, 0x38, 0x50, 0x90};

int ks_media_sniff_bzip2(const uint8_t *d, size_t len, uint64_t size)
{
	if (!ks_has(d, len, 0, "BZh", 3) || len < 10 || d[3] < '1' || d[3] > '9')
		return KS_SNIFF_NO;
	return ks_has(d, len, 4, bz_block, 6) || ks_has(d, len, 4, bz_eos, 6) ? KS_SNIFF_STRONG
									      : KS_SNIFF_NO;
}

/* Blocks are bit-aligned, so only the stream header and first block magic are checked. */
enum ks_valid ks_media_check_bzip2(const uint8_t *d, size_t len, struct ks_media_facts *f)
{
	if (!ks_has(d, len, 0, "BZh", 3) || len < 4 || d[3] < '1' || d[3] > '9')
		return ks_verdict(f, KS_VALID_BAD, "no bzip2 header");
	if (len < 10)
		return ks_verdict(f, KS_VALID_TRUNCATED, "ends in the header");
	if (ks_has(d, len, 4, bz_eos, 6))
		return len >= 14 ? KS_VALID_OK
				 : ks_verdict(f, KS_VALID_TRUNCATED, "ends in the stream CRC");
	if (!ks_has(d, len, 4, bz_block, 6))
		return ks_verdict(f, KS_VALID_BAD, "no block magic");
	return KS_VALID_OK;
}

/* ---------------------------------------------------------------- xz */

static const uint8_t xz_magic[6] = {0xFD, '7', 'z', 'X', 'Z', 0x00};

int ks_media_sniff_xz(const uint8_t *d, size_t len, uint64_t size)
{
	return ks_has(d, len, 0, xz_magic, 6) ? KS_SNIFF_STRONG : KS_SNIFF_NO;
}

enum ks_valid ks_media_check_xz(const uint8_t *d, size_t len, struct ks_media_facts *f)
{
	struct ks_crc32 crc;
	if (!ks_has(d, len, 0, xz_magic, 6))
		return ks_verdict(f, KS_VALID_BAD, "no xz magic");
	if (len < 12)
		return ks_verdict(f, KS_VALID_TRUNCATED, "ends in the stream header");
	ks_media_crc32_init(&crc);
	if (d[6] != 0 || (d[7] & 0xF0) || ks_media_crc32(&crc, 0, d + 6, 2) != ks_le32(d + 8))
		return ks_verdict(f, KS_VALID_BAD, "bad stream header");
	/* Stream padding (zeros, a multiple of four) may follow the footer. */
	size_t e = len;
	while (e >= 24 && e % 4 == 0 && ks_le32(d + e - 4) == 0)
		e -= 4;
	if (e < 24 || memcmp(d + e - 2, "YZ", 2) != 0 ||
	    ks_media_crc32(&crc, 0, d + e - 8, 6) != ks_le32(d + e - 12) ||
	    memcmp(d + e - 4, d + 6, 2) != 0)
		return ks_verdict(f, KS_VALID_TRUNCATED, "no stream footer");
	return KS_VALID_OK;
}

/* ---------------------------------------------------------------- 7z */

static const uint8_t sz_magic[6] = {'7', 'z', 0xBC, 0xAF, 0x27, 0x1C};

int ks_media_sniff_7z(const uint8_t *d, size_t len, uint64_t size)
{
	return ks_has(d, len, 0, sz_magic, 6) ? KS_SNIFF_STRONG : KS_SNIFF_NO;
}

enum ks_valid ks_media_check_7z(const uint8_t *d, size_t len, struct ks_media_facts *f)
{
	struct ks_crc32 crc;
	if (!ks_has(d, len, 0, sz_magic, 6))
		return ks_verdict(f, KS_VALID_BAD, "no 7z signature");
	if (len < 32)
		return ks_verdict(f, KS_VALID_TRUNCATED, "ends in the start header");
	ks_media_crc32_init(&crc);
	if (d[6] != 0 || ks_media_crc32(&crc, 0, d + 12, 20) != ks_le32(d + 8))
		return ks_verdict(f, KS_VALID_BAD, "bad start header");
	uint64_t off = ks_le64(d + 12), n = ks_le64(d + 20);
	if (off > len || !ks_fits(32 + off, n, len))
		return ks_verdict(f, KS_VALID_TRUNCATED, "next header beyond the end");
	if (ks_media_crc32(&crc, 0, d + 32 + off, (size_t)n) != ks_le32(d + 28))
		return ks_verdict(f, KS_VALID_TRUNCATED, "damaged: next header CRC mismatch");
	return KS_VALID_OK;
}

/* ---------------------------------------------------------------- tar */

/* A numeric header field: octal digits (spaces/NULs around them) or GNU base-256. */
static int tar_number(const uint8_t *p, size_t n, uint64_t *v)
{
	size_t i = 0;
	*v = 0;
	if (p[0] & 0x80) {
		if (p[0] != 0x80)
			return -1; /* negative or too large for us */
		for (i = 1; i < n; i++) {
			if (*v >> 55)
				return -1;
			*v = *v << 8 | p[i];
		}
		return 0;
	}
	while (i < n && p[i] == ' ')
		i++;
	size_t digits = 0;
	for (; i < n && p[i] >= '0' && p[i] <= '7'; i++, digits++)
		*v = *v << 3 | (uint64_t)(p[i] - '0');
	for (; i < n; i++)
		if (p[i] != ' ' && p[i] != 0)
			return -1;
	return digits ? 0 : -1;
}

/* The header checksum (sum of the bytes with the checksum field read as spaces);
 * some old writers summed signed chars, which is accepted too. */
static int tar_checksum_ok(const uint8_t *h)
{
	uint64_t want;
	if (tar_number(h + 148, 8, &want) < 0)
		return 0;
	uint32_t u = 0;
	int32_t s = 0;
	for (int i = 0; i < 512; i++) {
		uint8_t c = (i >= 148 && i < 156) ? ' ' : h[i];
		u += c;
		s += (int8_t)c;
	}
	return want == u || (int64_t)want == s;
}

static int tar_ustar(const uint8_t *h)
{
	return memcmp(h + 257, "ustar\0", 6) == 0 || memcmp(h + 257, "ustar  \0", 8) == 0;
}

int ks_media_sniff_tar(const uint8_t *d, size_t len, uint64_t size)
{
	if (len < 512 || !tar_checksum_ok(d))
		return KS_SNIFF_NO;
	if (tar_ustar(d))
		return KS_SNIFF_STRONG;
	/* v7: no magic; a printable name and octal mode make the checksum more telling. */
	uint64_t mode;
	if (d[0] < 0x20 || d[0] > 0x7e || tar_number(d + 100, 8, &mode) < 0)
		return KS_SNIFF_NO;
	return KS_SNIFF_WEAK;
}

enum ks_valid ks_media_check_tar(const uint8_t *d, size_t len, struct ks_media_facts *f)
{
	size_t pos = 0;
	unsigned entries = 0;
	for (;;) {
		if (pos == len)
			return entries ? ks_verdict(f, KS_VALID_OK, "no end-of-archive blocks")
				       : ks_verdict(f, KS_VALID_BAD, "empty");
		if (!ks_fits(pos, 512, len))
			return entries ? ks_verdict(f, KS_VALID_TRUNCATED, "ends inside a block")
				       : ks_verdict(f, KS_VALID_BAD, "shorter than a header");
		const uint8_t *h = d + pos;
		if (ks_media_all_zero(h, 0, 512))
			return entries ? KS_VALID_OK
				       : ks_verdict(f, KS_VALID_BAD, "starts with a zero block");
		uint64_t n;
		if (!tar_checksum_ok(h) || tar_number(h + 124, 12, &n) < 0)
			return entries ? ks_verdict(f, KS_VALID_TRUNCATED, "damaged header")
				       : ks_verdict(f, KS_VALID_BAD, "bad header checksum");
		/* Links, devices, directories and FIFOs carry no data whatever size says. */
		if (h[156] >= '1' && h[156] <= '6')
			n = 0;
		uint64_t blocks = (n + 511) / 512;
		entries++;
		if (n > len || !ks_fits(pos + 512, blocks * 512, len))
			return ks_verdict(f, KS_VALID_TRUNCATED, "a member runs past the end");
		pos += 512 + (size_t)blocks * 512;
	}
}

/* ---------------------------------------------------------------- cpio */

enum cpio_fmt { CPIO_NONE, CPIO_NEWC, CPIO_ODC, CPIO_BIN_LE, CPIO_BIN_BE };

static enum cpio_fmt cpio_format(const uint8_t *d, size_t len)
{
	if (ks_has(d, len, 0, "070701", 6) || ks_has(d, len, 0, "070702", 6))
		return CPIO_NEWC;
	if (ks_has(d, len, 0, "070707", 6))
		return CPIO_ODC;
	if (len >= 2 && d[0] == 0xC7 && d[1] == 0x71)
		return CPIO_BIN_LE;
	if (len >= 2 && d[0] == 0x71 && d[1] == 0xC7)
		return CPIO_BIN_BE;
	return CPIO_NONE;
}

static int parse_digits(const uint8_t *p, size_t n, int base, uint64_t *v)
{
	*v = 0;
	for (size_t i = 0; i < n; i++) {
		int c = p[i], x;
		if (c >= '0' && c <= '9')
			x = c - '0';
		else if (base == 16 && c >= 'a' && c <= 'f')
			x = c - 'a' + 10;
		else if (base == 16 && c >= 'A' && c <= 'F')
			x = c - 'A' + 10;
		else
			return -1;
		if (x >= base)
			return -1;
		*v = *v * (uint64_t)base + (uint64_t)x;
	}
	return 0;
}

/* Header size, name size and data size of the entry at d[pos]; -1 malformed, 1 cut. */
static int cpio_entry(enum cpio_fmt fm, const uint8_t *d, size_t len, size_t pos, size_t *hdr,
		      uint64_t *namesz, uint64_t *filesz)
{
	static const size_t hsz[] = {0, 110, 76, 26, 26};
	*hdr = hsz[fm];
	if (!ks_fits(pos, *hdr, len))
		return 1;
	const uint8_t *h = d + pos;
	switch (fm) {
	case CPIO_NEWC:
		if (memcmp(h, "07070", 5) != 0 || (h[5] != '1' && h[5] != '2') ||
		    parse_digits(h + 54, 8, 16, filesz) < 0 ||
		    parse_digits(h + 94, 8, 16, namesz) < 0)
			return -1;
		break;
	case CPIO_ODC:
		if (memcmp(h, "070707", 6) != 0 || parse_digits(h + 59, 6, 8, namesz) < 0 ||
		    parse_digits(h + 65, 11, 8, filesz) < 0)
			return -1;
		break;
	case CPIO_BIN_LE:
		if (ks_le16(h) != 070707)
			return -1;
		*namesz = ks_le16(h + 20);
		*filesz = (uint64_t)ks_le16(h + 22) << 16 | ks_le16(h + 24);
		break;
	case CPIO_BIN_BE:
		if (ks_be16(h) != 070707)
			return -1;
		*namesz = ks_be16(h + 20);
		*filesz = (uint64_t)ks_be16(h + 22) << 16 | ks_be16(h + 24);
		break;
	default:
		return -1;
	}
	return *namesz == 0 || *namesz > 4096 ? -1 : 0;
}

int ks_media_sniff_cpio(const uint8_t *d, size_t len, uint64_t size)
{
	enum cpio_fmt fm = cpio_format(d, len);
	size_t hdr;
	uint64_t nn, fsz;
	if (fm == CPIO_NONE || cpio_entry(fm, d, len, 0, &hdr, &nn, &fsz) != 0)
		return KS_SNIFF_NO;
	/* The binary form has only a two-byte magic: also want the name's NUL. */
	if (fm == CPIO_BIN_LE || fm == CPIO_BIN_BE)
		return ks_fits(hdr, nn, len) && d[hdr + nn - 1] == 0 ? KS_SNIFF_WEAK : KS_SNIFF_NO;
	return KS_SNIFF_STRONG;
}

enum ks_valid ks_media_check_cpio(const uint8_t *d, size_t len, struct ks_media_facts *f)
{
	enum cpio_fmt fm = cpio_format(d, len);
	if (fm == CPIO_NONE)
		return ks_verdict(f, KS_VALID_BAD, "no cpio magic");
	size_t align = fm == CPIO_NEWC ? 4 : fm == CPIO_ODC ? 1 : 2;
	size_t pos = 0;
	unsigned entries = 0;
	for (;;) {
		size_t hdr;
		uint64_t nn, fsz;
		int r = cpio_entry(fm, d, len, pos, &hdr, &nn, &fsz);
		if (r > 0)
			return ks_verdict(f, KS_VALID_TRUNCATED, "ends inside an entry header");
		if (r < 0)
			return entries ? ks_verdict(f, KS_VALID_TRUNCATED, "damaged entry header")
				       : ks_verdict(f, KS_VALID_BAD, "bad entry header");
		if (!ks_fits(pos + hdr, nn, len))
			return ks_verdict(f, KS_VALID_TRUNCATED, "ends inside a name");
		const uint8_t *name = d + pos + hdr;
		if (name[nn - 1] != 0)
			return entries ? ks_verdict(f, KS_VALID_TRUNCATED, "damaged name")
				       : ks_verdict(f, KS_VALID_BAD, "name not terminated");
		if (nn == 11 && memcmp(name, "TRAILER!!!", 10) == 0)
			return KS_VALID_OK;
		uint64_t p = (uint64_t)pos + hdr + nn;
		p = (p + align - 1) / align * align;
		if (fsz > len || !ks_fits(p, fsz, len))
			return ks_verdict(f, KS_VALID_TRUNCATED, "a member runs past the end");
		p += fsz;
		p = (p + align - 1) / align * align;
		pos = (size_t)p;
		entries++;
	}
}

/* ---------------------------------------------------------------- rar */

static const uint8_t rar4_sig[7] = {'R', 'a', 'r', '!', 0x1A, 0x07, 0x00};
static const uint8_t rar5_sig[8] = {'R', 'a', 'r', '!', 0x1A, 0x07, 0x01, 0x00};

int ks_media_sniff_rar(const uint8_t *d, size_t len, uint64_t size)
{
	return ks_has(d, len, 0, rar4_sig, 7) || ks_has(d, len, 0, rar5_sig, 8) ? KS_SNIFF_STRONG
										: KS_SNIFF_NO;
}

/* RAR 5 variable-length integer at *pos (7 bits a byte, at most 10 bytes). */
static int rar_vint(const uint8_t *d, size_t end, size_t *pos, uint64_t *v)
{
	*v = 0;
	for (int i = 0; i < 10 && *pos < end; i++) {
		uint8_t b = d[(*pos)++];
		*v |= (uint64_t)(b & 0x7F) << (7 * i);
		if (!(b & 0x80))
			return 0;
	}
	return -1;
}

static enum ks_valid rar5_check(const uint8_t *d, size_t len, struct ks_media_facts *f,
				const struct ks_crc32 *crc)
{
	size_t pos = 8;
	unsigned blocks = 0;
	while (pos < len) {
		size_t p = pos + 4;
		uint64_t hsize, type, flags, extra = 0, data = 0;
		if (!ks_fits(pos, 5, len))
			return ks_verdict(f, KS_VALID_TRUNCATED, "ends inside a block header");
		if (rar_vint(d, len, &p, &hsize) < 0 || hsize == 0 || hsize > (1u << 21))
			return blocks ? ks_verdict(f, KS_VALID_TRUNCATED, "damaged block header")
				      : ks_verdict(f, KS_VALID_BAD, "bad block header");
		if (!ks_fits(p, hsize, len))
			return ks_verdict(f, KS_VALID_TRUNCATED,
					  "a block header runs past the end");
		size_t hend = p + (size_t)hsize;
		if (ks_media_crc32(crc, 0, d + pos + 4, hend - pos - 4) != ks_le32(d + pos))
			return blocks ? ks_verdict(f, KS_VALID_TRUNCATED,
						   "damaged: header CRC mismatch")
				      : ks_verdict(f, KS_VALID_BAD, "header CRC mismatch");
		if (rar_vint(d, hend, &p, &type) < 0 || rar_vint(d, hend, &p, &flags) < 0 ||
		    ((flags & 1) && rar_vint(d, hend, &p, &extra) < 0) ||
		    ((flags & 2) && rar_vint(d, hend, &p, &data) < 0) || type < 1 || type > 5)
			return blocks ? ks_verdict(f, KS_VALID_TRUNCATED, "damaged block header")
				      : ks_verdict(f, KS_VALID_BAD, "bad block header");
		if (!blocks && type != 1 && type != 4)
			return ks_verdict(f, KS_VALID_BAD, "first block is not the main header");
		if (type == 5)
			return KS_VALID_OK;
		if (data > len || !ks_fits(hend, data, len))
			return ks_verdict(f, KS_VALID_TRUNCATED, "a block runs past the end");
		pos = hend + (size_t)data;
		blocks++;
	}
	return ks_verdict(f, KS_VALID_TRUNCATED, "no end-of-archive block");
}

static enum ks_valid rar4_check(const uint8_t *d, size_t len, struct ks_media_facts *f,
				const struct ks_crc32 *crc)
{
	size_t pos = 7;
	unsigned blocks = 0;
	while (pos < len) {
		if (!ks_fits(pos, 7, len))
			return ks_verdict(f, KS_VALID_TRUNCATED, "ends inside a block header");
		uint8_t type = d[pos + 2];
		uint16_t flags = ks_le16(d + pos + 3), hsize = ks_le16(d + pos + 5);
		int damaged = hsize < 7 || type < 0x72 || type > 0x7B || (!blocks && type != 0x73);
		if (!damaged && !ks_fits(pos, hsize, len))
			return ks_verdict(f, KS_VALID_TRUNCATED,
					  "a block header runs past the end");
		if (!damaged && type != 0x72 &&
		    (ks_media_crc32(crc, 0, d + pos + 2, hsize - 2u) & 0xFFFF) != ks_le16(d + pos))
			damaged = 1;
		if (damaged)
			return blocks ? ks_verdict(f, KS_VALID_TRUNCATED, "damaged block header")
				      : ks_verdict(f, KS_VALID_BAD, "bad main header");
		if (type == 0x7B)
			return KS_VALID_OK;
		uint64_t add = 0;
		if ((flags & 0x8000) && hsize >= 11)
			add = ks_le32(d + pos + 7);
		if (!ks_fits(pos + hsize, add, len))
			return ks_verdict(f, KS_VALID_TRUNCATED, "a block runs past the end");
		pos += hsize + (size_t)add;
		blocks++;
	}
	return KS_VALID_OK; /* archives from old versions end without an end block */
}

enum ks_valid ks_media_check_rar(const uint8_t *d, size_t len, struct ks_media_facts *f)
{
	struct ks_crc32 crc;
	ks_media_crc32_init(&crc);
	if (ks_has(d, len, 0, rar5_sig, 8))
		return rar5_check(d, len, f, &crc);
	if (ks_has(d, len, 0, rar4_sig, 7))
		return rar4_check(d, len, f, &crc);
	return ks_verdict(f, KS_VALID_BAD, "no RAR signature");
}

/* ---------------------------------------------------------------- ISO 9660 */

#define ISO_VD 32768u

int ks_media_sniff_iso9660(const uint8_t *d, size_t len, uint64_t size)
{
	if (!ks_has(d, len, ISO_VD + 1, "CD001", 5) || !ks_fits(ISO_VD, 7, len) ||
	    d[ISO_VD + 6] != 1)
		return KS_SNIFF_NO;
	uint8_t t = d[ISO_VD];
	return t <= 3 || t == 255 ? KS_SNIFF_STRONG : KS_SNIFF_NO;
}

enum ks_valid ks_media_check_iso9660(const uint8_t *d, size_t len, struct ks_media_facts *f)
{
	uint64_t total = 0;
	int primary = 0;
	for (size_t k = 0; k < 64; k++) {
		size_t pos = ISO_VD + k * 2048;
		if (!ks_fits(pos, 2048, len))
			return k ? ks_verdict(f, KS_VALID_TRUNCATED,
					      "ends in the volume descriptors")
			       : ks_media_sniff_iso9660(d, len, len)
				   ? ks_verdict(f, KS_VALID_TRUNCATED,
						"ends in the first descriptor")
				   : ks_verdict(f, KS_VALID_BAD, "no CD001");
		if (memcmp(d + pos + 1, "CD001", 5) != 0 || d[pos + 6] != 1)
			return k ? ks_verdict(f, KS_VALID_TRUNCATED, "damaged volume descriptor")
				 : ks_verdict(f, KS_VALID_BAD, "no CD001");
		uint8_t t = d[pos];
		if (t == 1 && !primary) {
			uint16_t bs = ks_le16(d + pos + 128);
			if (bs != 512 && bs != 1024 && bs != 2048)
				return ks_verdict(f, KS_VALID_BAD, "bad logical block size");
			primary = 1;
			total = (uint64_t)ks_le32(d + pos + 80) * bs;
		} else if (t == 255) {
			if (!primary)
				return ks_verdict(f, KS_VALID_BAD, "no primary volume descriptor");
			if (total > len)
				return ks_verdict(f, KS_VALID_TRUNCATED,
						  "shorter than its volume size");
			return KS_VALID_OK;
		}
	}
	return ks_verdict(f, KS_VALID_TRUNCATED, "damaged: no descriptor set terminator");
}

/* ---------------------------------------------------------------- PDF */

int ks_media_sniff_pdf(const uint8_t *d, size_t len, uint64_t size)
{
	return ks_has(d, len, 0, "%PDF-", 5) ? KS_SNIFF_STRONG : KS_SNIFF_NO;
}

/* An "N G obj" token in d[0..n): random bytes behind a %PDF- rarely have one. */
static int pdf_has_object(const uint8_t *d, size_t n)
{
	for (size_t i = 2; i + 3 <= n; i++) {
		const uint8_t *o = memchr(d + i, 'o', n - i - 2);
		if (!o)
			return 0;
		i = (size_t)(o - d);
		if (i >= 2 && o[1] == 'b' && o[2] == 'j' && (d[i - 1] == ' ' || d[i - 1] == '\n') &&
		    d[i - 2] >= '0' && d[i - 2] <= '9')
			return 1;
	}
	return 0;
}

enum ks_valid ks_media_check_pdf(const uint8_t *d, size_t len, struct ks_media_facts *f)
{
	if (!ks_has(d, len, 0, "%PDF-", 5))
		return ks_verdict(f, KS_VALID_BAD, "no %PDF-");
	if (len < 8)
		return ks_verdict(f, KS_VALID_TRUNCATED, "ends in the header");
	if (d[5] < '1' || d[5] > '9' || d[6] != '.' || d[7] < '0' || d[7] > '9')
		return ks_verdict(f, KS_VALID_BAD, "bad version");
	if (!pdf_has_object(d, len < 65536 ? len : 65536))
		return len < 65536 ? ks_verdict(f, KS_VALID_TRUNCATED, "no object yet")
				   : ks_verdict(f, KS_VALID_BAD, "no object near the start");
	size_t from = len > 2048 ? len - 2048 : 0;
	if (!memmem(d + from, len - from, "%%EOF", 5))
		return ks_verdict(f, KS_VALID_TRUNCATED, "no %%EOF at the end");
	return KS_VALID_OK;
}

/* ---------------------------------------------------------------- OLE2 */

static const uint8_t ole_magic[8] = {0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1};

int ks_media_sniff_ole2(const uint8_t *d, size_t len, uint64_t size)
{
	return ks_has(d, len, 0, ole_magic, 8) ? KS_SNIFF_STRONG : KS_SNIFF_NO;
}

enum ks_valid ks_media_check_ole2(const uint8_t *d, size_t len, struct ks_media_facts *f)
{
	if (!ks_has(d, len, 0, ole_magic, 8))
		return ks_verdict(f, KS_VALID_BAD, "no OLE2 signature");
	if (len < 60)
		return ks_verdict(f, KS_VALID_TRUNCATED, "ends in the header");
	uint16_t major = ks_le16(d + 26), shift = ks_le16(d + 30);
	if (ks_le16(d + 28) != 0xFFFE ||
	    !((major == 3 && shift == 9) || (major == 4 && shift == 12)) || ks_le16(d + 32) != 6 ||
	    ks_le32(d + 56) != 4096)
		return ks_verdict(f, KS_VALID_BAD, "bad header fields");
	if (len < 512)
		return ks_verdict(f, KS_VALID_TRUNCATED, "ends in the header");
	uint64_t ss = 1u << shift, dir = ks_le32(d + 48);
	if (dir >= 0xFFFFFFFAu)
		return ks_verdict(f, KS_VALID_BAD, "no directory");
	uint64_t at = (dir + 1) * ss;
	if (!ks_fits(at, 128, len))
		return ks_verdict(f, KS_VALID_TRUNCATED, "directory beyond the end");
	if (d[at + 66] != 5 || ks_le16(d + at + 64) != 22 || memcmp(d + at, "R\0o\0o\0t\0", 8) != 0)
		return ks_verdict(f, KS_VALID_BAD, "no root entry");
	uint32_t nfat = ks_le32(d + 44);
	for (uint32_t i = 0; i < nfat && i < 109; i++) {
		uint64_t s = ks_le32(d + 76 + 4 * i);
		if (s >= 0xFFFFFFFAu)
			return ks_verdict(f, KS_VALID_BAD, "damaged FAT list");
		if (!ks_fits((s + 1) * ss, ss, len))
			return ks_verdict(f, KS_VALID_TRUNCATED, "FAT sector beyond the end");
	}
	return KS_VALID_OK;
}
