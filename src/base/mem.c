/* Checked allocation and the growable buffer (see base.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kestrel/base.h"

static void oom(size_t n)
{
	fprintf(stderr, "kestrel: out of memory allocating %zu bytes\n", n);
	abort();
}

void *ks_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *ks_xcalloc(size_t count, size_t n)
{
	void *p = calloc(count ? count : 1, n ? n : 1);
	if (!p)
		oom(count * n);
	return p;
}

void *ks_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		oom(n);
	return q;
}

char *ks_xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = ks_xmalloc(n);
	memcpy(p, s, n);
	return p;
}

char *ks_xasprintf(const char *fmt, ...)
{
	struct ks_buf b = {0};
	va_list ap;
	va_start(ap, fmt);
	ks_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	return ks_buf_take(&b);
}

void ks_buf_reserve(struct ks_buf *b, size_t extra)
{
	if (b->len + extra + 1 <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < b->len + extra + 1)
		cap *= 2;
	b->data = ks_xrealloc(b->data, cap);
	b->cap = cap;
}

void ks_buf_add(struct ks_buf *b, const void *p, size_t n)
{
	ks_buf_reserve(b, n);
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = 0;
}

void ks_buf_adds(struct ks_buf *b, const char *s)
{
	ks_buf_add(b, s, strlen(s));
}

void ks_buf_vaddf(struct ks_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	va_copy(cp, ap);
	int n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return;
	ks_buf_reserve(b, (size_t)n);
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void ks_buf_addf(struct ks_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	ks_buf_vaddf(b, fmt, ap);
	va_end(ap);
}

void ks_buf_reset(struct ks_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = 0;
}

void ks_buf_release(struct ks_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

char *ks_buf_take(struct ks_buf *b)
{
	if (!b->data)
		ks_buf_reserve(b, 0), b->data[0] = 0;
	char *p = (char *)b->data;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}
