/* kestrel scan CASE_DIR EVIDENCE... --exhibit REF [--hash-all] [--threads N]
 *            [--no-source-hash] [--no-deleted] [--quiet] */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli.h"
#include "kestrel/pipeline.h"

static const char usage[] = "kestrel scan CASE_DIR EVIDENCE... --exhibit REF [--hash-all] [--threads N] "
			    "[--no-source-hash] [--no-deleted] [--rescan] [--carve] [--index INDEX] "
			    "[--video-budget S] [--video-radius R] [--video-match Q,T] "
			    "[--tmk [--tmk-budget S] [--tmk-match L1,L2]] [--quiet]";

static void show_progress(void *ctx, const struct ks_scan_progress *p)
{
	double rate = p->elapsed > 0 ? (double)p->bytes_read / p->elapsed / 1e6 : 0;
	char eta[32] = "";
	if (p->source_bytes_total && p->source_bytes_done && p->source_bytes_done < p->source_bytes_total) {
		double left = p->elapsed * (double)(p->source_bytes_total - p->source_bytes_done) /
			      (double)p->source_bytes_done;
		snprintf(eta, sizeof eta, ", ETA %.0fs", left);
	}
	fprintf(stderr, "\r%llu files, %llu pictures/videos, %llu matched, %.1f MB/s%s   ",
		(unsigned long long)p->files_seen, (unsigned long long)p->media_found,
		(unsigned long long)p->matches, rate, eta);
}

int ks_cmd_scan(int argc, char **argv)
{
	static const struct option opts[] = {
		{"exhibit", required_argument, NULL, 'x'},
		{"hash-all", no_argument, NULL, 'a'},
		{"threads", required_argument, NULL, 't'},
		{"no-source-hash", no_argument, NULL, 'S'},
		{"no-deleted", no_argument, NULL, 'D'},
		{"rescan", no_argument, NULL, 'R'},
		{"carve", no_argument, NULL, 'C'},
		{"index", required_argument, NULL, 'I'},
		{"video-budget", required_argument, NULL, 'V'},
		{"video-radius", required_argument, NULL, 'W'},
		{"video-match", required_argument, NULL, 'M'},
		{"tmk", no_argument, NULL, 'K'},
		{"tmk-budget", required_argument, NULL, 'B'},
		{"tmk-match", required_argument, NULL, 'L'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct ks_scan_opts o = {.source_hash = 1, .include_deleted = 1};
	int quiet = 0, c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "hq", opts, NULL)) != -1) {
		switch (c) {
		case 'x': o.exhibit = optarg; break;
		case 'a': o.hash_all = 1; break;
		case 't': o.threads = atoi(optarg); break;
		case 'S': o.source_hash = 0; break;
		case 'D': o.include_deleted = 0; break;
		case 'R': o.rescan = 1; break;
		case 'C': o.carve = 1; break;
		case 'I': o.index = optarg; break;
		case 'V':
			o.video_seconds = atof(optarg);
			if (o.video_seconds <= 0)
				return ks_cli_usage(usage, "--video-budget: seconds above 0");
			break;
		case 'W':
			o.video_match.radius = atoi(optarg);
			if (o.video_match.radius < 1 || o.video_match.radius > 128)
				return ks_cli_usage(usage, "--video-radius: 1 to 128");
			break;
		case 'M':
			if (sscanf(optarg, "%lf,%lf", &o.video_match.query_pct,
				   &o.video_match.target_pct) < 1 ||
			    o.video_match.query_pct <= 0 || o.video_match.query_pct > 100 ||
			    o.video_match.target_pct < 0 || o.video_match.target_pct > 100)
				return ks_cli_usage(usage, "--video-match: Q[,T] percentages");
			break;
		case 'K': o.tmk = 1; break;
		case 'B':
			o.tmk_seconds = atof(optarg);
			if (o.tmk_seconds <= 0)
				return ks_cli_usage(usage, "--tmk-budget: seconds above 0");
			break;
		case 'L':
			if (sscanf(optarg, "%lf,%lf", &o.video_match.tmk_level1,
				   &o.video_match.tmk_level2) != 2 ||
			    o.video_match.tmk_level1 <= 0 || o.video_match.tmk_level1 > 1 ||
			    o.video_match.tmk_level2 <= 0 || o.video_match.tmk_level2 > 1)
				return ks_cli_usage(usage, "--tmk-match: L1,L2 scores above 0, at most 1");
			break;
		case 'q': quiet = 1; break;
		case 'h':
			printf("usage: %s\n\nScans evidence (directories, raw/split raw images, E01 sets) into the case:\n"
			       "every file is typed by content; pictures, videos and containers are hashed\n"
			       "(MD5, SHA-1, SHA-256), archives opened, and everything matched against the\n"
			       "case's hash sets. Evidence is opened read-only; disk images are hashed\n"
			       "(MD5+SHA-1) while they are scanned and checked unchanged afterwards.\n"
			       "  --exhibit REF      exhibit reference the evidence belongs to (required)\n"
			       "  --hash-all         hash every file, not only media and containers\n"
			       "  --threads N        worker threads (default: one per core)\n"
			       "  --no-source-hash   do not hash whole disk images (on-scene triage)\n"
			       "  --no-deleted       skip deleted entries\n"
			       "  --carve            also carve pictures and videos by signature from\n"
			       "                     unallocated blocks, unpartitioned space and images\n"
			       "                     no file system opens, and find those embedded in\n"
			       "                     files (reads every file whole: slower)\n"
			       "  --rescan           scan sources again that this exhibit already holds\n"
			       "                     (without it they are skipped; an interrupted scan of\n"
			       "                     a source is always redone from the start)\n"
			       "  --index INDEX      also match against an index file (kestrel hashset\n"
			       "                     build): exact digests and PDQ within 31 bits\n"
			       "  --video-budget S   seconds to fingerprint one video (default 60); a\n"
			       "                     video over it is marked and the scan goes on\n"
			       "  --video-radius R   a video frame within R bits of a known still's PDQ\n"
			       "                     categorises the video (default 31)\n"
			       "  --video-match Q,T  a video matches a known video (vPDQ list) when Q %%\n"
			       "                     of its frames are in it or T %% of the known video's\n"
			       "                     frames are in it (default 80,80)\n"
			       "  --tmk              also compute each video's TMK+PDQF (Meta's second\n"
			       "                     video fingerprint) and match it against known\n"
			       "                     videos imported as .tmk files; decodes every frame\n"
			       "                     of every video (a second, full decode: see README)\n"
			       "  --tmk-budget S     seconds for one video's TMK+PDQF (default 300); a\n"
			       "                     video over it keeps the frames reached, marked\n"
			       "  --tmk-match L1,L2  a video matches a known .tmk when upstream's level-1\n"
			       "                     and level-2 scores reach L1 and L2 (default 0.7,0.7)\n"
			       "  --quiet            no progress line\n",
			       usage);
			return EXIT_OK;
		default: return ks_cli_usage(usage, "bad option");
		}
	}
	if (argc - optind < 2)
		return ks_cli_usage(usage, "scan: expected CASE_DIR and at least one EVIDENCE");
	if (!o.exhibit)
		return ks_cli_usage(usage, "scan: --exhibit is required");
	o.evidence = (const char *const *)argv + optind + 1;
	o.nevidence = argc - optind - 1;
	o.examiner = ks_cli_user();
	if (!quiet && isatty(STDERR_FILENO))
		o.progress = show_progress;
	struct ks_scan_stats st = {0};
	struct ks_err err = {0};
	int rc = ks_scan_run(argv[optind], &o, &st, &err);
	if (o.progress)
		fputc('\n', stderr);
	if (rc < 0)
		return ks_cli_fail("scan", &err);
	if (st.skipped_sources)
		printf("%llu source(s) already scanned: skipped (--rescan to redo)\n",
		       (unsigned long long)st.skipped_sources);
	printf("scanned %llu files: %llu pictures, %llu videos, %llu archives, %llu matched, %llu errors, %.1f s\n",
	       (unsigned long long)st.files, (unsigned long long)st.pictures, (unsigned long long)st.videos,
	       (unsigned long long)st.archives, (unsigned long long)st.matches, (unsigned long long)st.errors,
	       st.seconds);
	return EXIT_OK;
}
