/* Base layer: buffers, hex, errors, category maps, queue and budget under threads. */
#include <pthread.h>
#include <stdlib.h>

#include "kestrel/base.h"
#include "kestrel/category.h"
#include "kestrel/thread.h"
#include "ktest.h"

static struct ks_queue *q;

static void *producer(void *arg)
{
	for (intptr_t i = 1; i <= 10000; i++)
		ks_queue_push(q, (void *)i);
	return arg;
}

int main(void)
{
	struct ks_buf b = {0};
	ks_buf_addf(&b, "%d-%s", 42, "x");
	ks_buf_adds(&b, "yz");
	CHECK_STR((char *)b.data, "42-xyz");
	CHECK(b.len == 6);
	char *s = ks_buf_take(&b);
	CHECK_STR(s, "42-xyz");
	CHECK(b.data == NULL && b.len == 0);
	free(s);

	uint8_t bin[4] = {0xde, 0xad, 0xBE, 0x01}, back[4];
	char hex[9];
	ks_hex_encode(bin, 4, hex);
	CHECK_STR(hex, "deadbe01");
	CHECK(ks_hex_decode("DEADBE01", 8, back, 4) == 0 && memcmp(bin, back, 4) == 0);
	CHECK(ks_hex_decode("DEADBE0g", 8, back, 4) == -1);
	CHECK(ks_hex_decode("DEADBE0", 7, back, 4) == -1);

	struct ks_err err = {0};
	CHECK(ks_err_set(&err, KS_E_EVIDENCE, "bad %s", "header") == KS_E_EVIDENCE);
	ks_err_prefix(&err, "file %d", 3);
	CHECK_STR(err.msg, "file 3: bad header");

	char t[32];
	ks_time_iso8601(1700000000, t);
	CHECK_STR(t, "2023-11-14T22:13:20Z");
	ks_time_iso8601(0, t);
	CHECK_STR(t, "");

	/* categories: UK numbering (kestrel's convention), letters, DHS onto VICS */
	const char *sc, *code;
	CHECK(ks_category_map("uk", "1", &sc, &code) == 0 && code && strcmp(code, "A") == 0);
	CHECK(ks_category_map("uk", " cat b ", &sc, &code) == 0 && code && strcmp(code, "B") == 0);
	CHECK(ks_category_map("uk", "0", &sc, &code) == 0 && code && strcmp(code, "N") == 0);
	CHECK(ks_category_map("uk", "9", &sc, &code) == -1);
	CHECK(ks_category_map("dhs", "0", &sc, &code) == 0 && code == NULL && strcmp(sc, "vics-us") == 0);
	CHECK(ks_category_map("dhs", "5", &sc, &code) == 0 && code && strcmp(code, "0") == 0);
	CHECK(ks_category_map("vics-us", "null", &sc, &code) == 0 && code == NULL);
	CHECK(ks_category_map("nope", "1", &sc, &code) == -1);
	const struct ks_scheme *uk = ks_scheme_find("uk");
	CHECK(uk && ks_scheme_category(uk, "A")->severity > ks_scheme_category(uk, "B")->severity);
	CHECK(ks_scheme_category(uk, "B")->severity > ks_scheme_category(uk, "C")->severity);

	/* queue: two producers, one consumer, nothing lost or duplicated */
	q = ks_queue_new(8);
	pthread_t a, c;
	pthread_create(&a, NULL, producer, NULL);
	pthread_create(&c, NULL, producer, NULL);
	long long sum = 0, n = 0;
	for (int i = 0; i < 20000; i++) {
		sum += (intptr_t)ks_queue_pop(q);
		n++;
	}
	pthread_join(a, NULL);
	pthread_join(c, NULL);
	ks_queue_close(q);
	CHECK(ks_queue_pop(q) == NULL);
	CHECK(n == 20000 && sum == 2LL * 10000 * 10001 / 2);
	ks_queue_free(q);

	/* budget: a request larger than the whole budget proceeds alone */
	struct ks_budget *bg = ks_budget_new(100);
	ks_budget_acquire(bg, 60);
	ks_budget_release(bg, 60);
	ks_budget_acquire(bg, 500);
	CHECK(ks_budget_peak(bg) == 500);
	ks_budget_release(bg, 500);
	ks_budget_free(bg);
	return ktest_done();
}
