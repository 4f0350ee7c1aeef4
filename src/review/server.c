/* The review server: libmicrohttpd glue. Binds to loopback unless told otherwise (and
 * then only with TLS or --insecure), sends every response with a strict
 * Content-Security-Policy and no-store caching, serves the built-in web assets by
 * exact name, and hands /api/ to the handlers in api.c. Nothing but the login page
 * and its three assets (script, style, icon) is served without a session. The main
 * loop keeps the groups up to date and writes officers' exposure figures. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "review_impl.h"

#define MAX_BODY 65536
#define REGROUP_SECONDS 30
#define FLUSH_SECONDS 10

static const char csp[] =
    "default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; object-src 'none'; media-src 'none'; frame-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/* Per-connection state across the access handler's calls (the body arrives in parts). */
struct conn {
	struct ks_buf body;
	int too_big;
};

static const char *mime_of(const char *name)
{
	const char *dot = strrchr(name, '.');
	if (!dot)
		return "application/octet-stream";
	if (strcmp(dot, ".html") == 0)
		return "text/html; charset=utf-8";
	if (strcmp(dot, ".js") == 0)
		return "text/javascript; charset=utf-8";
	if (strcmp(dot, ".css") == 0)
		return "text/css; charset=utf-8";
	if (strcmp(dot, ".svg") == 0)
		return "image/svg+xml";
	return "application/octet-stream";
}

const struct ks_review_asset *ks_review_asset_find(const char *name)
{
	for (size_t i = 0; i < ks_review_nassets; i++)
		if (strcmp(ks_review_assets[i].name, name) == 0)
			return &ks_review_assets[i];
	return NULL;
}

static enum MHD_Result respond(struct MHD_Connection *c, struct rv_server *s, struct rv_resp *rs)
{
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(rs->body.len, rs->body.data, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", rs->type ? rs->type : "application/json");
	MHD_add_response_header(r, "Content-Security-Policy", csp);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "Cross-Origin-Resource-Policy", "same-origin");
	MHD_add_response_header(r, "Cross-Origin-Opener-Policy", "same-origin");
	MHD_add_response_header(r, "Permissions-Policy",
				"camera=(), microphone=(), geolocation=()");
	/* Pictures must never land in a browser's disk cache. */
	MHD_add_response_header(r, "Cache-Control", "no-store");
	if (s->tls)
		MHD_add_response_header(r, "Strict-Transport-Security", "max-age=31536000");
	if (rs->cookie[0])
		MHD_add_response_header(r, "Set-Cookie", rs->cookie);
	if (rs->status == 303)
		MHD_add_response_header(r, "Location", "/login");
	enum MHD_Result ret = MHD_queue_response(c, (unsigned)rs->status, r);
	MHD_destroy_response(r);
	return ret;
}

static void client_text(struct MHD_Connection *c, char *out, size_t n)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	snprintf(out, n, "?");
	if (!ci || !ci->client_addr)
		return;
	const struct sockaddr *sa = ci->client_addr;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)n);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out,
			  (socklen_t)n);
}

static void asset(struct rv_resp *rs, const char *name)
{
	const struct ks_review_asset *a = ks_review_asset_find(name);
	if (!a) {
		rv_error(rs, 404, "not found");
		return;
	}
	rs->status = 200;
	rs->type = mime_of(name);
	ks_buf_add(&rs->body, a->data, a->len);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct rv_server *s = cls;
	struct conn *cn = *con_cls;
	(void)version;
	if (!cn) {
		cn = ks_xcalloc(1, sizeof *cn);
		*con_cls = cn;
		return MHD_YES;
	}
	if (*upload_size) {
		if (cn->body.len + *upload_size > MAX_BODY)
			cn->too_big = 1;
		else
			ks_buf_add(&cn->body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}

	struct rv_resp rs = {.status = 200};
	struct rv_session sess;
	const char *token = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "ks_session");
	int have = token && rv_session_get(s, token, &sess) == KS_OK;
	int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;

	if (cn->too_big) {
		rv_error(&rs, 413, "request body too large");
	} else if (get && strcmp(url, "/login") == 0) {
		asset(&rs, "login.html");
	} else if (get &&
		   (strcmp(url, "/static/login.js") == 0 || strcmp(url, "/static/style.css") == 0 ||
		    strcmp(url, "/static/favicon.svg") == 0)) {
		asset(&rs, url + strlen("/static/"));
	} else if (strncmp(url, "/api/", 5) == 0) {
		char client[64];
		client_text(c, client, sizeof client);
		struct rv_req rq = {
		    .srv = s,
		    .method = method,
		    .path = url,
		    .conn = c,
		    .sess = have ? &sess : NULL,
		    .body = (const char *)cn->body.data,
		    .body_len = cn->body.len,
		    .client = client,
		};
		rv_api(&rq, &rs);
	} else if (!have) {
		if (get && strcmp(url, "/") == 0) {
			rs.status = 303;
			ks_buf_adds(&rs.body, "see /login");
			rs.type = "text/plain; charset=utf-8";
		} else {
			rv_error(&rs, 401, "log in first");
		}
	} else if (get && strcmp(url, "/") == 0) {
		asset(&rs, "app.html");
	} else if (get && strncmp(url, "/static/", 8) == 0) {
		asset(&rs, url + 8);
	} else {
		rv_error(&rs, 404, "not found");
	}
	enum MHD_Result ret = respond(c, s, &rs);
	ks_buf_release(&rs.body);
	return ret;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	(void)toe;
	struct conn *cn = *con_cls;
	if (cn) {
		ks_buf_release(&cn->body);
		free(cn);
		*con_cls = NULL;
	}
}

/* Parses "ADDR:PORT" / "[V6]:PORT" into a socket address; *loopback says whether the
 * address is a loopback one. */
static int parse_listen(const char *text, struct sockaddr_storage *ss, int *v6, int *loopback,
			struct ks_err *err)
{
	char host[128];
	const char *colon;
	memset(ss, 0, sizeof *ss);
	if (text[0] == '[') {
		const char *end = strchr(text, ']');
		if (!end || end[1] != ':' || (size_t)(end - text - 1) >= sizeof host)
			return ks_err_set(err, KS_E_USAGE, "listen: expected [ADDRESS]:PORT");
		memcpy(host, text + 1, (size_t)(end - text - 1));
		host[end - text - 1] = '\0';
		colon = end + 1;
	} else {
		colon = strrchr(text, ':');
		if (!colon || (size_t)(colon - text) >= sizeof host)
			return ks_err_set(err, KS_E_USAGE, "listen: expected ADDRESS:PORT");
		memcpy(host, text, (size_t)(colon - text));
		host[colon - text] = '\0';
	}
	char *end;
	errno = 0;
	long port = strtol(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || port < 0 || port > 65535)
		return ks_err_set(err, KS_E_USAGE, "listen: bad port in %s", text);
	if (strcmp(host, "localhost") == 0)
		snprintf(host, sizeof host, "127.0.0.1");
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		*v6 = 0;
		*loopback = (ntohl(a4->sin_addr.s_addr) >> 24) == 127;
	} else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*v6 = 1;
		*loopback = IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr);
	} else {
		return ks_err_set(err, KS_E_USAGE, "listen: %s is not an IP address", host);
	}
	return KS_OK;
}

static char *slurp(const char *path, struct ks_err *err)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		ks_err_set(err, KS_E_ENV, "%s: %s", path, strerror(errno));
		return NULL;
	}
	struct ks_buf b = {0};
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && b.len < (1 << 20))
		ks_buf_add(&b, chunk, n);
	fclose(f);
	if (!b.len) {
		ks_err_set(err, KS_E_USAGE, "%s is empty", path);
		ks_buf_release(&b);
		return NULL;
	}
	return ks_buf_take(&b);
}

static void regroup(struct rv_server *s)
{
	struct ks_err err = {0};
	struct ks_review_group_stats gs;
	pthread_mutex_lock(&s->store_lock);
	if (ks_review_group_update(s->st, s->threshold, 0, &gs, &err) != KS_OK)
		ks_log(KS_LOG_WARN, "review: grouping: %s", err.msg);
	else if (gs.placed || gs.known)
		ks_log(KS_LOG_INFO,
		       "review: %lld media placed (%lld joined a group), %lld left the"
		       " queue through hash sets",
		       (long long)gs.placed, (long long)gs.joined, (long long)gs.known);
	pthread_mutex_unlock(&s->store_lock);
}

int ks_review_serve(const char *case_dir, const struct ks_review_opts *o,
		    volatile sig_atomic_t *stop, struct ks_err *err)
{
	struct rv_server *s = ks_xcalloc(1, sizeof *s);
	struct MHD_Daemon *d = NULL;
	char *cert = NULL, *key = NULL;
	struct sockaddr_storage ss;
	int v6 = 0, loopback = 0, rc;
	struct ks_case_meta meta;

	pthread_mutex_init(&s->store_lock, NULL);
	pthread_mutex_init(&s->sess_lock, NULL);
	pthread_mutex_init(&s->hash_lock, NULL);
	s->o = o;
	s->threshold = o->threshold > 0 ? o->threshold : KS_REVIEW_DEFAULT_THRESHOLD;
	s->break_minutes = o->break_minutes > 0 ? o->break_minutes : 45;
	s->idle_minutes = o->idle_minutes > 0 ? o->idle_minutes : 30;
	if ((rc = parse_listen(o->listen ? o->listen : "127.0.0.1:8443", &ss, &v6, &loopback, err)))
		goto out;
	if (!o->tls_cert != !o->tls_key) {
		rc = ks_err_set(err, KS_E_USAGE, "TLS needs both a certificate and a key");
		goto out;
	}
	s->tls = o->tls_cert != NULL;
	if (!loopback && !s->tls && !o->insecure) {
		rc = ks_err_set(err, KS_E_USAGE,
				"refusing plain HTTP on a non-loopback address: give --tls-cert and"
				" --tls-key, or --insecure");
		goto out;
	}
	if (s->tls && (!(cert = slurp(o->tls_cert, err)) || !(key = slurp(o->tls_key, err)))) {
		rc = err->status;
		goto out;
	}
	if ((rc = ks_store_open(case_dir, 0, &s->st, err)) != KS_OK)
		goto out;
	if ((rc = ks_store_get_case(s->st, &meta, err)) != KS_OK)
		goto out;
	snprintf(s->scheme_name, sizeof s->scheme_name, "%s", meta.scheme);
	s->scheme = ks_scheme_find(meta.scheme);
	if (!s->scheme) {
		rc = ks_err_set(err, KS_E_UNSUPPORTED, "the case's scheme %s is unknown",
				meta.scheme);
		goto out;
	}
	if ((rc = rv_auth_init(s, err)) != KS_OK)
		goto out;
	if ((rc = ks_review_group_update(s->st, s->threshold, 1, NULL, err)) != KS_OK)
		goto out;

	unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
	if (v6)
		flags |= MHD_USE_IPv6;
	if (s->tls)
		flags |= MHD_USE_TLS;
	struct MHD_OptionItem tls_opts[] = {
	    {MHD_OPTION_HTTPS_MEM_CERT, 0, cert},
	    {MHD_OPTION_HTTPS_MEM_KEY, 0, key},
	    {MHD_OPTION_END, 0, NULL},
	};
	d = MHD_start_daemon(
	    flags, 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)4, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)256, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
	    (void *)s, MHD_OPTION_ARRAY, s->tls ? tls_opts : &tls_opts[2], MHD_OPTION_END);
	if (!d) {
		rc = ks_err_set(err, KS_E_ENV,
				"cannot listen on %s (in use, or not an address of"
				" this machine?)",
				o->listen ? o->listen : "127.0.0.1:8443");
		goto out;
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	char host[INET6_ADDRSTRLEN] = "127.0.0.1", url[160];
	if (v6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, host, sizeof host);
	else
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host, sizeof host);
	snprintf(url, sizeof url, "%s://%s%s%s:%u/", s->tls ? "https" : "http", v6 ? "[" : "", host,
		 v6 ? "]" : "", di ? (unsigned)di->port : 0u);
	if (o->ready)
		o->ready(o->ready_ctx, url);

	double last_group = ks_time_mono(), last_flush = last_group;
	while (!*stop) {
		usleep(200 * 1000);
		double now = ks_time_mono();
		if (now - last_flush >= FLUSH_SECONDS) {
			pthread_mutex_lock(&s->store_lock);
			rv_sessions_flush(s);
			pthread_mutex_unlock(&s->store_lock);
			last_flush = now;
		}
		if (now - last_group >= REGROUP_SECONDS) {
			regroup(s);
			last_group = ks_time_mono();
		}
	}
	rc = KS_OK;
out:
	if (d)
		MHD_stop_daemon(d);
	if (s->st) {
		rv_sessions_flush(s);
		ks_store_close(s->st);
	}
	if (key) {
		memset(key, 0, strlen(key));
		free(key);
	}
	free(cert);
	pthread_mutex_destroy(&s->store_lock);
	pthread_mutex_destroy(&s->sess_lock);
	pthread_mutex_destroy(&s->hash_lock);
	free(s);
	return rc;
}
