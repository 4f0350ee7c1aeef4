/* Hex, time and the log sink (see base.h). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "kestrel/base.h"

void ks_hex_encode(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

int ks_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int ks_hex_decode(const char *hex, size_t hexlen, uint8_t *out, size_t n)
{
	if (hexlen != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int hi = ks_hex_digit(hex[2 * i]), lo = ks_hex_digit(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

void ks_time_iso8601(int64_t t, char out[32])
{
	if (t == 0) {
		out[0] = '\0';
		return;
	}
	time_t tt = (time_t)t;
	struct tm tm;
	if (!gmtime_r(&tt, &tm)) {
		out[0] = '\0';
		return;
	}
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int64_t ks_time_now(void)
{
	return (int64_t)time(NULL);
}

double ks_time_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static ks_log_sink log_sink;
static void *log_ctx;

void ks_log_set_sink(ks_log_sink sink, void *ctx)
{
	log_sink = sink;
	log_ctx = ctx;
}

void ks_log(enum ks_log_level level, const char *fmt, ...)
{
	if (!log_sink)
		return;
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	log_sink(log_ctx, level, msg);
}
