/* err: errors as values (got's lib/error.c is the model).
 *
 * A function that can fail returns const struct error *: NULL when it
 * worked, else what went wrong, a code and a one-line message.  Each
 * error is an object of its own, kept until the process ends, so the
 * first error of an operation survives whatever its cleanup does:
 *
 *	const struct error *err, *e;
 *
 *	if ((err = step()))
 *		goto out;
 *	...
 * out:
 *	if ((e = undo()) && !err)	the first error wins
 *		err = e;
 *	return error_wrap(err, "doing it");
 *
 * error_wrap() puts what was being done in front, "doing it: why", and
 * keeps the code (it returns NULL for NULL).  main() hands the command's
 * error to report_error() once.  Control characters in a message become
 * blanks: a message is one line.  Thread-safe. */
#ifndef KC_ERR_H
#define KC_ERR_H

#define ERR_PRINTF(f, a) __attribute__((format(printf, f, a)))
/* Never NULL: out of memory gives a static error. */
#define ERR_NONNULL __attribute__((returns_nonnull))

enum error_code {
	ERR_FAIL = 1,    /* it did not work: exit 1 */
	ERR_USAGE,       /* a bad command line: exit 2 */
	ERR_INTERRUPTED, /* SIGINT or SIGTERM came: exit 1 */
	ERR_BUSY,        /* another command holds the lock: exit 1 */
	ERR_UNKNOWN,     /* no such command: exit 127 */
};

struct error {
	enum error_code code;
	const char *msg;
};

const struct error *error_new(enum error_code code, const char *fmt, ...) ERR_PRINTF(2, 3) ERR_NONNULL;
/* ERR_FAIL. */
const struct error *error_fmt(const char *fmt, ...) ERR_PRINTF(1, 2) ERR_NONNULL;
/* ERR_FAIL, with ": strerror(errno)" after the message. */
const struct error *error_errno(const char *fmt, ...) ERR_PRINTF(1, 2) ERR_NONNULL;
/* "<what>: <e's message>", e's code; NULL if e is NULL. */
const struct error *error_wrap(const struct error *e, const char *fmt, ...) ERR_PRINTF(2, 3);
/* ERR_INTERRUPTED, "interrupted". */
const struct error *error_interrupted(void) ERR_NONNULL;
/* Free every error made so far; main() calls it last. */
void error_release(void);

#endif
