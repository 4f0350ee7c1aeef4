/* Review store and grouping: near-duplicates stacked by PDQ distance (against a
 * brute-force leader clustering), known media kept out of the queue, grading a group,
 * undo, the second grader's check (own grades refused, agreement, disputes,
 * resolution), splits, the grade overlay on file rows, welfare figures, and the audit
 * chain failing after one changed byte. Synthetic media rows: no pictures needed. */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "kestrel/evidence.h"
#include "kestrel/media.h"
#include "kestrel/review.h"
#include "kestrel/store_review.h"
#include "ktest.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

struct hash {
	uint8_t b[32];
};

static struct hash random_hash(void)
{
	struct hash h;
	for (int i = 0; i < 32; i++)
		h.b[i] = (uint8_t)rnd();
	return h;
}

/* h with exactly k distinct bits flipped. */
static struct hash flip(struct hash h, int k)
{
	int done[256] = {0};
	while (k > 0) {
		int bit = (int)(rnd() % 256);
		if (done[bit])
			continue;
		done[bit] = 1;
		h.b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		k--;
	}
	return h;
}

static int dist(const struct hash *a, const struct hash *b)
{
	int d = 0;
	for (int i = 0; i < 32; i++)
		d += __builtin_popcount((unsigned)(a->b[i] ^ b->b[i]));
	return d;
}

static struct ks_store *st;
static int64_t exhibit, source;
static int nmedia;

/* Adds a media with one occurrence at path and a preview with the given PDQ. */
static int64_t add_media(int kind, const struct hash *h, int quality, const char *path)
{
	struct ks_digests d;
	memset(&d, 0, sizeof d);
	int n = ++nmedia;
	memcpy(d.sha256, &n, sizeof n);
	memcpy(d.md5, &n, sizeof n);
	memcpy(d.sha1, &n, sizeof n);
	struct ks_media_rec m = {&d, 100,	 kind == KS_KIND_VIDEO ? "mp4" : "jpeg", kind, 64,
				 48, KS_VALID_OK};
	struct ks_err err = {0};
	int64_t id = 0, fid = 0;
	int is_new = 0;
	CHECK(ks_store_media_put(st, &m, &id, &is_new, &err) == KS_OK && is_new);
	struct ks_file_rec f = {.exhibit_id = exhibit,
				.source_id = source,
				.media_id = id,
				.path = path,
				.size = 100,
				.offset = -1,
				.type = m.type,
				.kind = kind};
	CHECK(ks_store_file_add(st, &f, &fid, &err) == KS_OK);
	static const uint8_t jpeg[] = {0xff, 0xd8, 0xff, 0xd9};
	struct ks_preview p = {
	    .kind = KS_PREVIEW_STILL, .jpeg = jpeg, .len = sizeof jpeg, .width = 64, .height = 48};
	if (h) {
		p.has_pdq = 1;
		memcpy(p.pdq, h->b, 32);
		p.pdq_quality = quality;
	}
	CHECK(ks_store_preview_put(st, id, &p, &err) == KS_OK);
	return id;
}

struct collect {
	int64_t ids[4096];
	int64_t groups[4096];
	int n;
};

static int on_group(void *ctx, const struct ks_queue_group *g)
{
	struct collect *c = ctx;
	if (c->n < 4096) {
		c->groups[c->n] = g->id;
		c->ids[c->n++] = g->cover;
	}
	return 0;
}

static int on_member(void *ctx, const struct ks_queue_member *m)
{
	struct collect *c = ctx;
	if (c->n < 4096) {
		c->groups[c->n] = m->group;
		c->ids[c->n++] = m->media;
	}
	return 0;
}

static int64_t group_of(int64_t media)
{
	struct collect c = {.n = 0};
	struct ks_err err = {0};
	if (ks_store_review_member(st, media, on_member, &c, &err) != KS_OK || c.n != 1)
		return -1;
	return c.groups[0];
}

static int in_list(const int64_t *v, int n, int64_t x)
{
	for (int i = 0; i < n; i++)
		if (v[i] == x)
			return 1;
	return 0;
}

/* Leader clustering by comparing with every leader: what the index must reproduce. */
static void brute_groups(const struct hash *h, const int *usable, int n, int threshold, int *out)
{
	int *leaders = calloc((size_t)n, sizeof *leaders), nl = 0;
	for (int i = 0; i < n; i++) {
		int best = -1, bd = threshold + 1;
		for (int k = 0; usable[i] && k < nl; k++) {
			int d = dist(&h[i], &h[leaders[k]]);
			if (d < bd) {
				bd = d;
				best = leaders[k];
			}
		}
		if (best >= 0) {
			out[i] = out[best];
		} else {
			out[i] = i;
			if (usable[i])
				leaders[nl++] = i;
		}
	}
	free(leaders);
}

static void test_grouping_matches_brute_force(const char *dir)
{
	enum { N = 1500 };
	static struct hash h[N];
	static int usable[N], expect[N];
	static int64_t ids[N];
	struct ks_err err = {0};
	char *path = ks_xasprintf("%s/brute", dir);
	struct ks_case_meta meta = {.ref = "B", .examiner = "t"};
	CHECK(ks_store_create(path, &meta, &err) == KS_OK);
	CHECK(ks_store_open(path, 0, &st, &err) == KS_OK);
	CHECK(ks_store_begin(st, &err) == KS_OK);
	CHECK(ks_store_exhibit_get(st, "E1", &exhibit, &err) == KS_OK);
	CHECK(ks_store_source_add(st, exhibit, "/ev", "dir", 1, &source, &err) == KS_OK);
	/* Clusters of variants at distances around the threshold, and loners. */
	int n = 0;
	while (n < N) {
		struct hash base = random_hash();
		int members = 1 + (int)(rnd() % 6);
		for (int k = 0; k < members && n < N; k++, n++) {
			h[n] = k == 0 ? base : flip(base, (int)(rnd() % 45));
			usable[n] = rnd() % 10 != 0;
			char p[32];
			snprintf(p, sizeof p, "d/%05d.jpg", n);
			ids[n] = add_media(KS_KIND_PICTURE, &h[n], usable[n] ? 80 : 20, p);
		}
	}
	CHECK(ks_store_commit(st, &err) == KS_OK);
	struct ks_review_group_stats gs;
	CHECK(ks_review_group_update(st, 0, 0, &gs, &err) == KS_OK);
	CHECK(gs.placed == N);
	brute_groups(h, usable, N, 31, expect);
	/* Same partition: members the brute force put together share a group, and there
	 * are as many groups as it made. */
	static int64_t gid[N];
	int agree = 0, nexpect = 0, ngroups = 0;
	for (int i = 0; i < N; i++)
		gid[i] = group_of(ids[i]);
	for (int i = 0; i < N; i++) {
		agree += gid[i] > 0 && gid[i] == gid[expect[i]];
		nexpect += expect[i] == i;
		int seen = 0;
		for (int k = 0; k < i && !seen; k++)
			seen = gid[k] == gid[i];
		ngroups += !seen;
	}
	CHECK(agree == N);
	CHECK(ngroups == nexpect);
	CHECK(ngroups < N * 2 / 3); /* the data does hold near-duplicates */
	/* and the index never groups two pictures whose leaders are further apart */
	CHECK(ks_review_group_update(st, 0, 1, &gs, &err) == KS_OK && gs.placed == 0);
	ks_store_close(st);
	st = NULL;
	nmedia = 0;
	free(path);
}

struct fcheck {
	int64_t media;
	int state;
	char category[8], grader[16], verifier[16];
};

static int on_file(void *ctx, const struct ks_file_row *r)
{
	struct fcheck *f = ctx;
	if (r->media_id != f->media)
		return 0;
	f->state = r->grade_state;
	snprintf(f->category, sizeof f->category, "%s", r->category ? r->category : "");
	snprintf(f->grader, sizeof f->grader, "%s", r->grader ? r->grader : "");
	snprintf(f->verifier, sizeof f->verifier, "%s", r->verifier ? r->verifier : "");
	return 0;
}

static struct fcheck file_grade(int64_t media)
{
	struct fcheck f = {.media = media};
	struct ks_err err = {0};
	CHECK(ks_store_files_each(st, on_file, &f, &err) == KS_OK);
	return f;
}

struct finals {
	int64_t b, c;
};

static int on_final(void *ctx, const char *cat, int64_t n)
{
	struct finals *f = ctx;
	if (strcmp(cat, "B") == 0)
		f->b = n;
	if (strcmp(cat, "C") == 0)
		f->c = n;
	return 0;
}

static int on_mix(void *ctx, const char *cat, int64_t n)
{
	int64_t *total = ctx;
	(void)cat;
	*total += n;
	return 0;
}

int main(void)
{
	const char *dir = ktest_tmpdir();
	struct ks_err err = {0};
	char *path = ks_xasprintf("%s/case", dir);
	struct ks_case_meta meta = {.ref = "R1", .examiner = "tester"};
	CHECK(ks_store_create(path, &meta, &err) == KS_OK);
	CHECK(ks_store_open(path, 0, &st, &err) == KS_OK);
	CHECK(ks_store_begin(st, &err) == KS_OK);
	CHECK(ks_store_exhibit_get(st, "E1", &exhibit, &err) == KS_OK);
	CHECK(ks_store_source_add(st, exhibit, "/ev", "dir", 1, &source, &err) == KS_OK);

	/* G = 5 groups of a leader and three variants (5, 15, 30 bits away). */
	enum { G = 5, K = 4 };
	int64_t members[G][4];
	struct hash leaders[G];
	char p[64];
	for (int g = 0; g < G; g++) {
		leaders[g] = random_hash();
		static const int flips[4] = {0, 5, 15, 30};
		for (int v = 0; v < 4; v++) {
			struct hash h = flip(leaders[g], flips[v]);
			snprintf(p, sizeof p, "f%d/v%d.jpg", g, v);
			members[g][v] = add_media(KS_KIND_PICTURE, &h, 90, p);
		}
	}
	/* K known pictures, categorised through a hash set. */
	int64_t known[K], set = 0;
	struct ks_hashset_meta hm = {
	    .name = "known", .format = "md5", .scheme = "uk", .role = "alert"};
	CHECK(ks_store_hashset_add(st, &hm, &set, &err) == KS_OK);
	for (int k = 0; k < K; k++) {
		struct hash h = random_hash();
		snprintf(p, sizeof p, "known/k%d.jpg", k);
		known[k] = add_media(KS_KIND_PICTURE, &h, 90, p);
		CHECK(ks_store_match_add(st, known[k], set, "md5", "uk", "A", 3, &err) == KS_OK);
	}
	/* 40 bits from leader 0: its own group; a near copy of leader 1 with low quality:
	 * its own group; a video: its own group. */
	struct hash far = flip(leaders[0], 40), lowq = flip(leaders[1], 3);
	int64_t m_far = add_media(KS_KIND_PICTURE, &far, 90, "x/far.jpg");
	int64_t m_lowq = add_media(KS_KIND_PICTURE, &lowq, 30, "x/lowq.jpg");
	int64_t m_video = add_media(KS_KIND_VIDEO, NULL, 0, "x/clip.mp4");
	CHECK(ks_store_commit(st, &err) == KS_OK);

	struct ks_review_group_stats gs;
	CHECK(ks_review_group_update(st, 0, 0, &gs, &err) == KS_OK);
	CHECK(gs.placed == G * 4 + K + 3);
	CHECK(gs.joined == G * 3);
	for (int g = 0; g < G; g++)
		for (int v = 1; v < 4; v++)
			CHECK(group_of(members[g][v]) == group_of(members[g][0]));
	CHECK(group_of(m_far) != group_of(members[0][0]));
	CHECK(group_of(m_lowq) != group_of(members[1][0]));
	CHECK(group_of(m_video) > 0);

	struct collect q = {.n = 0};
	int64_t total = 0;
	CHECK(ks_store_queue_page(st, 0, 0, 100, &total, on_group, &q, &err) == KS_OK);
	CHECK(total == G + 3 && q.n == G + 3);
	for (int k = 0; k < K; k++)
		CHECK(!in_list(q.ids, q.n, known[k]));
	/* ordered by exhibit and folder: f0 … f4, then known (absent), then x/ */
	CHECK(q.ids[0] == members[0][0] && q.ids[4] == members[4][0]);
	/* the officer may ask for the categorised ones too */
	struct collect qa = {.n = 0};
	CHECK(ks_store_queue_page(st, 1, 0, 100, &total, on_group, &qa, &err) == KS_OK);
	CHECK(total == G + 3 + K && in_list(qa.ids, qa.n, known[0]));

	/* Grade group 0 at once; a second grade of the same media changes nothing. */
	int64_t g0 = group_of(members[0][0]), done = 0, action = 0, agreed = 0, disputed = 0;
	CHECK(ks_store_begin(st, &err) == KS_OK);
	CHECK(ks_store_grade(st, members[0], 4, "g1", "uk", "B", &done, &action, &err) == KS_OK);
	CHECK(done == 4 && action > 0);
	CHECK(ks_store_grade(st, members[0], 4, "g2", "uk", "C", &done, &action, &err) == KS_OK);
	CHECK(done == 0);
	CHECK(ks_store_commit(st, &err) == KS_OK);
	q.n = 0;
	CHECK(ks_store_queue_page(st, 0, 0, 100, &total, on_group, &q, &err) == KS_OK);
	CHECK(total == G + 2 && !in_list(q.groups, q.n, g0));
	struct ks_review_counts rc;
	CHECK(ks_store_review_counts(st, &rc, &err) == KS_OK);
	CHECK(rc.pending == 4 && rc.known == K && rc.groups_open == G + 2);
	CHECK(file_grade(members[0][1]).state == KS_GRADE_PENDING);
	CHECK(file_grade(members[0][1]).category[0] == '\0'); /* pending is not final */

	/* The grader cannot verify their own grade; nothing is written. */
	CHECK(ks_store_begin(st, &err) == KS_OK);
	CHECK(ks_store_grade_verify(st, members[0], 4, "g1", "B", &agreed, &disputed, &action,
				    &err) == KS_E_USAGE);
	ks_store_rollback(st);
	/* Undo gives the group back to the queue. */
	const char *kind = NULL;
	int64_t n = 0;
	CHECK(ks_store_begin(st, &err) == KS_OK);
	CHECK(ks_store_review_undo(st, "g1", &kind, &n, &err) == KS_OK);
	CHECK(kind && strcmp(kind, "grade") == 0 && n == 4);
	CHECK(ks_store_review_undo(st, "g1", &kind, &n, &err) == KS_E_NOTFOUND);
	CHECK(ks_store_commit(st, &err) == KS_OK);
	CHECK(ks_store_queue_page(st, 0, 0, 100, &total, on_group, &q, &err) == KS_OK &&
	      total == G + 3);

	/* Grade again; the verifier agrees on two and disagrees on two. */
	CHECK(ks_store_begin(st, &err) == KS_OK);
	CHECK(ks_store_grade(st, members[0], 4, "g1", "uk", "B", &done, &action, &err) == KS_OK);
	CHECK(ks_store_grade_verify(st, members[0], 2, "v1", "B", &agreed, &disputed, &action,
				    &err) == KS_OK);
	CHECK(agreed == 2 && disputed == 0);
	CHECK(ks_store_grade_verify(st, members[0] + 2, 2, "v1", "C", &agreed, &disputed, &action,
				    &err) == KS_OK);
	CHECK(agreed == 0 && disputed == 2);
	/* the verifier's last act can be undone, and redone */
	CHECK(ks_store_review_undo(st, "v1", &kind, &n, &err) == KS_OK &&
	      strcmp(kind, "verify") == 0 && n == 2);
	CHECK(ks_store_grade_verify(st, members[0] + 2, 2, "v1", "C", &agreed, &disputed, &action,
				    &err) == KS_OK &&
	      disputed == 2);
	/* a verified grade cannot be undone by its grader any more */
	CHECK(ks_store_review_undo(st, "g1", &kind, &n, &err) == KS_E_NOTFOUND);
	CHECK(ks_store_grade_resolve(st, members[0][2], "a1", "C", "", &err) == KS_E_USAGE);
	CHECK(ks_store_grade_resolve(st, members[0][2], "a1", "C", "both frames checked", &err) ==
	      KS_OK);
	CHECK(ks_store_grade_resolve(st, members[0][2], "a1", "C", "again", &err) == KS_E_USAGE);
	CHECK(ks_store_commit(st, &err) == KS_OK);

	struct fcheck f = file_grade(members[0][0]);
	CHECK(f.state == KS_GRADE_VERIFIED);
	CHECK_STR(f.category, "B");
	CHECK_STR(f.grader, "g1");
	CHECK_STR(f.verifier, "v1");
	f = file_grade(members[0][3]);
	CHECK(f.state == KS_GRADE_DISPUTED && f.category[0] == '\0');
	f = file_grade(members[0][2]);
	CHECK(f.state == KS_GRADE_RESOLVED);
	CHECK_STR(f.category, "C");
	f = file_grade(known[0]);
	CHECK(f.state == KS_GRADE_NONE);
	CHECK_STR(f.category, "A");
	struct finals fin = {0};
	CHECK(ks_store_review_final_each(st, on_final, &fin, &err) == KS_OK);
	CHECK(fin.b == 2 && fin.c == 1);
	CHECK(ks_store_review_counts(st, &rc, &err) == KS_OK);
	CHECK(rc.verified == 2 && rc.disputed == 1 && rc.resolved == 1 && rc.pending == 0);

	/* Split a member out of group 1: it becomes a group of its own. */
	int64_t g1 = group_of(members[1][0]), ng = 0;
	CHECK(ks_store_begin(st, &err) == KS_OK);
	CHECK(ks_store_review_split(st, members[1][2], &ng, &err) == KS_OK);
	CHECK(ks_store_commit(st, &err) == KS_OK);
	CHECK(ng != g1 && group_of(members[1][2]) == ng && group_of(members[1][1]) == g1);
	struct collect mem = {.n = 0};
	CHECK(ks_store_group_members(st, g1, on_member, &mem, &err) == KS_OK && mem.n == 3);
	CHECK(ks_store_queue_page(st, 0, 0, 100, &total, on_group, &q, &err) == KS_OK &&
	      total == G + 3);
	/* the blind queue holds nothing of v1's own, nor anything verified */
	struct collect vq = {.n = 0};
	CHECK(ks_store_verify_page(st, "g1", 0, 100, &total, on_member, &vq, &err) == KS_OK &&
	      total == 0);

	/* Welfare figures add up per officer and day. */
	struct ks_welfare w = {3, 1, 120}, got;
	CHECK(ks_store_begin(st, &err) == KS_OK);
	CHECK(ks_store_welfare_add(st, "g1", "2024-01-02", &w, &err) == KS_OK);
	CHECK(ks_store_welfare_add(st, "g1", "2024-01-02", &w, &err) == KS_OK);
	CHECK(ks_store_commit(st, &err) == KS_OK);
	int64_t mix = 0;
	CHECK(ks_store_welfare_get(st, "g1", "2024-01-02", &got, on_mix, &mix, &err) == KS_OK);
	CHECK(got.viewed == 6 && got.unblurred == 2 && got.seconds == 240 && mix == 4);

	/* A media known by its SHA-256 only waits for its bytes; once they turn up, the
	 * full pass places it although newer media were placed meanwhile. */
	uint8_t sha[32];
	memset(sha, 0x5a, sizeof sha);
	int64_t ho = 0;
	int is_new = 0;
	CHECK(ks_store_begin(st, &err) == KS_OK);
	CHECK(ks_store_media_by_sha256(st, sha, KS_KIND_PICTURE, -1, &ho, &is_new, &err) == KS_OK);
	CHECK(ks_store_commit(st, &err) == KS_OK);
	CHECK(ks_review_group_update(st, 0, 1, &gs, &err) == KS_OK && gs.placed == 0);
	CHECK(ks_store_begin(st, &err) == KS_OK);
	struct hash hn = random_hash();
	int64_t newer = add_media(KS_KIND_PICTURE, &hn, 90, "y/newer.jpg");
	CHECK(ks_store_commit(st, &err) == KS_OK);
	CHECK(ks_review_group_update(st, 0, 0, &gs, &err) == KS_OK && gs.placed == 1);
	CHECK(group_of(newer) > 0 && group_of(ho) < 0);
	struct ks_digests hd;
	memset(&hd, 0x11, sizeof hd);
	memcpy(hd.sha256, sha, 32);
	struct ks_media_rec hm2 = {&hd, 10, "jpeg", KS_KIND_PICTURE, 8, 8, KS_VALID_OK};
	int64_t same = 0;
	CHECK(ks_store_begin(st, &err) == KS_OK);
	CHECK(ks_store_media_put(st, &hm2, &same, &is_new, &err) == KS_OK && same == ho);
	CHECK(ks_store_commit(st, &err) == KS_OK);
	CHECK(ks_review_group_update(st, 0, 0, &gs, &err) == KS_OK && gs.placed == 0);
	CHECK(ks_review_group_update(st, 0, 1, &gs, &err) == KS_OK && gs.placed == 1);
	CHECK(group_of(ho) > 0);

	/* Accounts. */
	struct ks_user u;
	CHECK(ks_store_begin(st, &err) == KS_OK);
	CHECK(ks_store_user_put(st, "bad name", KS_ROLE_GRADER, "x", NULL, &err) == KS_E_USAGE);
	CHECK(ks_store_user_put(st, "g1", KS_ROLE_GRADER, "$argon2id$x", NULL, &err) == KS_OK);
	CHECK(ks_store_commit(st, &err) == KS_OK);
	CHECK(ks_store_user_get(st, "g1", &u, &err) == KS_OK && u.role == KS_ROLE_GRADER);
	CHECK(ks_store_user_get(st, "nobody", &u, &err) == KS_E_NOTFOUND);

	/* The audit chain verifies, and fails after one byte of a row changes. */
	for (int i = 0; i < 3; i++)
		CHECK(ks_store_audit(st, "g1", "review.grade", "uk:B media 1", &err) == KS_OK);
	int64_t rows = 0;
	CHECK(ks_store_audit_verify(st, &rows, &err) == KS_OK && rows == 4);
	ks_store_close(st);
	st = NULL;
	char *db = ks_xasprintf("%s/case.db", path);
	sqlite3 *h = NULL;
	CHECK(sqlite3_open(db, &h) == SQLITE_OK);
	CHECK(sqlite3_exec(h, "UPDATE audit SET detail = 'uk:C media 1' WHERE seq = 3", NULL, NULL,
			   NULL) == SQLITE_OK);
	sqlite3_close(h);
	CHECK(ks_store_open(path, 1, &st, &err) == KS_OK);
	CHECK(ks_store_audit_verify(st, &rows, &err) == KS_E_EVIDENCE && rows == 2);
	ks_store_close(st);
	st = NULL;
	free(db);
	free(path);

	test_grouping_matches_brute_force(dir);
	return ktest_done();
}
