/* Fuzz target for the report's text escaping: any bytes (names from hostile evidence)
 * must come out of ks_json_add_string as one valid JSON string that yajl accepts,
 * out of the HTML escaper with no markup characters left, and out of the CSV escaper
 * as one well-formed RFC 4180 field. Aborts on any violation. */
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "../src/report/report_impl.h"

static void check_utf8(const struct ks_buf *b)
{
	for (size_t i = 0; i < b->len;) {
		uint32_t cp;
		size_t n = ks_utf8_next(b->data + i, b->len - i, &cp);
		if (cp == 0xfffd && n == 1)
			abort(); /* the escapers must never let invalid UTF-8 through */
		i += n;
	}
}

static int has(const struct ks_buf *b, int c)
{
	return b->len && memchr(b->data, c, b->len) != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0'; /* names are C strings: the first NUL ends them */

	struct ks_buf b = {0};
	ks_buf_adds(&b, "[");
	ks_json_add_string(&b, s);
	ks_buf_adds(&b, "]");
	check_utf8(&b);
	char eb[128];
	yajl_val v = yajl_tree_parse((const char *)b.data, eb, sizeof eb);
	if (!v || !YAJL_IS_ARRAY(v) || YAJL_GET_ARRAY(v)->len != 1 ||
	    !YAJL_IS_STRING(YAJL_GET_ARRAY(v)->values[0]))
		abort();
	/* valid UTF-8 input round-trips unchanged */
	int valid = 1;
	for (size_t i = 0; i < strlen(s);) {
		uint32_t cp;
		size_t n = ks_utf8_next((const uint8_t *)s + i, strlen(s) - i, &cp);
		if (cp == 0xfffd && n == 1)
			valid = 0;
		i += n;
	}
	const char *back = YAJL_GET_STRING(YAJL_GET_ARRAY(v)->values[0]);
	if (!back || (valid && strcmp(back, s) != 0))
		abort();
	yajl_tree_free(v);

	ks_buf_reset(&b);
	ks_html_add(&b, s);
	check_utf8(&b);
	if (has(&b, '<') || has(&b, '>') || has(&b, '"') || has(&b, '\''))
		abort();

	ks_buf_reset(&b);
	ks_csv_add(&b, s, 1);
	check_utf8(&b);
	if (b.len && b.data[0] == '"') {
		/* quoted: ends in a quote, and inside every quote is doubled */
		if (b.len < 2 || b.data[b.len - 1] != '"')
			abort();
		for (size_t i = 1; i + 1 < b.len; i++) {
			if (b.data[i] == '"') {
				if (b.data[i + 1] != '"' || i + 2 >= b.len)
					abort();
				i++;
			}
		}
	} else if (has(&b, ',') || has(&b, '\n') || has(&b, '\r') || has(&b, '"')) {
		abort();
	}
	ks_buf_release(&b);
	free(s);
	return 0;
}
