# Makefile - build, test, benchmark and install sweepd (one non-recursive Makefile)
#
#   make              build build/sweepd
#   make demo         install missing packages, build, tune the Pima network (examples/pima-grid.json)
#   make test         install missing packages, unit + integration tests, then the same under ASan+UBSan
#   make check        unit tests (cmocka) only, in $(BUILD)
#   make check-it     integration tests (real processes, real sockets) only
#   make bench        figures: trainer speed, sweep wall time, coordinator throughput, peers side by side
#   make install PREFIX=/usr/local DESTDIR=
#   make clean
#
# Knobs: DEVELOPER=1 turns warnings into errors (make test and CI set it);
# SANITIZE=address,undefined builds with sanitizers; BUILD=dir puts objects elsewhere.
#
# Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT

PKG_CONFIG ?= pkg-config
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
BUILD      ?= build
CC         ?= cc
OPT        ?= -O2 -g

DEPS       = libczmq libzmq libuv sqlite3 libcjson
STD        = -std=c11 -D_GNU_SOURCE
WARN       = -Wall -Wextra -Wpedantic -Wformat=2 -Wshadow -Wstrict-prototypes \
             -Wmissing-prototypes -Wvla -Wwrite-strings -Wno-format-nonliteral
ifeq ($(DEVELOPER),1)
WARN      += -Werror
endif
ifneq ($(SANITIZE),)
SANFLAGS   = -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
endif

# OpenBLAS ships no cblas.pc on Debian 12; its headers live in /usr/include/<triplet>/openblas*.
BLAS_CFLAGS := $(shell $(PKG_CONFIG) --cflags openblas 2>/dev/null)
BLAS_LIBS   := $(shell $(PKG_CONFIG) --libs openblas 2>/dev/null || echo -lopenblas)

DEP_CFLAGS  := $(shell $(PKG_CONFIG) --cflags $(DEPS) 2>/dev/null)
DEP_LIBS    := $(shell $(PKG_CONFIG) --libs $(DEPS) 2>/dev/null)
CMOCKA_LIBS := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)

ALL_CFLAGS  = $(STD) $(WARN) $(OPT) $(SANFLAGS) -I. $(DEP_CFLAGS) $(BLAS_CFLAGS) -MMD -MP $(CFLAGS)
ALL_LDFLAGS = $(SANFLAGS) $(LDFLAGS)
ALL_LIBS    = $(DEP_LIBS) $(BLAS_LIBS) -lm -lpthread

# Modules, one static archive each, linked in dependency order (dependencies point one way:
# common <- proto <- {coordinator, worker} <- cli).
MODULES     = cli coordinator worker proto common
define module_objs
$(patsubst %.c,$(BUILD)/%.o,$(filter-out cli/main.c,$(wildcard $(1)/*.c)))
endef
$(foreach m,$(MODULES),$(eval OBJS_$(m) := $(call module_objs,$(m))))
ARCHIVES    = $(foreach m,$(MODULES),$(BUILD)/lib$(m).a)

SWEEPD      = $(BUILD)/sweepd

# Unit tests: tests/test_<module-prefix>_*.c; the prefix decides what they link,
# so a test of common/ does not need the daemons to build.
TEST_SRCS   = $(filter-out tests/test_util.c,$(wildcard tests/test_*.c))
TEST_BINS   = $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRCS))
TEST_UTIL   = $(BUILD)/tests/test_util.o

# Benchmark programs: bench/*.c, each linked with every module.
BENCH_SRCS  = $(wildcard bench/*.c)
BENCH_BINS  = $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS))

.SECONDEXPANSION:
.SECONDARY:

.PHONY: all deps demo test check check-it check-asan bench install uninstall clean
all: $(SWEEPD)

deps:
	@sh scripts/install-deps.sh

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/lib%.a: $$(OBJS_%)
	@mkdir -p $(dir $@)
	@rm -f $@
	$(AR) rcs $@ $^

$(SWEEPD): $(BUILD)/cli/main.o $(ARCHIVES)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(ARCHIVES) $(ALL_LIBS)

test_libs = $(strip $(if $(filter test_sw_%,$(1)),common,\
            $(if $(filter test_proto_%,$(1)),proto common,\
            $(if $(filter test_coord_%,$(1)),coordinator proto common,\
            $(if $(filter test_wrk_% test_trainer_%,$(1)),worker proto common,\
            $(MODULES))))))

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(TEST_UTIL) $$(foreach m,$$(call test_libs,$$*),$(BUILD)/lib$$(m).a)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(TEST_UTIL) $(foreach m,$(call test_libs,$*),$(BUILD)/lib$(m).a) \
	    $(CMOCKA_LIBS) $(ALL_LIBS)

$(BUILD)/bench/%: $(BUILD)/bench/%.o $(ARCHIVES)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(ARCHIVES) $(ALL_LIBS)

# Unit tests run from the repository root (they read examples/data/); cmocka prints its
# summary on stderr, which is kept.
check: $(SWEEPD) $(TEST_BINS)
	@sh tests/run-unit.sh $(BUILD)

check-it: $(SWEEPD)
	@sh tests/run-it.sh $(BUILD)

check-asan:
	$(MAKE) BUILD=build-asan SANITIZE=address,undefined OPT="-O1 -g" check check-it

test: deps
	$(MAKE) DEVELOPER=1 check check-it
	$(MAKE) DEVELOPER=1 check-asan

demo: deps
	$(MAKE) $(SWEEPD)
	rm -f $(BUILD)/demo.db
	$(SWEEPD) run examples/pima-grid.json --workers 2 --db $(BUILD)/demo.db
	$(SWEEPD) status --db $(BUILD)/demo.db

bench: deps
	$(MAKE) $(SWEEPD) $(BENCH_BINS)
	@sh scripts/install-deps.sh python3-sklearn python3-optuna python3-torch
	@sh bench/run.sh $(BUILD)

install: $(SWEEPD)
	install -d $(DESTDIR)$(BINDIR)
	install -m 0755 $(SWEEPD) $(DESTDIR)$(BINDIR)/sweepd

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/sweepd

clean:
	rm -rf build build-asan build-*

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
