# korcluster -- see README.md
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
DATADIR ?= $(PREFIX)/share/korcluster
MANDIR ?= $(PREFIX)/share/man
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
DESTDIR ?=
PKG_CONFIG ?= pkg-config
VERSION = 0.1.0

PKGS = libcurl jansson libarchive libmariadb inih libsodium
# Development builds stop on any warning; packagers may set WERROR=.
WERROR ?= -Werror
SANITIZE ?=

KC_CFLAGS = -std=c11 -D_GNU_SOURCE -pthread -Wall -Wextra $(WERROR) -O2 -g \
	-DKC_VERSION='"$(VERSION)"' -DKC_DATADIR='"$(DATADIR)"' \
	$(shell $(PKG_CONFIG) --cflags $(PKGS))
KC_LIBS = $(shell $(PKG_CONFIG) --libs $(PKGS)) -pthread
ifneq ($(SANITIZE),)
KC_CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer
KC_LDFLAGS += -fsanitize=$(SANITIZE)
endif
# User CFLAGS/LDFLAGS come after ours so they win.
ALL_CFLAGS = $(KC_CFLAGS) $(CPPFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(KC_LDFLAGS) $(LDFLAGS)

# Objects are rebuilt when the flags change (PREFIX, SANITIZE, CFLAGS...).
FLAGS_STAMP = .build-flags
$(shell echo '$(ALL_CFLAGS) $(ALL_LDFLAGS)' | cmp -s - $(FLAGS_STAMP) || echo '$(ALL_CFLAGS) $(ALL_LDFLAGS)' > $(FLAGS_STAMP))

COMMON = $(patsubst %.c,%.o,$(wildcard common/*.c))
TABLES = cluster.o instance.o
OBJS = korcluster.o $(TABLES) $(COMMON)
UNIT = $(patsubst %.c,%,$(wildcard tests/unit/test_*.c))

all: korcluster korcluster.1 korcluster.bash

korcluster: $(OBJS) $(FLAGS_STAMP)
	$(CC) $(ALL_LDFLAGS) -o $@ $(OBJS) $(KC_LIBS)

%.o: %.c $(wildcard common/*.h) korcluster.h Makefile $(FLAGS_STAMP)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# The manual page and the bash completion are made from the command tables.
korcluster.1: korcluster
	./korcluster man > $@.tmp && mv $@.tmp $@

korcluster.bash: korcluster
	./korcluster completion bash > $@.tmp && mv $@.tmp $@

TEST_CFLAGS = $(ALL_CFLAGS) $(shell $(PKG_CONFIG) --cflags cmocka)
TEST_LIBS = $(KC_LIBS) $(shell $(PKG_CONFIG) --libs cmocka)

tests/unit/test_%: tests/unit/test_%.c tests/unit/check.h $(COMMON)
	$(CC) $(TEST_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(COMMON) $(TEST_LIBS)

# test_cli checks the real command tables.
tests/unit/test_cli: tests/unit/test_cli.c tests/unit/check.h $(TABLES) $(COMMON)
	$(CC) $(TEST_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(TABLES) $(COMMON) $(TEST_LIBS)

unit: $(UNIT)

# Fuzzing (tests/fuzz/): one libFuzzer harness per reader of outside input.
# "make fuzz" builds them with clang and runs each FUZZ_SECONDS on a copy of
# its seed corpus (tests/fuzz/corpus/TARGET), new inputs and crashes under
# tests/fuzz/build/; "make fuzz-replay" builds them with $(CC) and a main()
# that runs every seed once, as "make check" does.
FUZZ_TARGETS = $(sort $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c)))
FUZZ_DIR = tests/fuzz/build
FUZZ_SECONDS ?= 60
FUZZ_CC ?= clang
FUZZ_FLAGS ?= -rss_limit_mb=2048 -timeout=25 -fork=0 -print_final_stats=1
FUZZ_SAN = -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS = -std=c11 -D_GNU_SOURCE -pthread -Wall -Wextra -O1 -g \
	-DKC_VERSION='"$(VERSION)"' -DKC_DATADIR='"$(DATADIR)"' \
	$(shell $(PKG_CONFIG) --cflags $(PKGS))
FUZZ_HDRS = $(wildcard common/*.h) tests/fuzz/fuzz.h
FUZZ_LF = $(patsubst common/%.c,$(FUZZ_DIR)/lf/%.o,$(wildcard common/*.c))
FUZZ_RP = $(patsubst common/%.c,$(FUZZ_DIR)/rp/%.o,$(wildcard common/*.c))
# Kept between builds (make would remove them as intermediate files).
.SECONDARY: $(FUZZ_LF) $(FUZZ_RP)

$(FUZZ_DIR)/lf/%.o: common/%.c $(FUZZ_HDRS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(FUZZ_SAN) -c -o $@ $<

# A library: each harness takes the modules it uses.
$(FUZZ_DIR)/lf.a: $(FUZZ_LF)
	rm -f $@ && $(AR) rcs $@ $(FUZZ_LF)

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_HDRS) $(FUZZ_DIR)/lf.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $< $(FUZZ_DIR)/lf.a $(KC_LIBS)

$(FUZZ_DIR)/rp/%.o: common/%.c $(FUZZ_HDRS)
	@mkdir -p $(@D)
	$(CC) $(FUZZ_CFLAGS) $(WERROR) $(FUZZ_SAN) -c -o $@ $<

$(FUZZ_DIR)/rp.a: $(FUZZ_RP)
	rm -f $@ && $(AR) rcs $@ $(FUZZ_RP)

$(FUZZ_DIR)/replay-%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(FUZZ_HDRS) $(FUZZ_DIR)/rp.a
	$(CC) $(FUZZ_CFLAGS) $(WERROR) $(FUZZ_SAN) -DFUZZ_TARGET='"fuzz_$*"' -o $@ $< tests/fuzz/replay.c \
		$(FUZZ_DIR)/rp.a $(KC_LIBS)

# fuzz_snapshot runs fuzz_archive's checks.
$(FUZZ_DIR)/fuzz_snapshot $(FUZZ_DIR)/replay-snapshot: tests/fuzz/fuzz_archive.c

fuzz: $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%)
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p $(FUZZ_DIR)/corpus/$$t $(FUZZ_DIR)/crashes/$$t; \
		case $$t in archive) len=20000 ;; *) len=4096 ;; esac; \
		echo "== fuzz_$$t: $(FUZZ_SECONDS) s"; \
		$(FUZZ_DIR)/fuzz_$$t $(FUZZ_FLAGS) -max_len=$$len -max_total_time=$(FUZZ_SECONDS) \
			-artifact_prefix=$(FUZZ_DIR)/crashes/$$t/ $(FUZZ_DIR)/corpus/$$t tests/fuzz/corpus/$$t \
			2>$(FUZZ_DIR)/fuzz_$$t.log; \
		grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|==[0-9]+==ERROR|fuzz: )' $(FUZZ_DIR)/fuzz_$$t.log; \
		for c in $(FUZZ_DIR)/crashes/$$t/*; do [ -f "$$c" ] && echo "crash: $$c"; done; \
	done; true

fuzz-replay: $(FUZZ_TARGETS:%=$(FUZZ_DIR)/replay-%)

# Every seed once; one TAP line per target.
fuzz-run-replay: fuzz-replay
	@n=0; for t in $(FUZZ_TARGETS); do n=$$((n + 1)); \
		$(FUZZ_DIR)/replay-$$t -n $$n tests/fuzz/corpus/$$t || echo "not ok $$n fuzz_$$t: exit $$?"; \
	done

# Installs what the tests need (Debian packages, a Docker engine, the test
# images), then runs unit and integration tests; ends with "N passed, N failed".
check:
	tests/setup.sh
	$(MAKE) -j$(shell nproc) korcluster unit fuzz-replay
	tests/run.sh

# Static analysis of the product's sources: clang's analyzer (scan-build)
# and cppcheck; fails on any finding.  Compiles to /dev/null, so the build's
# objects stay as they are.
ANALYZE_SRC = korcluster.c $(TABLES:.o=.c) $(wildcard common/*.c)
ANALYZE_DIR = .analyze

analyze:
	rm -rf $(ANALYZE_DIR)
	scan-build --status-bugs -o $(ANALYZE_DIR) $(MAKE) -s analyze-compile
	cppcheck --std=c11 --enable=warning,portability,performance --inline-suppr --error-exitcode=1 -q \
		--suppress=missingIncludeSystem --include=$(shell $(PKG_CONFIG) --variable=includedir jansson)/jansson.h \
		-D_GNU_SOURCE -Icommon $(ANALYZE_SRC)
	rm -rf $(ANALYZE_DIR)

# What scan-build watches: each source compiled once, nothing kept.
analyze-compile:
	printf '%s\n' $(ANALYZE_SRC) | xargs -P 2 -I{} $(CC) $(ALL_CFLAGS) -c -o /dev/null {}

# Every benchmark (bench/), then one table: each measure against its
# baseline measured in the same run, the goal and whether it is met.  Takes
# about 20 minutes; BENCH="instances" runs only that one.
bench:
	tests/setup.sh
	$(MAKE) korcluster
	bench/run.sh

# The main job: a booted cluster of the sample app under ./demo.
demo:
	tests/setup.sh
	$(MAKE) korcluster
	tests/demo.sh

install: korcluster korcluster.1 korcluster.bash
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/templates $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(COMPLETIONDIR)
	install -m 755 korcluster $(DESTDIR)$(BINDIR)/korcluster
	ln -sf korcluster $(DESTDIR)$(BINDIR)/cluster.sh
	ln -sf korcluster $(DESTDIR)$(BINDIR)/instance.sh
	install -m 644 templates/*.ini templates/*.yml $(DESTDIR)$(DATADIR)/templates/
	install -m 644 korcluster.1 $(DESTDIR)$(MANDIR)/man1/korcluster.1
	install -m 644 korcluster.bash $(DESTDIR)$(COMPLETIONDIR)/korcluster
	ln -sf korcluster $(DESTDIR)$(COMPLETIONDIR)/cluster.sh
	ln -sf korcluster $(DESTDIR)$(COMPLETIONDIR)/instance.sh

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/korcluster $(DESTDIR)$(BINDIR)/cluster.sh $(DESTDIR)$(BINDIR)/instance.sh
	rm -f $(DESTDIR)$(MANDIR)/man1/korcluster.1
	rm -f $(DESTDIR)$(COMPLETIONDIR)/korcluster $(DESTDIR)$(COMPLETIONDIR)/cluster.sh \
		$(DESTDIR)$(COMPLETIONDIR)/instance.sh
	rm -rf $(DESTDIR)$(DATADIR)

clean:
	rm -f korcluster korcluster.1 korcluster.bash *.o common/*.o $(UNIT) $(FLAGS_STAMP)
	rm -rf $(FUZZ_DIR)

.PHONY: all unit fuzz fuzz-replay fuzz-run-replay check analyze analyze-compile bench demo install uninstall clean
