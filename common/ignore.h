/* ignore: which paths of a build context a .dockerignore leaves out, read
 * as the docker CLI reads it.
 *
 * One pattern a line; "#" starts a comment line; blanks around a pattern
 * do not count; "!" in front makes an exception (the last pattern that
 * matches a path decides).  A pattern is cleaned like a path ("./a//b/" is
 * "a/b", a leading "/" goes) and matched against the path relative to the
 * context: "*" is any run of characters but "/", "?" one of them, "[...]"
 * a class ("[^...]" the others), "\" takes the next character as it is,
 * "**" any run of path parts.  A pattern that matches a folder matches
 * everything in it. */
#ifndef KC_IGNORE_H
#define KC_IGNORE_H

#include "err.h"
#include "strv.h"

struct ignore {
	struct strv pat;     /* cleaned patterns, "!" kept in front of exceptions */
	int exceptions;      /* whether any pattern is an exception */
};

#define IGNORE_INIT {STRV_INIT, 0}

/* Read the text of a .dockerignore into ig. */
void ignore_load(struct ignore *ig, const char *text);
/* 1 if path (relative, cleaned, "/"-separated) is left out. */
int ignore_match(const struct ignore *ig, const char *path);
/* Whether the glob pattern matches all of name ("**" included). */
int ignore_glob(const char *pattern, const char *name);
void ignore_free(struct ignore *ig);

#endif
