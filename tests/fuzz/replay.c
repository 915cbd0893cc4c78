/* replay: runs a fuzz harness's LLVMFuzzerTestOneInput() on every file of
 * the folders given, without libFuzzer, and says so as one TAP line:
 *
 *	fuzz_sql-replay [-n N] DIR...
 *	ok N fuzz_sql: replayed K inputs
 *
 * A failed property (abort) or a sanitizer's report prints "not ok" with
 * the input's name before the process ends. */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

#ifndef FUZZ_TARGET
#define FUZZ_TARGET "fuzz"
#endif

static int number = 1;
static const char *current;

/* Present when built with a sanitizer. */
void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

static void died(void)
{
	fprintf(stdout, "not ok %d %s: failed on %s\n", number, FUZZ_TARGET, current ? current : "(none)");
	fflush(stdout);
}

static void on_signal(int sig)
{
	died();
	signal(sig, SIG_DFL);
	raise(sig);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replay one file; -1 if it cannot be read. */
static int replay(const char *path)
{
	FILE *f = fopen(path, "rb");
	unsigned char *data = NULL;
	size_t n = 0, cap = 0;

	if (!f)
		return -1;
	for (;;) {
		size_t got;

		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			if (!(data = realloc(data, cap)))
				abort();
		}
		got = fread(data + n, 1, cap - n, f);
		if (got == 0)
			break;
		n += got;
	}
	if (ferror(f)) {
		fclose(f);
		free(data);
		return -1;
	}
	fclose(f);
	current = path;
	LLVMFuzzerTestOneInput(data, n);
	current = NULL;
	free(data);
	return 0;
}

int main(int argc, char **argv)
{
	int i = 1, count = 0;

	if (i + 1 < argc && strcmp(argv[i], "-n") == 0) {
		number = atoi(argv[i + 1]);
		i += 2;
	}
	if (__sanitizer_set_death_callback)
		__sanitizer_set_death_callback(died);
	signal(SIGABRT, on_signal);
	signal(SIGSEGV, on_signal);
	signal(SIGBUS, on_signal);
	for (; i < argc; i++) {
		DIR *d = opendir(argv[i]);
		struct dirent *e;
		char **names = NULL;
		size_t nn = 0;

		if (!d) {
			printf("not ok %d %s: cannot open %s\n", number, FUZZ_TARGET, argv[i]);
			return 1;
		}
		while ((e = readdir(d))) {
			if (e->d_name[0] == '.')
				continue;
			if (!(names = realloc(names, (nn + 1) * sizeof *names)))
				abort();
			if (asprintf(&names[nn++], "%s/%s", argv[i], e->d_name) < 0)
				abort();
		}
		closedir(d);
		qsort(names, nn, sizeof *names, by_name);
		for (size_t k = 0; k < nn; k++) {
			struct stat st;

			if (stat(names[k], &st) == 0 && S_ISREG(st.st_mode)) {
				if (replay(names[k]) < 0) {
					printf("not ok %d %s: cannot read %s\n", number, FUZZ_TARGET, names[k]);
					return 1;
				}
				count++;
			}
			free(names[k]);
		}
		free(names);
	}
	printf("ok %d %s: replayed %d inputs\n", number, FUZZ_TARGET, count);
	return 0;
}
