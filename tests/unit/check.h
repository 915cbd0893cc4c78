/* Helpers of the unit tests for functions that return errors (err.h). */
#ifndef KC_TEST_CHECK_H
#define KC_TEST_CHECK_H

#include "../../common/err.h"

/* The last error FAILS() saw. */
static const struct error *check_err;

/* x must work; if not, its message says why. */
#define OK(x)                                                                 \
	do {                                                                  \
		const struct error *e_ = (x);                                 \
		if (e_)                                                       \
			fail_msg("%s failed: %s", #x, e_->msg);               \
	} while (0)
/* x must fail; its error is kept for last_msg(). */
#define FAILS(x)                                                              \
	do {                                                                  \
		if (!(check_err = (x)))                                       \
			fail_msg("%s worked", #x);                            \
	} while (0)

static inline const char *last_msg(void)
{
	return check_err ? check_err->msg : "";
}

#endif
