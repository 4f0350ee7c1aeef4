/* Error reports and status names (see base.h). */
#include <stdio.h>
#include <string.h>

#include "kestrel/base.h"

int ks_err_set(struct ks_err *err, int status, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		err->status = status;
		vsnprintf(err->msg, sizeof err->msg, fmt, ap);
		va_end(ap);
	}
	return status;
}

void ks_err_prefix(struct ks_err *err, const char *fmt, ...)
{
	if (!err)
		return;
	char pre[256], old[sizeof err->msg];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(pre, sizeof pre, fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof old);
	struct ks_buf b = {0};
	ks_buf_addf(&b, "%s: %s", pre, old);
	size_t n = b.len < sizeof err->msg - 1 ? b.len : sizeof err->msg - 1;
	memcpy(err->msg, b.data, n);
	err->msg[n] = '\0';
	ks_buf_release(&b);
}

void ks_err_clear(struct ks_err *err)
{
	if (err) {
		err->status = KS_OK;
		err->msg[0] = '\0';
	}
}

const char *ks_status_name(int status)
{
	switch (status) {
	case KS_OK: return "ok";
	case KS_E_EVIDENCE: return "bad evidence";
	case KS_E_FORMAT: return "bad input file";
	case KS_E_ENV: return "environment";
	case KS_E_USAGE: return "usage";
	case KS_E_LIMIT: return "limit reached";
	case KS_E_NOTFOUND: return "not found";
	case KS_E_UNSUPPORTED: return "unsupported";
	}
	return "unknown";
}
