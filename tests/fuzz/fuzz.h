/* fuzz: what the harnesses share.
 *
 * Each fuzz_TARGET.c defines LLVMFuzzerTestOneInput(), run by libFuzzer
 * ("make fuzz") or by replay.c over a corpus ("make fuzz-replay").  An
 * input is split into parts at FUZZ_SEP where a harness needs several
 * texts (a file and the names to look up in it...).  Errors made while
 * running one input are released after it: err.c keeps them otherwise. */
#ifndef KC_FUZZ_H
#define KC_FUZZ_H

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#define FUZZ_SEP "\n%%\n"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property does not hold: say which and stop (libFuzzer keeps the input). */
#define FUZZ_ASSERT(cond, ...)                                                  \
	do {                                                                    \
		if (!(cond)) {                                                  \
			fprintf(stderr, "fuzz: property failed: %s: ", #cond); \
			fprintf(stderr, __VA_ARGS__);                           \
			fputc('\n', stderr);                                    \
			abort();                                                \
		}                                                               \
	} while (0)

/* The next part of [*p, end) up to FUZZ_SEP (or the end), NUL-terminated
 * and owned by the caller; *p moves past it.  NULL once nothing is left. */
static inline char *fuzz_part(const char **p, const char *end)
{
	const char *s = *p, *e;
	char *out;

	if (!s || s > end)
		return NULL;
	e = memmem(s, (size_t)(end - s), FUZZ_SEP, strlen(FUZZ_SEP));
	if (!e)
		e = end;
	out = malloc((size_t)(e - s) + 1);
	if (!out)
		abort();
	memcpy(out, s, (size_t)(e - s));
	out[e - s] = '\0';
	*p = e == end ? end + 1 : e + strlen(FUZZ_SEP);
	return out;
}

static inline int fuzz_rm(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)f;
	if (flag == FTW_DP)
		chmod(path, 0700);
	return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

/* Remove the tree at path (not following links); 0 or -1. */
static inline int fuzz_remove_tree(const char *path)
{
	return nftw(path, fuzz_rm, 16, FTW_DEPTH | FTW_PHYS) < 0 && errno != ENOENT ? -1 : 0;
}

static char fuzz_dir[64];

static inline void fuzz_cleanup(void)
{
	if (fuzz_dir[0])
		fuzz_remove_tree(fuzz_dir);
}

/* A folder of this process's own, made once and removed at exit: the
 * harnesses reuse the same names in it for every input. */
static inline const char *fuzz_tmpdir(void)
{
	char *dir = fuzz_dir;

	if (!dir[0]) {
		const char *t = getenv("TMPDIR");

		snprintf(dir, sizeof fuzz_dir, "%s/kcfuzz.XXXXXX", t && strlen(t) < 40 ? t : "/tmp");
		if (!mkdtemp(dir)) {
			perror("fuzz: mkdtemp");
			abort();
		}
		atexit(fuzz_cleanup);
	}
	return dir;
}

/* Write len bytes to path (replacing it). */
static inline void fuzz_write(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	const char *p = data;

	if (fd < 0) {
		perror(path);
		abort();
	}
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			perror(path);
			abort();
		}
		p += n;
		len -= (size_t)n;
	}
	close(fd);
}

#endif
