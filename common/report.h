/* report: everything korcluster says, and the only module that writes to
 * stdout or stderr.  Library modules call these; main() sets the mode.
 *
 *   report_line()      what is being done or was done: a line on stdout
 *   report_note()      a line on stdout from korcluster itself
 *                      ("korcluster: ..."), e.g. what a recovery did
 *   report_warn()      "korcluster: warning: ..." on stderr
 *   report_progress()  one updating status line on a terminal; elsewhere a
 *                      line every 10 s of a long wait, so logs show it
 *   report_output()    a container's own output, passed through
 *   report_section()   a block quoted on stderr ("--- title:" ... "---")
 *   report_json()      a result as JSON on stdout (--json)
 *   report_text()      text as it is (tables, help) on stdout or stderr
 *   report_error()     the command's error, once: "korcluster: <msg>"
 *
 * With report_quiet(1), lines and progress are not shown; warnings,
 * sections, results and errors are. */
#ifndef KC_REPORT_H
#define KC_REPORT_H

#include <jansson.h>
#include <stddef.h>

#include "err.h"

#define REPORT_PRINTF(f, a) __attribute__((format(printf, f, a)))

enum report_stream { REPORT_STDOUT = 1, REPORT_STDERR = 2 };

void report_quiet(int quiet);
void report_line(const char *fmt, ...) REPORT_PRINTF(1, 2);
void report_note(const char *fmt, ...) REPORT_PRINTF(1, 2);
void report_warn(const char *fmt, ...) REPORT_PRINTF(1, 2);
/* 1 if stdout is a terminal (the progress line is shown). */
int report_tty(void);
void report_progress(const char *fmt, ...) REPORT_PRINTF(1, 2);
/* Clear the status line (terminal only). */
void report_progress_clear(void);
void report_output(enum report_stream to, const char *data, size_t len);
void report_section(const char *title, const char *text, size_t len);
void report_json(const json_t *v);
void report_text(enum report_stream to, const char *fmt, ...) REPORT_PRINTF(2, 3);
void report_error(const struct error *e);
/* "korcluster: out of memory", exit 1. */
void report_out_of_memory(void) __attribute__((noreturn));

#endif
