/* kestrel pdq [--exact] [--dihedral] [--stdin] FILE... : PDQ hash and quality of
 * picture files, one `hash,quality,filename` line each, the format of Meta's
 * pdq-photo-hasher so the two can be compared line by line. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "kestrel/pdq.h"


static const char usage[] = "kestrel pdq [--exact] [--dihedral] [--stdin] FILE...";

/* Maps a file read-only (evidence is never written); *len 0 gives map NULL. */
static int map_file(const char *path, const uint8_t **map, size_t *len, struct ks_err *err)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc = 0;
	*map = NULL;
	*len = 0;
	if (fd < 0)
		return ks_err_set(err, KS_E_ENV, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0) {
		rc = ks_err_set(err, KS_E_ENV, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = ks_err_set(err, KS_E_USAGE, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_size == 0)
		goto out;
	void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED) {
		rc = ks_err_set(err, KS_E_ENV, "%s: %s", path, strerror(errno));
		goto out;
	}
	*map = m;
	*len = (size_t)st.st_size;
out:
	close(fd);
	return rc;
}

static int hash_one(struct ks_pdq *p, const char *path, int mode, int dihedral)
{
	const uint8_t *data = NULL;
	size_t len = 0;
	struct ks_err err = {0};
	struct ks_pdq_result res;
	char hex[KS_PDQ_HEX_LEN + 1];
	int rc = map_file(path, &data, &len, &err);
	if (rc == 0)
		rc = ks_pdq_hash_image(p, data, len, mode, dihedral ? KS_PDQ_WANT_DIHEDRAL : 0,
				       &res, &err);
	if (data)
		munmap((void *)data, len);
	if (rc) {
		if (!strstr(err.msg, path))
			fprintf(stderr, "kestrel: pdq: %s: %s\n", path, err.msg);
		else
			fprintf(stderr, "kestrel: pdq: %s\n", err.msg);
		return -1;
	}
	if (dihedral) {
		for (int v = 0; v < KS_PDQ_NDIHEDRAL; v++) {
			ks_pdq_to_hex(&res.dih[v], hex);
			printf("%s,", hex);
		}
	} else {
		ks_pdq_to_hex(&res.hash, hex);
		printf("%s,", hex);
	}
	printf("%d,%s\n", res.quality, path);
	return 0;
}

int ks_cmd_pdq(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"exact", no_argument, NULL, 'e'},	  {"fast", no_argument, NULL, 'f'},
	    {"dihedral", no_argument, NULL, 'd'}, {"stdin", no_argument, NULL, 'i'},
	    {"help", no_argument, NULL, 'h'},	  {0},
	};
	int mode = KS_PDQ_FAST, dihedral = 0, from_stdin = 0, c, failed = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "edih", opts, NULL)) != -1) {
		switch (c) {
		case 'e':
			mode = KS_PDQ_EXACT;
			break;
		case 'f':
			mode = KS_PDQ_FAST;
			break;
		case 'd':
			dihedral = 1;
			break;
		case 'i':
			from_stdin = 1;
			break;
		case 'h':
			printf(
			    "usage: %s\n\n"
			    "Prints `hash,quality,filename` for each picture (JPEG, PNG, GIF, BMP, "
			    "...):\n"
			    "the 64-hex-digit PDQ hash and its quality 0-100 (under %d: unreliable "
			    "for\n"
			    "near matching). With --dihedral the eight dihedral hashes come first\n"
			    "(orig, rot90, rot180, rot270, flipx, flipy, flipplus1, flipminus1).\n"
			    "  --exact   decode as Meta's reference does: identical bits (default: "
			    "fast,\n"
			    "            JPEGs decoded at reduced size, within a few bits of "
			    "exact)\n"
			    "  --stdin   also read file names from standard input, one per line\n"
			    "Exit status: 0 all hashed, 1 some file could not be hashed, 2 "
			    "usage.\n",
			    usage, KS_PDQ_MIN_QUALITY);
			return EXIT_OK;
		default:
			return ks_cli_usage(usage, "bad option");
		}
	}
	if (optind == argc && !from_stdin)
		return ks_cli_usage(usage, "pdq: no FILE given");

	struct ks_pdq *p = ks_pdq_new();
	for (int i = optind; i < argc; i++)
		if (hash_one(p, argv[i], mode, dihedral))
			failed = 1;
	if (from_stdin) {
		char *line = NULL;
		size_t cap = 0;
		ssize_t n;
		while ((n = getline(&line, &cap, stdin)) > 0) {
			while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
				line[--n] = '\0';
			if (n == 0)
				continue;
			if (hash_one(p, line, mode, dihedral))
				failed = 1;
		}
		free(line);
	}
	ks_pdq_free(p);
	if (fflush(stdout) != 0)
		return EXIT_ERR;
	return failed ? EXIT_ERR : EXIT_OK;
}
