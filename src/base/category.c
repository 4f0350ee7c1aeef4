/* The built-in category schemes and the import-numbering maps (see category.h). The
 * tables are the single source of truth: reports, the review UI and importers all
 * read them. */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "kestrel/category.h"

static const struct ks_category uk_cats[] = {
	{"A", "Category A", 3},
	{"B", "Category B", 2},
	{"C", "Category C", 1},
	{"N", "Not indecent", 0},
};

static const struct ks_category vics_cats[] = {
	{"1", "Child abuse material", 4},
	{"2", "Child exploitive / age difficult", 3},
	{"3", "CGI / animation", 2},
	{"4", "Comparison", 1},
	{"0", "Non-pertinent", 0},
};

static const struct ks_scheme schemes[] = {
	{"uk", "UK Sentencing Council (2014)", uk_cats, 4},
	{"vics-us", "Project VIC US", vics_cats, 5},
};

const struct ks_scheme *ks_scheme_at(int i)
{
	if (i < 0 || i >= (int)(sizeof schemes / sizeof schemes[0]))
		return NULL;
	return &schemes[i];
}

const struct ks_scheme *ks_scheme_find(const char *name)
{
	for (const struct ks_scheme *s = schemes; s < schemes + sizeof schemes / sizeof schemes[0]; s++)
		if (name && strcmp(s->name, name) == 0)
			return s;
	return NULL;
}

const struct ks_category *ks_scheme_category(const struct ks_scheme *s, const char *code)
{
	if (!s || !code)
		return NULL;
	for (int i = 0; i < s->ncats; i++)
		if (strcmp(s->cats[i].code, code) == 0)
			return &s->cats[i];
	return NULL;
}

/* One row per accepted spelling: numbering, value (case-insensitive), stored code. */
struct alias {
	const char *numbering, *value, *code;
};

static const struct alias aliases[] = {
	{"uk", "1", "A"}, {"uk", "2", "B"}, {"uk", "3", "C"}, {"uk", "0", "N"},
	{"uk", "a", "A"}, {"uk", "b", "B"}, {"uk", "c", "C"}, {"uk", "n", "N"},
	{"uk", "cat a", "A"}, {"uk", "cat b", "B"}, {"uk", "cat c", "C"},
	{"uk", "category a", "A"}, {"uk", "category b", "B"}, {"uk", "category c", "C"},
	{"uk", "not indecent", "N"}, {"uk", "not-indecent", "N"}, {"uk", "nii", "N"},
	{"uk", "uncategorised", NULL}, {"uk", "uncategorized", NULL},
	{"vics-us", "0", "0"}, {"vics-us", "1", "1"}, {"vics-us", "2", "2"},
	{"vics-us", "3", "3"}, {"vics-us", "4", "4"},
	{"vics-us", "non-pertinent", "0"}, {"vics-us", "cam", "1"},
	{"vics-us", "child abuse material", "1"}, {"vics-us", "child exploitive", "2"},
	{"vics-us", "age difficult", "2"}, {"vics-us", "cgi", "3"}, {"vics-us", "animation", "3"},
	{"vics-us", "comparison", "4"}, {"vics-us", "uncategorised", NULL},
	{"vics-us", "uncategorized", NULL},
	/* legacy DHS / old Autopsy: 0 uncategorised … 5 non-pertinent */
	{"dhs", "0", NULL}, {"dhs", "1", "1"}, {"dhs", "2", "2"}, {"dhs", "3", "3"},
	{"dhs", "4", "4"}, {"dhs", "5", "0"},
};

int ks_category_map(const char *import_scheme, const char *value, const char **scheme_out,
		    const char **code_out)
{
	const char *stored = import_scheme && strcmp(import_scheme, "dhs") == 0 ? "vics-us" : import_scheme;
	if (!ks_scheme_find(stored))
		return -1;
	*scheme_out = ks_scheme_find(stored)->name;
	*code_out = NULL;
	if (!value)
		return 0;
	while (isspace((unsigned char)*value))
		value++;
	size_t n = strlen(value);
	while (n && isspace((unsigned char)value[n - 1]))
		n--;
	if (n == 0 || (n == 4 && strncasecmp(value, "null", 4) == 0))
		return 0;
	for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++) {
		if (strcmp(aliases[i].numbering, import_scheme) == 0 &&
		    strlen(aliases[i].value) == n && strncasecmp(aliases[i].value, value, n) == 0) {
			*code_out = aliases[i].code;
			return 0;
		}
	}
	return -1;
}
