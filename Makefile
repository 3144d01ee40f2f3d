# Makefile -- build, test, benchmark and install rdb.
#
#   make            build/lib/librdb.a, build/lib/librdb.so, build/bin/rdb
#   make run        build, create demo.rdb if missing, open the shell on it
#   make check      build and run every Check suite (asserts on), the
#                   sqllogictest runs, the shell scripts and the examples/
#   make bench      build every bench/bench_*.c (-O2 -DNDEBUG) and run it
#   make install    library, rdb and rdb.1; PREFIX (default /usr/local),
#                   DESTDIR honoured
#   make layers     fail if an #include in src/ goes up a layer
#   make slt        the sqllogictest runner over tests/slt/*.test
#   make slt-corpus the runner over the shared sqllogictest corpus
#   make fuzz       build the libFuzzer targets of fuzz/ (clang, ASan and
#                   UBSan, in build/fuzz) and run each FUZZ_TIME seconds
#                   (or FUZZ_RUNS executions; FUZZ_TARGETS picks some)
#   make coverage   the tests with gcov (build/coverage), then line and
#                   branch coverage per module (gcovr); fails below the
#                   gate (COV_GATE_LIB, COV_GATE_STORAGE)
#   make fuzz-replay  feed fuzz/corpus and fuzz/crashes to the targets
#                   without libFuzzer (part of make check)
#   make deps       install missing Debian packages (scripts/deps.sh)
#   make clean      remove build/
#
# Configurations: CC=clang, SANITIZE=address,undefined, SANITIZE=thread.
# Each one builds in its own directory (build/ for the default, then
# build/clang/, build/asan-ubsan/, build/tsan/, build/bench/, ...), so
# switching never mixes objects.  Every directory also remembers its flags
# (.flags) and rebuilds when CFLAGS, CPPFLAGS or LDFLAGS change.
#
# Sources are found, not listed: every src/**/*.c except src/shell/ goes
# into the library; every tests/*.c into the test binary, whose suite list
# is generated from the tests/check_<x>.c names (<x>_suite()); every
# bench/bench_<x>.c is one benchmark program.

SHELL := /bin/bash
.DEFAULT_GOAL := all
.SUFFIXES:
.DELETE_ON_ERROR:

PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
CFLAGS ?= -O2 -g
PKG_CONFIG ?= pkg-config
SANITIZE ?=

# ---- configuration -> build directory --------------------------------

comma := ,
empty :=
space := $(empty) $(empty)
cc_tag := $(filter-out cc gcc,$(notdir $(firstword $(CC))))
san_tag := $(subst $(comma),-,$(subst address,asan,$(subst \
	undefined,ubsan,$(subst thread,tsan,$(SANITIZE)))))
cfg := $(subst $(space),-,$(strip $(cc_tag) $(san_tag)))

ifeq ($(RDB_BENCH),1)
B := build/bench$(if $(cfg),-$(cfg))
MODE_FLAGS := -O2 -DNDEBUG
else ifeq ($(RDB_FUZZ),1)
B := build/fuzz
MODE_FLAGS := -fsanitize=fuzzer-no-link
else ifeq ($(RDB_COVERAGE),1)
B := build/coverage
MODE_FLAGS := --coverage -O0
else
B := build$(if $(cfg),/$(cfg))
MODE_FLAGS :=
endif

SAN_FLAGS := $(if $(SANITIZE),-fsanitize=$(SANITIZE) \
	-fno-omit-frame-pointer -O1)

# ---- sources ---------------------------------------------------------

LIB_SRCS := $(shell find src -name '*.c' -not -path 'src/shell/*' \
	| LC_ALL=C sort)
LIB_OBJS := $(LIB_SRCS:%.c=$(B)/obj/%.o)
PIC_OBJS := $(LIB_SRCS:%.c=$(B)/pic/%.o)
LIB_A := $(B)/lib/librdb.a
LIB_SO := $(B)/lib/librdb.so

# The shell (src/shell, not in the library): the test program links every
# file but main.c and dot.c (the two that call the database), the rdb
# program all of them.
SHELL_SRCS := $(sort $(wildcard src/shell/*.c))
SHELL_APP_SRCS := src/shell/main.c src/shell/dot.c
SHELL_LIB_SRCS := $(filter-out $(SHELL_APP_SRCS),$(SHELL_SRCS))
SHELL_LIB_OBJS := $(SHELL_LIB_SRCS:%.c=$(B)/obj/%.o)
SHELL_OBJS := $(SHELL_SRCS:%.c=$(B)/obj/%.o)
RDB_BIN := $(B)/bin/rdb

TEST_SRCS := $(sort $(wildcard tests/*.c))
SUITES := $(patsubst tests/check_%.c,%,$(filter-out tests/check_main.c,\
	$(filter tests/check_%.c,$(TEST_SRCS))))
TEST_OBJS := $(TEST_SRCS:%.c=$(B)/obj/%.o)
TEST_BIN := $(B)/tests/check_rdb
SUITES_H := $(B)/gen/suites.h

BENCH_MAINS := $(sort $(wildcard bench/bench_*.c))
BENCH_COMMON := $(filter-out $(BENCH_MAINS),$(wildcard bench/*.c))
BENCH_COMMON_OBJS := $(BENCH_COMMON:%.c=$(B)/obj/%.o)
BENCH_BINS := $(BENCH_MAINS:bench/%.c=$(B)/%)
BENCH_TMP := $(B)/tmp

# ---- flags -----------------------------------------------------------

# pkg-config is asked only inside recipes, after `deps` has installed it,
# and at most once per make run.  A missing package stops make with a hint.
pkgq = $(if $(shell $(PKG_CONFIG) --exists $(2) 2>/dev/null && echo y),\
	$(shell $(PKG_CONFIG) $(1) $(2)),\
	$(error pkg-config cannot find '$(2)'; run 'make deps'))
LIB_PKGS := libxxhash libzstd
LIB_PC_CFLAGS = $(eval LIB_PC_CFLAGS := \
	$$(call pkgq,--cflags,$(LIB_PKGS)))$(LIB_PC_CFLAGS)
LIB_PC_LIBS = $(eval LIB_PC_LIBS := \
	$$(call pkgq,--libs,$(LIB_PKGS)))$(LIB_PC_LIBS)
# The tests link libsqlite3 too (differential tests against SQLite); the
# library itself never does.
TEST_PKGS := check sqlite3
CHECK_CFLAGS = $(eval CHECK_CFLAGS := \
	$$(call pkgq,--cflags,$(TEST_PKGS)))$(CHECK_CFLAGS)
CHECK_LIBS = $(eval CHECK_LIBS := \
	$$(call pkgq,--libs,$(TEST_PKGS)))$(CHECK_LIBS)
EDIT_LIBS = $(eval EDIT_LIBS := $$(call pkgq,--libs,libedit))$(EDIT_LIBS)
PEER_CFLAGS = $(eval PEER_CFLAGS := \
	$$(call pkgq,--cflags,sqlite3 lmdb))$(PEER_CFLAGS)
PEER_LIBS = $(eval PEER_LIBS := \
	$$(call pkgq,--libs,sqlite3 lmdb))$(PEER_LIBS)

BASE_CFLAGS := -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -pthread \
	-Iinclude -Isrc
ALL_CFLAGS = $(strip $(BASE_CFLAGS) $(LIB_PC_CFLAGS) $(CPPFLAGS) $(CFLAGS) \
	$(MODE_FLAGS) $(SAN_FLAGS))
TEST_CFLAGS = $(strip $(ALL_CFLAGS) -UNDEBUG -Itests -I$(B)/gen $(CHECK_CFLAGS))
BENCH_CFLAGS = $(strip $(ALL_CFLAGS) $(PEER_CFLAGS))
ALL_LDFLAGS = $(strip -pthread $(LDFLAGS) $(SAN_FLAGS) \
	$(if $(filter 1,$(RDB_COVERAGE)),--coverage))
LIB_LIBS = $(strip $(LIB_PC_LIBS) -lpthread -lm)
# Catch a missing -l for the shared library, except under sanitizers
# whose runtimes are linked into executables only (clang).
SO_DEFS := $(if $(SANITIZE),,-Wl,-z,defs)

# (The check, sqlite3 and lmdb flags change only with their packages.)
FLAGS_TEXT = $(CC) | $(ALL_CFLAGS) | $(ALL_LDFLAGS) | $(LIB_LIBS)

# ---- targets ---------------------------------------------------------

.PHONY: all check bench clean install layers deps run slt slt-corpus examples \
	slt-write-expect fuzz fuzz-replay fuzz-seeds coverage FORCE

all: $(LIB_A) $(LIB_SO) $(RDB_BIN)

deps:
	@bash scripts/deps.sh

# The flags file changes only when the flags do, so objects depend on it.
# The temporary file is the shell's own (two makes of one tree at once,
# two fuzz campaigns say, each write and move their own).
$(B)/.flags: FORCE | deps
	@mkdir -p $(@D)
	@t=$@.tmp.$$$$; printf '%s\n' '$(subst ','\'',$(FLAGS_TEXT))' > $$t; \
		cmp -s $$t $@ && rm -f $$t || mv -f $$t $@

$(B)/obj/%.o: %.c $(B)/.flags | deps
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(B)/pic/%.o: %.c $(B)/.flags | deps
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -fPIC -MMD -MP -c $< -o $@

$(B)/obj/tests/%.o: tests/%.c $(B)/.flags | deps
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) -MMD -MP -c $< -o $@

$(B)/obj/bench/%.o: bench/%.c $(B)/.flags | deps
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) -MMD -MP -c $< -o $@

$(LIB_A): $(LIB_OBJS)
	@mkdir -p $(@D)
	@rm -f $@
	$(AR) rcs $@ $^

$(LIB_SO): $(PIC_OBJS)
	@mkdir -p $(@D)
	$(CC) -shared -Wl,-soname,librdb.so $(SO_DEFS) -o $@ $^ \
		$(ALL_LDFLAGS) $(LIB_LIBS)

# ---- the rdb shell ---------------------------------------------------

$(RDB_BIN): $(SHELL_OBJS) $(LIB_A)
	@mkdir -p $(@D)
	$(CC) -o $@ $(SHELL_OBJS) $(LIB_A) $(ALL_LDFLAGS) $(EDIT_LIBS) \
		$(LIB_LIBS) -lm

# The quick start: build, create demo.rdb (a users table) when missing,
# and open the shell on it.
run: all
	@[ -e demo.rdb ] || { rm -f demo.rdb.tmp demo.rdb.tmp-wal && \
		$(RDB_BIN) -bail demo.rdb.tmp < scripts/demo.sql && \
		mv demo.rdb.tmp demo.rdb && \
		echo 'created demo.rdb (try: SELECT * FROM users;)'; }
	@$(RDB_BIN) demo.rdb

# ---- tests -----------------------------------------------------------

# suites.h: one declaration per tests/check_<x>.c and the X-macro list
# RDB_SUITES(X) that check_main.c expands.  Rewritten only when it changes.
$(SUITES_H): FORCE
	@mkdir -p $(@D)
	@{ echo '/* Generated by the Makefile from tests/check_*.c.' \
		'Do not edit. */'; \
	   echo '#ifndef RDB_TEST_SUITES_H'; \
	   echo '#define RDB_TEST_SUITES_H'; \
	   echo '#include <check.h>'; \
	   $(foreach s,$(SUITES),echo 'Suite *$(s)_suite(void);';) \
	   echo '#define RDB_SUITES(X) $(foreach s,$(SUITES),X($(s)))'; \
	   echo '#endif'; } > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv -f $@.tmp $@

$(B)/obj/tests/check_main.o: $(SUITES_H)

$(TEST_BIN): $(TEST_OBJS) $(SHELL_LIB_OBJS) $(LIB_A)
	@mkdir -p $(@D)
	$(CC) -o $@ $(TEST_OBJS) $(SHELL_LIB_OBJS) $(LIB_A) $(ALL_LDFLAGS) \
		$(CHECK_LIBS) $(LIB_LIBS) -lm

# Pass the selection knobs through only when set: Check treats an empty
# CK_RUN_SUITE as a suite named "".
TEST_KNOBS := CK_RUN_SUITE CK_RUN_CASE RDB_TEST_SEED RDB_TEST_SCALE
TEST_ENV = $(strip env $(foreach v,$(TEST_KNOBS),$(if $($(v)),,-u $(v))) \
	CK_DEFAULT_TIMEOUT=$(or $(CK_DEFAULT_TIMEOUT),600) \
	$(foreach v,$(TEST_KNOBS),$(if $($(v)),$(v)='$($(v))')) \
	$(if $(filter address,$(SAN_LIST)),ASAN_OPTIONS='detect_leaks=1$(\
	):abort_on_error=1$(if $(ASAN_OPTIONS),:$(ASAN_OPTIONS))') \
	$(if $(filter undefined,$(SAN_LIST)),UBSAN_OPTIONS='print_stacktrace=1$(\
	):halt_on_error=1$(if $(UBSAN_OPTIONS),:$(UBSAN_OPTIONS))') \
	$(if $(filter thread,$(SAN_LIST)),TSAN_OPTIONS='halt_on_error=1 $(\
	)second_deadlock_stack=1$(if $(TSAN_OPTIONS), $(TSAN_OPTIONS))'))
SAN_LIST := $(subst $(comma), ,$(SANITIZE))

# Sanitizer runtimes of gcc 12 can fail to start ("unexpected memory
# mapping") on kernels with many bits of mmap randomization; run them
# with ASLR off where the system lets us.
TEST_WRAP := $(if $(SANITIZE),$$(setarch $$(uname -m) -R true 2>/dev/null \
	&& echo setarch $$(uname -m) -R))

# The sqllogictest step (see "sqllogictest" below) runs first, unless
# CK_RUN_SUITE or CK_RUN_CASE pick Check tests.  The shell's batch scripts
# (tests/shell/run.sh) run with the shell suite.
check: all $(TEST_BIN) $(if $(CK_RUN_SUITE)$(CK_RUN_CASE),,slt fuzz-replay \
	$(if $(SANITIZE),,examples))
	@echo '== $(TEST_BIN) (suites: $(SUITES))'
	$(TEST_ENV) RDB_SHELL_BIN='$(CURDIR)/$(RDB_BIN)' $(TEST_WRAP) $(TEST_BIN)
	@if [ -z '$(CK_RUN_SUITE)' ] || [ '$(CK_RUN_SUITE)' = shell ]; then \
		echo '== tests/shell/run.sh $(RDB_BIN)'; \
		$(TEST_ENV) $(TEST_WRAP) bash tests/shell/run.sh $(RDB_BIN); fi

# ---- examples --------------------------------------------------------

# Each examples/*.c is built as a user would build it -- against a staged
# `make install` through `pkg-config --cflags --libs rdb` -- and run; it
# must exit 0.
EXAMPLES := $(sort $(wildcard examples/*.c))
STAGE := $(abspath $(B)/stage)

examples: all
	@rm -rf '$(STAGE)' $(B)/examples && mkdir -p $(B)/examples
	@$(MAKE) --no-print-directory install PREFIX='$(STAGE)' >/dev/null
	@set -e; for src in $(EXAMPLES); do \
		x=$(B)/examples/$$(basename $$src .c); \
		echo "== $$src"; \
		$(CC) -std=c11 -Wall -Wextra -Werror $$src -o $$x \
			$$(PKG_CONFIG_PATH='$(STAGE)/lib/pkgconfig' \
			$(PKG_CONFIG) --cflags --libs rdb); \
		LD_LIBRARY_PATH='$(STAGE)/lib' $$x $$x.rdb; \
	done

# ---- sqllogictest ----------------------------------------------------

# The runner (tests/slt/README.md) links librdb, libsqlite3 (its second
# backend, which validates it) and libmd (MD5).  Its rdb backend uses the
# SQL calls of rdb.h; slt_config.h records whether librdb defines them
# yet, so the runner builds before the SQL engine exists.
SLT_SRCS := $(sort $(wildcard tests/slt/*.c))
SLT_OBJS := $(SLT_SRCS:%.c=$(B)/obj/%.o)
SLT_BIN := $(B)/slt
SLT_CONFIG := $(B)/gen/slt_config.h
SLT_RDB_SYMS := rdb_open_v2 rdb_close rdb_errmsg rdb_errstr rdb_prepare \
	rdb_step rdb_finalize rdb_db_handle rdb_column_count rdb_column_type \
	rdb_column_int64 rdb_column_double rdb_column_text
SLT_PC_CFLAGS = $(eval SLT_PC_CFLAGS := \
	$$(call pkgq,--cflags,sqlite3 libmd))$(SLT_PC_CFLAGS)
SLT_PC_LIBS = $(eval SLT_PC_LIBS := \
	$$(call pkgq,--libs,sqlite3 libmd))$(SLT_PC_LIBS)
SLT_CFLAGS = $(strip $(ALL_CFLAGS) -UNDEBUG -I$(B)/gen $(SLT_PC_CFLAGS))

# The project's own scripts (must pass), the runner's self-test, and the
# shared corpus (SQLite's select1-5 and evidence/).
SLT_OWN := $(sort $(wildcard tests/slt/*.test))
SLT_CORPUS_DIR ?= $(firstword $(wildcard ../shared/sqllogictest \
	../../shared/sqllogictest))
SLT_CORPUS = $(if $(SLT_CORPUS_DIR),$(shell find $(SLT_CORPUS_DIR) \
	-name '*.test' | LC_ALL=C sort))

# ---- the rdb runs ----
# SLT_RDB=1: `make slt` (and so `make check`) also runs the rdb backend
# over tests/slt/*.test (every record must pass) and over the shared
# corpus, printing its per-file counts.  The corpus run fails on a crash,
# and when a record SLT_RDB_EXPECT lists as passing fails (rewrite the
# file with `make slt-write-expect`); with SLT_RDB_EXPECT empty it only
# counts.  SLT_RDB_EXCEPTIONS is the list of records rdb fails on purpose.
SLT_RDB ?= 1
SLT_RDB_EXPECT ?= tests/slt/expected.txt
SLT_RDB_EXCEPTIONS ?= tests/slt/exceptions.txt
SLT_RDB_ARGS = --engine rdb $(if $(SLT_RDB_EXCEPTIONS),--exceptions \
	$(SLT_RDB_EXCEPTIONS))

$(SLT_CONFIG): $(LIB_A)
	@mkdir -p $(@D)
	@defined=$$(nm -g --defined-only $(LIB_A) 2>/dev/null | \
		awk 'NF == 3 { print $$3 }'); have=1; \
	for s in $(SLT_RDB_SYMS); do \
		grep -qxF "$$s" <<<"$$defined" || have=0; \
	done; \
	{ echo '/* Generated by the Makefile: 1 when librdb defines the' \
		'SQL calls of tests/slt/slt_rdb.c. */'; \
	  echo "#define SLT_HAVE_RDB_SQL $$have"; } > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv -f $@.tmp $@

$(B)/obj/tests/slt/%.o: tests/slt/%.c $(B)/.flags | deps
	@mkdir -p $(@D)
	$(CC) $(SLT_CFLAGS) -MMD -MP -c $< -o $@

$(B)/obj/tests/slt/slt_rdb.o: $(SLT_CONFIG)

$(SLT_BIN): $(SLT_OBJS) $(LIB_A)
	@mkdir -p $(@D)
	$(CC) -o $@ $(SLT_OBJS) $(LIB_A) $(ALL_LDFLAGS) $(SLT_PC_LIBS) \
		$(LIB_LIBS) -lm

# A run for its counts: failing records are fine (exit 1), a crash, a
# sanitizer report or bad usage (exit 2 and above) are not.
SLT_COUNTS_ONLY = || [ $$? -eq 1 ]

slt: $(SLT_BIN)
	@echo '== $(SLT_BIN) --engine sqlite (tests/slt/*.test)'
	$(TEST_ENV) $(TEST_WRAP) $(SLT_BIN) --engine sqlite $(SLT_OWN)
	@echo '== tests/slt/selftest.sh'
	$(TEST_ENV) $(TEST_WRAP) bash tests/slt/selftest.sh $(SLT_BIN)
ifeq ($(SLT_RDB),1)
	@echo '== $(SLT_BIN) --engine rdb (tests/slt/*.test)'
	$(TEST_ENV) $(TEST_WRAP) $(SLT_BIN) $(SLT_RDB_ARGS) $(SLT_OWN)
ifneq ($(SLT_CORPUS),)
	@echo '== $(SLT_BIN) --engine rdb (corpus $(SLT_CORPUS_DIR))'
	$(TEST_ENV) $(TEST_WRAP) $(SLT_BIN) $(SLT_RDB_ARGS) $(if \
		$(SLT_RDB_EXPECT),--expect $(SLT_RDB_EXPECT) $(SLT_CORPUS), \
		$(SLT_CORPUS) $(SLT_COUNTS_ONLY))
endif
endif

# The corpus on SQLite: every record must pass (this validates the
# runner); with SLT_RDB=1 also on rdb (counts only, as above).
slt-corpus: $(SLT_BIN)
	@$(if $(SLT_CORPUS),,echo 'no corpus: set SLT_CORPUS_DIR'; exit 1)
	$(SLT_BIN) --engine sqlite $(SLT_CORPUS)
ifeq ($(SLT_RDB),1)
	$(SLT_BIN) $(SLT_RDB_ARGS) $(SLT_CORPUS) $(SLT_COUNTS_ONLY)
endif

# (Re)write SLT_RDB_EXPECT from an rdb run over the corpus.
slt-write-expect: $(SLT_BIN)
	@$(if $(SLT_RDB_EXPECT),,echo 'set SLT_RDB_EXPECT=<file>'; exit 1)
	$(SLT_BIN) $(SLT_RDB_ARGS) --write-expect $(SLT_RDB_EXPECT) \
		$(SLT_CORPUS) $(SLT_COUNTS_ONLY)

# ---- benchmarks ------------------------------------------------------

# Benchmarks need their own -DNDEBUG library, so they build in a second
# configuration (RDB_BENCH=1, directory build/bench).
ifeq ($(RDB_BENCH),1)
.SECONDARY: $(BENCH_MAINS:%.c=$(B)/obj/%.o) $(BENCH_COMMON_OBJS)
$(B)/bench_%: $(B)/obj/bench/bench_%.o $(BENCH_COMMON_OBJS) $(LIB_A)
	$(CC) -o $@ $^ $(ALL_LDFLAGS) $(PEER_LIBS) $(LIB_LIBS)

bench: $(BENCH_BINS)
	@$(if $(BENCH_BINS),,echo 'no bench/bench_*.c to run')
	@set -e; for b in $(BENCH_BINS); do \
		rm -rf $(BENCH_TMP); mkdir -p $(BENCH_TMP); \
		echo "== $$b"; \
		(cd $(BENCH_TMP) && TMPDIR="$$PWD" "$(CURDIR)/$$b"); \
	done; rm -rf $(BENCH_TMP)
else
bench:
	@$(MAKE) --no-print-directory RDB_BENCH=1 bench
endif

# ---- fuzzing ---------------------------------------------------------

# fuzz/fz_<t>.c defines LLVMFuzzerTestOneInput for target <t>
# (docs/testing.md, "Fuzzing").  Linked with fuzz/replay.c in every
# configuration (make check replays fuzz/corpus/<t> and fuzz/crashes/<t>);
# with libFuzzer in build/fuzz (make fuzz: clang, ASan, UBSan).  New
# corpus entries go to build/fuzz/corpus/<t>; inputs that crash are
# written to fuzz/crashes/<t>/ and must be kept there once fixed.
FUZZ_TARGETS := $(sort $(patsubst fuzz/fz_%.c,%,$(wildcard fuzz/fz_*.c)))
FUZZ_CFLAGS = $(strip $(ALL_CFLAGS) -UNDEBUG -Ifuzz)
FUZZ_UTIL_OBJ := $(B)/obj/fuzz/fuzz_util.o
REPLAY_BINS := $(FUZZ_TARGETS:%=$(B)/fuzz/replay_%)
FUZZ_TIME ?= 60
# FUZZ_RUNS=N: stop each target after N executions instead (no time
# limit; scripts/fuzz_campaign.sh runs one target so, unattended).
FUZZ_RUNS ?=
# A low rare-feature threshold keeps libFuzzer's entropic schedule from
# spending most of the time in its own bookkeeping on these targets
# (tens of thousands of features per input: docs/testing.md, "Fuzzing").
FUZZ_FLAGS ?= -timeout=20 -rss_limit_mb=2560 \
	-entropic_feature_frequency_threshold=8
FUZZ_LIMIT = $(if $(FUZZ_RUNS),-runs=$(FUZZ_RUNS) -max_total_time=0,\
	-max_total_time=$(FUZZ_TIME))
# Inputs up to 16 KiB (64 KiB for the targets that take whole files).

$(B)/obj/fuzz/%.o: fuzz/%.c $(B)/.flags | deps
	@mkdir -p $(@D)
	$(CC) $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

.SECONDARY: $(FUZZ_TARGETS:%=$(B)/obj/fuzz/fz_%.o) $(FUZZ_UTIL_OBJ) \
	$(B)/obj/fuzz/replay.o
$(B)/fuzz/replay_%: $(B)/obj/fuzz/fz_%.o $(B)/obj/fuzz/replay.o \
		$(FUZZ_UTIL_OBJ) $(SHELL_LIB_OBJS) $(LIB_A)
	@mkdir -p $(@D)
	$(CC) -o $@ $^ $(ALL_LDFLAGS) $(LIB_LIBS) -lm

fuzz-replay: $(REPLAY_BINS)
	@echo '== fuzz corpus replay ($(FUZZ_TARGETS))'
	@set -e; for t in $(FUZZ_TARGETS); do \
		$(TEST_ENV) $(TEST_WRAP) $(B)/fuzz/replay_$$t \
			fuzz/corpus/$$t fuzz/crashes/$$t; done

# The generated seeds (databases, logs) of fuzz/corpus/{file,wal,kv}.
fuzz-seeds: $(B)/fuzz/seeds
	$(B)/fuzz/seeds fuzz/corpus

$(B)/fuzz/seeds: $(B)/obj/fuzz/seeds.o $(LIB_A)
	@mkdir -p $(@D)
	$(CC) -o $@ $^ $(ALL_LDFLAGS) $(LIB_LIBS) -lm

ifeq ($(RDB_FUZZ),1)
$(B)/fuzz/fz_%: $(B)/obj/fuzz/fz_%.o $(FUZZ_UTIL_OBJ) $(SHELL_LIB_OBJS) \
		$(LIB_A)
	@mkdir -p $(@D)
	$(CC) -fsanitize=fuzzer -o $@ $^ $(ALL_LDFLAGS) $(LIB_LIBS) -lm

fuzz: $(FUZZ_TARGETS:%=$(B)/fuzz/fz_%)
	@set -e; for t in $(FUZZ_TARGETS); do \
		mkdir -p $(B)/corpus/$$t fuzz/crashes/$$t; \
		echo "== fuzz $$t: $(FUZZ_LIMIT)"; \
		max_len=16384; case $$t in file|wal|kv) max_len=65536;; esac; \
		$(TEST_ENV) $(TEST_WRAP) $(B)/fuzz/fz_$$t $(FUZZ_FLAGS) \
			-max_len=$$max_len \
			$(FUZZ_LIMIT) -print_final_stats=1 \
			-artifact_prefix=fuzz/crashes/$$t/ \
			$(B)/corpus/$$t fuzz/corpus/$$t; done
else
fuzz:
	@bash scripts/deps.sh --fuzz --sanitizers
	@$(MAKE) --no-print-directory RDB_FUZZ=1 CC=clang \
		SANITIZE=address,undefined fuzz
endif

# ---- coverage --------------------------------------------------------

# Everything built with gcov in build/coverage (--coverage -O0, gcc), the
# tests run, then scripts/coverage.py sums gcovr's per-file counts by
# module and applies the gate: branch coverage of the library (src/ but
# the shell) >= COV_GATE_LIB, of each of pager, btree and kv >=
# COV_GATE_STORAGE.  Lines holding assert( are left out (their failure
# branch is never meant to run).  docs/testing.md, "Coverage".
#
# The tests of a full run (scripts/coverage_run.sh): every Check suite
# at RDB_TEST_SCALE=COV_SCALE, the rdb backend of the sqllogictest runner
# over tests/slt/*.test and the shared-corpus files COV_SLT_CORPUS (all
# of SLT_CORPUS_DIR; COV_SLT_CORPUS= leaves the corpus out), the shell's
# batch scripts and the fuzz corpus replays, COV_JOBS processes at a
# time.  Not run: the runner on libsqlite3 and its self-test, and the
# examples (they prove the runner and the installed files, not the
# library's code).
#
# COV_SUITES='pager kv' runs only those Check suites (one after the other,
# at RDB_TEST_SCALE if set, else 1) instead, prints the figures of every
# file of COV_FILES (modules; default pager btree kv) as well, and applies
# no gate: a quick look at one module, not a verdict on the library.
COV_GATE_LIB ?= 85
COV_GATE_STORAGE ?= 90
# One storage module's gate apart from COV_GATE_STORAGE (empty: the same).
COV_GATE_BTREE ?=
COV_SUITES ?=
COV_FILES ?= pager btree kv
COV_SCALE ?= 0.3
COV_JOBS ?= 2
# The whole shared corpus when it is there (about 2 minutes of the run).
COV_SLT_CORPUS ?= $(SLT_CORPUS)
GCOVR_FLAGS = -r . --object-directory $(B) --filter 'src/' \
	--exclude-lines-by-pattern '.*\bassert\(.*' \
	--exclude-unreachable-branches
ifeq ($(RDB_COVERAGE),1)
coverage:
	@find $(B) -name '*.gcda' -delete 2>/dev/null || true
ifeq ($(strip $(COV_SUITES)),)
	$(MAKE) --no-print-directory RDB_COVERAGE=1 all $(TEST_BIN) \
		$(SLT_BIN) $(REPLAY_BINS)
	$(TEST_ENV) RDB_TEST_SCALE=$(or $(RDB_TEST_SCALE),$(COV_SCALE)) \
		CK_TIMEOUT_MULTIPLIER=5 bash scripts/coverage_run.sh $(B) \
		$(COV_JOBS) '$(SUITES)' '$(FUZZ_TARGETS)' $(COV_SLT_CORPUS)
else
	$(MAKE) --no-print-directory RDB_COVERAGE=1 all $(TEST_BIN)
	@set -e; for s in $(COV_SUITES); do echo "== suite $$s"; \
		$(TEST_ENV) CK_RUN_SUITE=$$s $(TEST_BIN); done
endif
	@echo '== gcovr'
	@gcovr $(GCOVR_FLAGS) --json $(B)/coverage.json \
		--html-details $(B)/coverage.html
	python3 scripts/coverage.py $(B)/coverage.json $(COV_GATE_LIB) \
		$(COV_GATE_STORAGE) $(if $(strip $(COV_GATE_BTREE)),--module-gate \
		btree=$(COV_GATE_BTREE)) $(if $(strip $(COV_SUITES)),--no-gate \
		--files $(COV_FILES))
else
coverage:
	@bash scripts/deps.sh --coverage
	@$(MAKE) --no-print-directory RDB_COVERAGE=1 CC=gcc coverage
endif

# ---- install ---------------------------------------------------------

RDB_VERSION_TEXT = $(shell sed -n \
	's/^\#define RDB_VERSION "\(.*\)"/\1/p' include/rdb.h)

install: all
	@sed -e 's|@PREFIX@|$(PREFIX)|g' \
		-e 's|@LIBDIR@|$(patsubst $(PREFIX)/%,$${prefix}/%,$(LIBDIR))|g' \
		-e 's|@INCLUDEDIR@|$(patsubst $(PREFIX)/%,$${prefix}/%,$(INCLUDEDIR))|g' \
		-e 's|@VERSION@|$(RDB_VERSION_TEXT)|g' rdb.pc.in > $(B)/rdb.pc
	install -d '$(DESTDIR)$(LIBDIR)/pkgconfig' '$(DESTDIR)$(INCLUDEDIR)'
	install -m 644 $(LIB_A) '$(DESTDIR)$(LIBDIR)/librdb.a'
	install -m 755 $(LIB_SO) '$(DESTDIR)$(LIBDIR)/librdb.so'
	install -m 644 include/rdb.h '$(DESTDIR)$(INCLUDEDIR)/rdb.h'
	install -m 644 $(B)/rdb.pc '$(DESTDIR)$(LIBDIR)/pkgconfig/rdb.pc'
	install -d '$(DESTDIR)$(BINDIR)' '$(DESTDIR)$(MANDIR)/man1'
	install -m 755 $(RDB_BIN) '$(DESTDIR)$(BINDIR)/rdb'
	install -m 644 rdb.1 '$(DESTDIR)$(MANDIR)/man1/rdb.1'

clean:
	rm -rf build

# ---- layers ----------------------------------------------------------

# Order from the bottom.  Files directly in src/ (err, mem, format) and
# include/rdb.h are shared leaves: anyone may include them, and they
# include only each other.  A module may include its own headers and those
# of lower modules, except pager/os.h (private to the pager); src/shell
# may include only rdb.h.  Upward includes fail.
LAYERS := pager btree kv table sql api shell

define LAYERS_SCRIPT
layers=($(LAYERS))
rank() {
	local i
	for i in "$${!layers[@]}"; do
		[ "$${layers[$$i]}" = "$$1" ] && { echo "$$i"; return; }
	done
	echo -1
}
# module of a path under src/ ("leaf" for files directly in src/)
module() { case $$1 in */*) echo "$${1%%/*}";; *) echo leaf;; esac; }
n_bad=0 n_files=0
while IFS= read -r f; do
	n_files=$$((n_files + 1))
	from=$$(module "$${f#src/}")
	if [ "$$from" != leaf ] && [ "$$(rank "$$from")" -lt 0 ]; then
		echo "$$f: module '$$from' is not in LAYERS in the Makefile"
		n_bad=$$((n_bad + 1)); continue
	fi
	while IFS=: read -r line text; do
		name=$$(sed -E 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*["<]([^">]*)[">].*/\1/' <<<"$$text")
		target=
		if [[ $$text == *'"'* ]] && [ -f "$$(dirname "$$f")/$$name" ]; then
			target=$$(realpath -m --relative-to=. "$$(dirname "$$f")/$$name")
		elif [ -f "src/$$name" ]; then
			target=src/$$name
		elif [ -f "include/$$name" ]; then
			target=include/$$name
		fi
		case $$target in
		'') continue;;                       # a system header
		include/rdb.h) to=leaf;;
		src/*) to=$$(module "$${target#src/}");;
		*) to=outside;;
		esac
		why=
		if [ "$$from" = shell ]; then
			[ "$$target" = include/rdb.h ] || [ "$$to" = shell ] ||
				why="the shell may include only rdb.h"
		elif [ "$$to" = outside ]; then
			why="'$$target' is outside src/ and include/"
		elif [ "$$to" = "$$from" ] || [ "$$to" = leaf ]; then
			:
		elif [ "$$from" = leaf ]; then
			why="shared leaf files may include only other leaves"
		elif [ "$$target" = src/pager/os.h ]; then
			why="os.h is private to the pager"
		elif [ "$$(rank "$$to")" -lt 0 ]; then
			why="module '$$to' is not in LAYERS in the Makefile"
		elif [ "$$(rank "$$to")" -gt "$$(rank "$$from")" ]; then
			why="upward include: $$to is above $$from"
		fi
		if [ -n "$$why" ]; then
			echo "$$f:$$line: #include \"$$name\": $$why"
			n_bad=$$((n_bad + 1))
		fi
	done < <(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*["<]' "$$f")
done < <(find src -name '*.[ch]' | LC_ALL=C sort)
if [ "$$n_bad" -gt 0 ]; then
	echo "layers: $$n_bad bad include(s); order from the bottom: $${layers[*]}"
	exit 1
fi
echo "layers: ok ($$n_files files; order from the bottom: $${layers[*]})"
endef
export LAYERS_SCRIPT

layers:
	@bash -c "$$LAYERS_SCRIPT"

# ---- header dependencies ---------------------------------------------

-include $(LIB_OBJS:.o=.d) $(PIC_OBJS:.o=.d) $(TEST_OBJS:.o=.d) \
	$(SHELL_SRCS:%.c=$(B)/obj/%.d) \
	$(BENCH_MAINS:%.c=$(B)/obj/%.d) $(BENCH_COMMON_OBJS:.o=.d) \
	$(SLT_OBJS:.o=.d) $(wildcard $(B)/obj/fuzz/*.d)
