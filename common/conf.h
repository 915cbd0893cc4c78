/* conf: INI files read with inih, keeping the line of every entry so that
 * validation can say "file:line: message". */
#ifndef KC_CONF_H
#define KC_CONF_H

#include <stddef.h>

#include "err.h"
#include "strv.h"

struct conf_entry {
	char *section, *key, *value; /* owned */
	int line;
	int used; /* set by conf_get(): unknown keys are the unused ones */
};

struct conf_section {
	char *name; /* owned */
	int line;
};

struct conf {
	char *path; /* owned */
	struct conf_entry *e;
	size_t n, cap;
	struct conf_section *s;
	size_t ns, scap;
};

/* Problems found while validating, one "file:line: message" each. */
struct diag {
	struct strv lines;
};

#define DIAG_INIT {STRV_INIT}

void diag_add(struct diag *d, const char *path, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Order problems by file, then line. */
void diag_sort(struct diag *d);
/* Report every problem (stderr) and return an error if there are any. */
const struct error *diag_report(struct diag *d, const char *what);
void diag_free(struct diag *d);

/* Parse path.  Syntax errors go to d; a file that cannot be read is an
 * error. */
const struct error *conf_load(struct conf *c, const char *path, struct diag *d);
/* Parse text held in memory (for tests); path is only used in messages. */
void conf_load_string(struct conf *c, const char *path, const char *text, struct diag *d);
/* The entry, marked used; NULL if absent. */
struct conf_entry *conf_get(struct conf *c, const char *section, const char *key);
const char *conf_value(struct conf *c, const char *section, const char *key);
/* The value, without marking it used (for a loaded, checked file). */
const char *conf_peek(const struct conf *c, const char *section, const char *key);
/* Line of the section header, 0 if the section is absent. */
int conf_section_line(const struct conf *c, const char *section);
/* Report every entry that no conf_get() asked for. */
void conf_unknown(struct conf *c, struct diag *d);
void conf_free(struct conf *c);

#endif
