/* Category schemes as data (DESIGN.md "Categories"): the UK Sentencing Council scheme,
 * Project VIC US, and the legacy DHS numbering that imports map onto VICS US. Every
 * category is stored as (scheme, code); "uncategorised" is the absence of one. */
#ifndef KESTREL_CATEGORY_H
#define KESTREL_CATEGORY_H

struct ks_category {
	const char *code;  /* stored form: "A", "B", "C", "N" / "0".."4" */
	const char *label; /* "Category A", "Non-pertinent" … */
	int severity;      /* order for "most serious wins"; 0 = not pertinent */
};

struct ks_scheme {
	const char *name;  /* "uk", "vics-us" */
	const char *title;
	const struct ks_category *cats;
	int ncats;
};

/* The built-in schemes that categories are stored in (not "dhs": see below). */
const struct ks_scheme *ks_scheme_find(const char *name);
const struct ks_scheme *ks_scheme_at(int i); /* NULL past the end; for listing */
const struct ks_category *ks_scheme_category(const struct ks_scheme *s, const char *code);

/* Maps a category as written in an imported file, under the numbering the user
 * declared (import_scheme: "uk", "vics-us" or "dhs"), to the stored form. Accepts
 * numbers and names ("1", "A", "cat a", "CAM", "non-pertinent"…). Sets *scheme_out
 * to the stored scheme's name ("dhs" maps onto "vics-us") and *code_out to the code,
 * or *code_out = NULL for "uncategorised" (DHS 0, null, empty). Returns 0, or -1 if
 * the value is not a category of that numbering. UK numbers are kestrel's own
 * convention (1=A 2=B 3=C 0=not indecent; the CAID codes are not public). */
int ks_category_map(const char *import_scheme, const char *value, const char **scheme_out,
		    const char **code_out);

#endif
