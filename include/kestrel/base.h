/* kestrel base layer: status codes, error reports, checked allocation, growable
 * buffers, hex, time formatting and logging. Everything else builds on these; this
 * header depends on libc only. */
#ifndef KESTREL_BASE_H
#define KESTREL_BASE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* Every fallible function returns KS_OK or one of these (negative). The three kinds
 * of failure are never mixed: bad evidence or a bad imported file (KS_E_EVIDENCE,
 * KS_E_FORMAT: recorded, the work goes on), the environment (KS_E_ENV: the job fails
 * cleanly and can resume), a misuse by the caller (KS_E_USAGE). Our own bugs abort. */
enum ks_status {
	KS_OK = 0,
	KS_E_EVIDENCE = -1,    /* evidence is damaged or hostile */
	KS_E_FORMAT = -2,      /* an imported file (hash set, config) is malformed */
	KS_E_ENV = -3,         /* I/O, disk full, database failure */
	KS_E_USAGE = -4,       /* bad arguments from the user or caller */
	KS_E_LIMIT = -5,       /* a size, depth or count limit was reached */
	KS_E_NOTFOUND = -6,    /* the thing asked for does not exist */
	KS_E_UNSUPPORTED = -7, /* a format or feature kestrel does not handle */
};

/* Caller-supplied error report (git's strbuf *err): the callee fills it on failure.
 * No global or thread-local error state anywhere in kestrel. */
struct ks_err {
	int status;
	char msg[512];
};

/* Sets err (if non-NULL) and returns status, so callers write
 * `return ks_err_set(err, KS_E_EVIDENCE, "bad header at %llu", off);`. */
int ks_err_set(struct ks_err *err, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Prefixes the message already in err with "prefix: " (adds context on the way up). */
void ks_err_prefix(struct ks_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ks_err_clear(struct ks_err *err);
/* Short name of a status ("bad evidence", "environment", ...). */
const char *ks_status_name(int status);

/* Allocation that aborts on exhaustion (an environment failure we cannot recover from
 * mid-item). Sizes read from evidence must be checked against limits *before* these. */
void *ks_xmalloc(size_t n);
void *ks_xcalloc(size_t count, size_t n);
void *ks_xrealloc(void *p, size_t n);
char *ks_xstrdup(const char *s);
char *ks_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Growable byte buffer, always NUL-terminated after len (so text can be used as a
 * C string). Zero-initialised struct is an empty buffer. */
struct ks_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
};
void ks_buf_reserve(struct ks_buf *b, size_t extra);
void ks_buf_add(struct ks_buf *b, const void *p, size_t n);
void ks_buf_adds(struct ks_buf *b, const char *s);
void ks_buf_addf(struct ks_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ks_buf_vaddf(struct ks_buf *b, const char *fmt, va_list ap);
void ks_buf_reset(struct ks_buf *b);   /* len = 0, keeps memory */
void ks_buf_release(struct ks_buf *b); /* frees memory, back to empty */
/* Takes the buffer's memory (caller frees); the buffer is left empty. */
char *ks_buf_take(struct ks_buf *b);

/* Lower-case hex of n bytes into out (2n+1 bytes, NUL-terminated). */
void ks_hex_encode(const uint8_t *in, size_t n, char *out);
/* Decodes exactly 2n hex digits (either case) into n bytes; -1 on a bad digit or
 * length, 0 on success. */
int ks_hex_decode(const char *hex, size_t hexlen, uint8_t *out, size_t n);
/* The value 0-15 of one hex digit (either case); -1 if c is not one. */
int ks_hex_digit(char c);

/* UTC ISO-8601 "2024-01-02T03:04:05Z" (21 bytes with NUL); "" for t == 0. */
void ks_time_iso8601(int64_t unix_seconds, char out[32]);
/* Seconds since the epoch, wall clock and monotonic (for rates). */
int64_t ks_time_now(void);
double ks_time_mono(void);

/* Logging goes through one sink that only the cli sets (only the cli prints). */
enum ks_log_level { KS_LOG_DEBUG, KS_LOG_INFO, KS_LOG_WARN, KS_LOG_ERROR };
typedef void (*ks_log_sink)(void *ctx, enum ks_log_level level, const char *msg);
void ks_log_set_sink(ks_log_sink sink, void *ctx);
void ks_log(enum ks_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
