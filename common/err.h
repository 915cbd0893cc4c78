/* err: the one error message of a failed command.
 *
 * A function that fails sets the reason with err_set()/err_errno() and
 * returns -1; a caller that knows what was being done adds it in front with
 * err_wrap().  main() prints the result once as "korcluster: <what>: <why>".
 * The message is one line: control characters in it become blanks. */
#ifndef KC_ERR_H
#define KC_ERR_H

#include <stdarg.h>

#define KC_OK 0
#define KC_FAIL 1
#define KC_USAGE 2
#define KC_UNKNOWN 127
/* A command's own exit code to pass through silently (instance.sh run). */
#define KC_EXIT(code) (0x100 | ((code) & 0xff))

int err_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Like err_set() with ": strerror(errno)" appended. */
int err_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prefix the current message with "<what>: ". */
int err_wrap(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Append ": <more>" to the current message. */
int err_wrap_after(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *err_msg(void);
void err_clear(void);

#endif
