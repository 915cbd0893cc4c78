# korcluster -- see README.md
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
DATADIR ?= $(PREFIX)/share/korcluster
MANDIR ?= $(PREFIX)/share/man
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
DESTDIR ?=
PKG_CONFIG ?= pkg-config
VERSION = 0.1.0

PKGS = libcurl jansson libarchive libmariadb inih
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

# Installs what the tests need (Debian packages, a Docker engine, the test
# images), then runs unit and integration tests; ends with "N passed, N failed".
check:
	tests/setup.sh
	$(MAKE) korcluster unit
	tests/run.sh

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

.PHONY: all unit check demo install uninstall clean
