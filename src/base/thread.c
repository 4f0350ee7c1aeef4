/* Bounded queue and byte budget (see thread.h), on pthread mutexes and conditions. */
#include <pthread.h>
#include <stdlib.h>

#include "kestrel/base.h"
#include "kestrel/thread.h"

struct ks_queue {
	pthread_mutex_t mu;
	pthread_cond_t not_empty, not_full;
	void **items;
	size_t cap, head, count;
	int closed;
};

struct ks_queue *ks_queue_new(size_t capacity)
{
	struct ks_queue *q = ks_xcalloc(1, sizeof *q);
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->not_empty, NULL);
	pthread_cond_init(&q->not_full, NULL);
	q->cap = capacity ? capacity : 1;
	q->items = ks_xcalloc(q->cap, sizeof *q->items);
	return q;
}

void ks_queue_free(struct ks_queue *q)
{
	if (!q)
		return;
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->not_empty);
	pthread_cond_destroy(&q->not_full);
	free(q->items);
	free(q);
}

void ks_queue_push(struct ks_queue *q, void *item)
{
	pthread_mutex_lock(&q->mu);
	while (q->count == q->cap && !q->closed)
		pthread_cond_wait(&q->not_full, &q->mu);
	if (q->closed)
		abort(); /* pushing after close is our bug */
	q->items[(q->head + q->count) % q->cap] = item;
	q->count++;
	pthread_cond_signal(&q->not_empty);
	pthread_mutex_unlock(&q->mu);
}

void *ks_queue_pop(struct ks_queue *q)
{
	void *item = NULL;
	pthread_mutex_lock(&q->mu);
	while (q->count == 0 && !q->closed)
		pthread_cond_wait(&q->not_empty, &q->mu);
	if (q->count) {
		item = q->items[q->head];
		q->head = (q->head + 1) % q->cap;
		q->count--;
		pthread_cond_signal(&q->not_full);
	}
	pthread_mutex_unlock(&q->mu);
	return item;
}

void ks_queue_close(struct ks_queue *q)
{
	pthread_mutex_lock(&q->mu);
	q->closed = 1;
	pthread_cond_broadcast(&q->not_empty);
	pthread_cond_broadcast(&q->not_full);
	pthread_mutex_unlock(&q->mu);
}

struct ks_budget {
	pthread_mutex_t mu;
	pthread_cond_t freed;
	uint64_t total, held, peak;
};

struct ks_budget *ks_budget_new(uint64_t total)
{
	struct ks_budget *b = ks_xcalloc(1, sizeof *b);
	pthread_mutex_init(&b->mu, NULL);
	pthread_cond_init(&b->freed, NULL);
	b->total = total;
	return b;
}

void ks_budget_free(struct ks_budget *b)
{
	if (!b)
		return;
	pthread_mutex_destroy(&b->mu);
	pthread_cond_destroy(&b->freed);
	free(b);
}

void ks_budget_acquire(struct ks_budget *b, uint64_t n)
{
	pthread_mutex_lock(&b->mu);
	while (b->held > 0 && b->held + n > b->total)
		pthread_cond_wait(&b->freed, &b->mu);
	b->held += n;
	if (b->held > b->peak)
		b->peak = b->held;
	pthread_mutex_unlock(&b->mu);
}

void ks_budget_release(struct ks_budget *b, uint64_t n)
{
	pthread_mutex_lock(&b->mu);
	b->held = n > b->held ? 0 : b->held - n;
	pthread_cond_broadcast(&b->freed);
	pthread_mutex_unlock(&b->mu);
}

uint64_t ks_budget_peak(const struct ks_budget *b)
{
	return b->peak;
}
