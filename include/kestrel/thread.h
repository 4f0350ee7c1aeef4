/* kestrel base: the two thread primitives the pipeline is built from — a bounded
 * blocking queue of pointers, and a byte budget that bounds memory in flight. */
#ifndef KESTREL_THREAD_H
#define KESTREL_THREAD_H

#include <stddef.h>
#include <stdint.h>

/* Bounded FIFO of non-NULL pointers. push blocks while full, pop blocks while empty;
 * after close, push drops nothing it accepted and pop returns NULL once drained. */
struct ks_queue;
struct ks_queue *ks_queue_new(size_t capacity);
void ks_queue_free(struct ks_queue *q); /* accepts NULL; the queue must be drained */
void ks_queue_push(struct ks_queue *q, void *item);
void *ks_queue_pop(struct ks_queue *q);
void ks_queue_close(struct ks_queue *q);

/* Counting budget of bytes. acquire blocks until n bytes are free; a request larger
 * than the whole budget waits until nothing else is held, then proceeds alone (so
 * one big item cannot deadlock the pipeline). */
struct ks_budget;
struct ks_budget *ks_budget_new(uint64_t total);
void ks_budget_free(struct ks_budget *b);
void ks_budget_acquire(struct ks_budget *b, uint64_t n);
void ks_budget_release(struct ks_budget *b, uint64_t n);
uint64_t ks_budget_peak(const struct ks_budget *b); /* most bytes ever held at once */

#endif
