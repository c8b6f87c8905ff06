# fbld: one non-recursive Makefile. Each module lists its sources, unit
# tests and fuzz targets in its own module.mk, included below.
#
#   make            build build/release/fbld, fbld-daemon and fbld-ingest
#                   (installs Debian packages as root)
#   make check      ASan+UBSan+Werror build, then every unit and integration test
#   make run        build and start `fbld serve` with embedded defaults (./var)
#   make fuzz       libFuzzer binaries in build/fuzz (clang)
#   make deps       install the Debian packages (root) or print the apt-get line
#   make install    the three binaries into $(DESTDIR)$(PREFIX)/bin (/usr/local)
#   make format-check / make format

.DEFAULT_GOAL := all
SHELL := /bin/sh

VARIANT ?= release
B := build/$(VARIANT)

PKGS := gmime-3.0 json-glib-1.0 sqlite3 libmicrohttpd libcurl libxml-2.0 \
	milter libetpan libarchive zlib
# What the front end `fbld` links (core/main.c): parse, token, ingest and
# check-config need no more. libxml2 and libarchive, for DMARC reports
# only, are opened at the first one (fbl/dmarc_libs.h).
FRONT_PKGS := gmime-3.0 json-glib-1.0 sqlite3 zlib

WARN := -Wall -Wextra -Wno-unused-parameter -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wformat=2 -Wvla -Wpointer-arith -Wcast-align \
	-Wwrite-strings -Wundef -Wimplicit-fallthrough -Wold-style-definition \
	-Wmissing-declarations -Wredundant-decls

ifeq ($(VARIANT),asan)
CC := gcc
OPT := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=all -Werror
LDOPT := -fsanitize=address,undefined
# ASan's table of each file's globals keeps every function of the file, so
# --gc-sections cannot drop the daemon's code: the front end links all.
FRONT_LIBS = $(PKG_LIBS)
else ifeq ($(VARIANT),fuzz)
CC := clang
OPT := -O1 -g -fno-omit-frame-pointer \
	-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
LDOPT := -fsanitize=fuzzer,address,undefined
WARN := -Wall -Wextra -Wno-unused-parameter
else
CC := gcc
OPT := -O2 -g -D_FORTIFY_SOURCE=2 -fstack-protector-strong
# jemalloc replaces malloc in the release build only: GMime and GLib
# allocate per header and per part, and glibc's malloc and free were a
# quarter of the instructions of `fbld parse` (docs/bounces.md, Speed).
# Sanitizer and fuzz builds keep their own allocator, and fbld-ingest
# (one small allocation-light process per message) the C library's.
# The front end `fbld` (parse: short, one thread) links mimalloc instead:
# about 9% fewer instructions over the corpus than with jemalloc, and
# jemalloc's start-up alone touches about 130 pages.
LDOPT :=
MALLOC_LIBS := -Wl,--push-state,--no-as-needed -ljemalloc -Wl,--pop-state
FRONT_MALLOC_LIBS := -Wl,--push-state,--no-as-needed -lmimalloc -Wl,--pop-state
endif

# Flags of the libraries, computed once after `deps` has run.
-include build/pkg.mk
FRONT_LIBS ?= $(PKG_FRONT_LIBS)
build/pkg.mk: Makefile | deps
	@mkdir -p build
	@{ echo "PKG_CFLAGS := $$(pkg-config --cflags $(PKGS))"; \
	   echo "PKG_LIBS := $$(pkg-config --libs $(PKGS)) -lpthread -lm"; \
	   echo "PKG_FRONT_LIBS := $$(pkg-config --libs $(FRONT_PKGS)) -lpthread -lm"; \
	} > $@.tmp
	@mv $@.tmp $@

FBLD_VERSION := 0.1.0
CPPFLAGS := -I. -D_GNU_SOURCE -DGLIB_VERSION_MIN_REQUIRED=GLIB_VERSION_2_74 \
	-DFBLD_VERSION='"$(FBLD_VERSION)"'
# Sections per function let the front end `fbld` leave out (--gc-sections)
# the code of the subcommands it hands to fbld-daemon, and so the libraries
# that code needs.
CFLAGS := -std=c17 $(WARN) $(OPT) -ffunction-sections -fdata-sections -MMD -MP

# Filled by the module fragments.
LIB_SRCS :=
MAIN_SRCS :=
UNIT_TESTS :=
FUZZ_TARGETS :=
TEST_HELPERS :=

include core/module.mk
include verp/module.mk
-include dsn/module.mk
-include fbl/module.mk
-include tracking/module.mk
-include scoring/module.mk
include tests/module.mk

LIB_OBJS := $(LIB_SRCS:%.c=$(B)/obj/%.o)
MAIN_OBJS := $(MAIN_SRCS:%.c=$(B)/obj/%.o)
LIBFBLD := $(B)/libfbld.a
UNIT_BINS := $(UNIT_TESTS:tests/unit/%.c=$(B)/tests/%)
HELPER_BINS := $(TEST_HELPERS:tests/lib/%.c=$(B)/tests/%)
FUZZ_REPLAY_BINS := $(FUZZ_TARGETS:tests/fuzz/%.c=$(B)/fuzz/replay-%)
FUZZ_BINS := $(FUZZ_TARGETS:tests/fuzz/%.c=build/fuzz/bin/%)

.PHONY: all check run deps deps-test fuzz fuzz-smoke clean format format-check \
	test-bins bench golden install

all: deps $(B)/fbld $(B)/fbld-daemon $(B)/fbld-ingest

deps:
	@./mk/deps.sh mk/packages.build

deps-test:
	@./mk/deps.sh mk/packages.build mk/packages.test

# V=1 shows the full command lines.
ifeq ($(V),1)
Q :=
else
Q := @
endif

# Keep intermediate objects of tests and fuzz targets.
.SECONDARY:

# The flags the objects of this variant were compiled with: when they
# change (an option added here), every object is compiled again instead of
# being linked stale.
FLAGS_NOW := $(CC) $(CPPFLAGS) $(CFLAGS)
ifneq ($(file <$(B)/cflags),$(FLAGS_NOW))
$(shell mkdir -p $(B))
$(file >$(B)/cflags,$(FLAGS_NOW))
endif

$(B)/obj/%.o: %.c $(B)/cflags | build/pkg.mk
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) -c -o $@ $<

$(LIBFBLD): $(LIB_OBJS)
	@rm -f $@
	$(Q)ar rcs $@ $^

# fbld-daemon: every subcommand, every library.
$(B)/fbld-daemon: $(MAIN_OBJS) $(LIBFBLD)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDOPT) -o $@ $(MAIN_OBJS) $(LIBFBLD) $(PKG_LIBS) $(MALLOC_LIBS)

# fbld, the front end: core/main.c built with FBLD_FRONT_END runs parse,
# token, ingest and check-config and execs fbld-daemon (beside it) for the
# rest. The linker drops what those four never reach, and with it every
# use of libcurl, libetpan, libmicrohttpd, libmilter and libxml2.
FRONT_OBJS := $(B)/obj/core/main-front.o \
	$(filter-out $(B)/obj/core/main.o,$(MAIN_OBJS))
$(B)/obj/core/main-front.o: core/main.c $(B)/cflags | build/pkg.mk
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $< (front end)")
	$(Q)$(CC) $(CPPFLAGS) -DFBLD_FRONT_END $(PKG_CFLAGS) $(CFLAGS) -c -o $@ $<
$(B)/fbld: $(FRONT_OBJS) $(LIBFBLD)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDOPT) -Wl,--gc-sections -o $@ $(FRONT_OBJS) $(LIBFBLD) \
		$(FRONT_LIBS) $(FRONT_MALLOC_LIBS)

# fbld-ingest: one process per bounce from the MTA's pipe transport, so it
# links GLib only (about 1 ms of CPU to start instead of about 20 ms).
INGEST_OBJS := $(INGEST_SRCS:%.c=$(B)/obj/%.o)
INGEST_LIBS = $(shell pkg-config --libs glib-2.0)
$(B)/fbld-ingest: $(INGEST_OBJS)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDOPT) -o $@ $(INGEST_OBJS) $(INGEST_LIBS)
-include $(INGEST_OBJS:.o=.d)

$(B)/tests/%: $(B)/obj/tests/unit/%.o $(LIBFBLD)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDOPT) -o $@ $< $(LIBFBLD) $(PKG_LIBS) -lcmocka

$(B)/tests/%: $(B)/obj/tests/lib/%.o $(LIBFBLD)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDOPT) -o $@ $< $(LIBFBLD) $(PKG_LIBS)

# A fuzz target linked with a plain driver that replays files: this is how
# `make check` runs the saved corpus and crashers without clang.
$(B)/fuzz/replay-%: $(B)/obj/tests/fuzz/%.o $(B)/obj/tests/fuzz/replay_main.o $(LIBFBLD)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDOPT) -o $@ $^ $(PKG_LIBS)

test-bins: $(B)/fbld $(B)/fbld-daemon $(B)/fbld-ingest $(UNIT_BINS) $(HELPER_BINS) $(FUZZ_REPLAY_BINS)

check: deps-test
	@$(MAKE) --no-print-directory VARIANT=asan test-bins
	@tests/run.sh build/asan

run: all
	@mkdir -p var
	$(B)/fbld serve --state-dir var

fuzz: deps-test
	@$(MAKE) --no-print-directory VARIANT=fuzz fuzz-bins

fuzz-bins: $(FUZZ_BINS)

# clang has no use for the gcc specs file that libetpan's pkg-config adds.
build/fuzz/bin/%: build/fuzz/obj/tests/fuzz/%.o $(LIBFBLD)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDOPT) -o $@ $^ $(filter-out -specs=%,$(PKG_LIBS))

# Runs each libFuzzer target for FUZZ_SECONDS from its saved corpus.
FUZZ_SECONDS ?= 20
fuzz-smoke: fuzz
	@tests/fuzz/smoke.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS:tests/fuzz/%.c=%)

bench: all
	@bench/run.sh

# Regenerate golden parser outputs (tests/data/**/NAME.json) on purpose only.
golden: all
	@tests/golden.sh regen $(B)/fbld

FORMAT_SRCS = $(shell git ls-files '*.c' '*.h' 2>/dev/null)
format:
	clang-format -i $(FORMAT_SRCS)
format-check:
	@clang-format --dry-run -Werror $(FORMAT_SRCS) && echo "format-check: ok"

# Installs the three binaries (release) under $(DESTDIR)$(PREFIX)/bin, where
# contrib/fbld.service and the MTA examples in docs/ expect them; fbld runs
# the fbld-daemon installed beside it.
PREFIX ?= /usr/local
install: all
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(B)/fbld $(B)/fbld-daemon $(B)/fbld-ingest \
		$(DESTDIR)$(PREFIX)/bin/

clean:
	rm -rf build

# Every object's header dependencies, tests and fuzz targets included, so
# that a changed header rebuilds whatever uses it.
-include $(LIB_OBJS:.o=.d) $(MAIN_OBJS:.o=.d) \
	$(UNIT_TESTS:%.c=$(B)/obj/%.d) $(TEST_HELPERS:%.c=$(B)/obj/%.d) \
	$(FUZZ_TARGETS:%.c=$(B)/obj/%.d) $(B)/obj/tests/fuzz/replay_main.d \
	$(B)/obj/core/main-front.d
