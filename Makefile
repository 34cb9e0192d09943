# wsrun - build, run, test, bench.
# Everything built goes under build/; nothing here writes outside the tree
# except `make install`.  New plugins need no edit here: tasks/*.c and
# plugins/*.c (or plugins/<name>/<name>.c) each become build/plugins/<name>.so,
# and tests/test_*.c each become a Criterion binary.

# make predefines CC (as cc), so `CC ?= gcc` would never apply: gcc unless
# the command line or the environment names another compiler.
ifeq ($(origin CC),default)
CC      := gcc
endif
BUILD   ?= build
PREFIX  ?= /usr/local
DESTDIR ?=

# Debian packages the build and the tests need (installed by the targets
# below when run as root; otherwise the exact apt-get line is printed).
BUILD_PKGS := gcc make libc6-dev pkg-config libpng-dev zlib1g-dev python3-dev
TEST_PKGS  := $(BUILD_PKGS) libcriterion-dev python3 python3-numpy groff-base man-db g++
# wsrun --scaling-plot draws with gnuplot (tests/cli/scaling.sh checks the PNG).
TEST_PKGS  += gnuplot-nox
# wsrun-mpi only (`make mpi`); the tests run it too.
MPI_PKGS   := openmpi-bin libopenmpi-dev
TEST_PKGS  += $(MPI_PKGS)
# libFuzzer, for fuzz-ci (part of make test) and make fuzz.
FUZZ_PKGS  := clang libclang-rt-14-dev
TEST_PKGS  += $(FUZZ_PKGS)

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-missing-field-initializers
CSTD    := -std=c11 -D_GNU_SOURCE
OPT     ?= -O2 -g
# runtime/ is grouped by layer (docs/design.md, "Layers"); a file includes
# the headers of its own layer and of the layers below it by name
# (scripts/check-layers, run by tests/cli/layers.sh, keeps it so).
RT_LAYERS  := base sched plugin embed reports cmd
RT_INC     := $(RT_LAYERS:%=-Iruntime/%)
RT_HEADERS := $(wildcard $(RT_LAYERS:%=runtime/%/*.h))
CFLAGS_ALL = $(CSTD) $(OPT) $(WARN) -pthread -Iinclude $(RT_INC) $(EXTRA_CFLAGS)
PNG_CFLAGS = $(shell pkg-config --cflags libpng 2>/dev/null)
PNG_LIBS   = $(shell pkg-config --libs libpng 2>/dev/null || echo -lpng) -lz

RUNTIME_SRCS := $(filter-out runtime/cmd/main.c,$(wildcard $(RT_LAYERS:%=runtime/%/*.c)))
RUNTIME_OBJS := $(RUNTIME_SRCS:%.c=$(BUILD)/obj/%.o)
TASK_SRCS    := $(wildcard tasks/*.c)
PLUGIN_SRCS  := $(wildcard plugins/*.c)
PLUGIN_NAMES := $(notdir $(TASK_SRCS:.c=) $(PLUGIN_SRCS:.c=))
PLUGINS      := $(PLUGIN_NAMES:%=$(BUILD)/plugins/%.so)
TEST_SRCS    := $(wildcard tests/test_*.c)
TESTS        := $(TEST_SRCS:tests/%.c=$(BUILD)/tests/%)
TSAN_SRCS    := $(wildcard tests/tsan_*.c)

# The executable exports exactly the functions include/wsrun.h declares
# WS_API, so plugins resolve them at dlopen (the rules: "Public API" below).
EXPORT_DYNAMIC = -Wl,--dynamic-list=$(BUILD)/wsrun.dynlist

.PHONY: test-asan test-tsan-cli test-plugins soak soak-tsan soak-ci fuzz fuzz-build fuzz-ci valgrind
.PHONY: mpi mpi-build bench-mpi all run test test-unit test-cli test-tsan bench bench-quick clean deps deps-test install uninstall
.PHONY: check-fresh lib test-embed
# Keep intermediate objects (the TSan/ASan builds) so reruns do not rebuild.
.SECONDARY:
.DEFAULT_GOAL := all

all: $(BUILD)/wsrun $(PLUGINS)

deps:
	@scripts/need-debian-packages $(BUILD_PKGS)

deps-test:
	@scripts/need-debian-packages $(TEST_PKGS)

$(BUILD)/obj/%.o: %.c $(wildcard include/*.h) $(RT_HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(BUILD)/libwsrt.a: $(RUNTIME_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/wsrun: $(BUILD)/obj/runtime/cmd/main.o $(BUILD)/libwsrt.a
	$(CC) $(CFLAGS_ALL) $(EXPORT_DYNAMIC) $^ -o $@ -ldl -lm

# Plugins: position-independent, undefined ws_* symbols left to the host;
# the built-in ones (tasks/*.c) link the shared helpers of tasks/common/.
$(BUILD)/plugins/%.so: tasks/%.c include/wsrun.h $(wildcard tasks/*.h tasks/common/*.h) $(BUILD)/libwstasks.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(PNG_CFLAGS) -fPIC -shared $< $(BUILD)/libwstasks.a -o $@ $(PNG_LIBS) -lm

# The python plugin (issue 25) embeds Debian's CPython: its headers as system
# headers (not held to WARN), libpython linked in, and python/wsrun_boot.py
# compiled in as a C string (build/gen/python_boot.h).
PYTHON_CONFIG ?= /usr/bin/python3-config
$(BUILD)/gen/python_boot.h: python/wsrun_boot.py
	@mkdir -p $(dir $@)
	sed 's/\\/\\\\/g; s/"/\\"/g; s/^/"/; s/$$/\\n"/' $< > $@
$(BUILD)/plugins/python.so: tasks/python.c $(BUILD)/gen/python_boot.h include/wsrun.h $(wildcard tasks/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(patsubst -I%,-isystem %,$(shell $(PYTHON_CONFIG) --includes)) -I$(BUILD)/gen \
	    -fPIC -shared $< -o $@ $(shell $(PYTHON_CONFIG) --embed --ldflags)

$(BUILD)/plugins/%.so: plugins/%.c include/wsrun.h $(wildcard plugins/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -fPIC -shared $< -o $@ -lm

# ---------------------------------------------------------------- run
run: deps all
	@mkdir -p out
	cd out && ../$(BUILD)/wsrun --plugin noise.so --count 2000
	@echo "wrote $$(ls out | grep -c '^image_.*\.png$$') images to out/"

# ------------------------------------------------ test hooks, schedule fuzz
# The test binaries, the TSan programs and the soak link a runtime copy
# built with -DWS_TEST_HOOKS: its WS_HOOK points (runtime/base/test_hooks.h)
# let tests hold a thread at a named point and let sched_fuzz inject
# seeded yields and spins.  build/wsrun and the plugins never have them.
TEST_RT := $(BUILD)/hooks/libwsrt.a
$(BUILD)/hooks/obj/%.o: %.c $(wildcard include/*.h) $(RT_HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -DWS_TEST_HOOKS -c $< -o $@
$(TEST_RT): $(RUNTIME_SRCS:%.c=$(BUILD)/hooks/obj/%.o)
	rm -f $@
	ar rcs $@ $^
$(BUILD)/tsan/%: TSAN_FLAGS += -DWS_TEST_HOOKS
$(BUILD)/sched_fuzz: tests/sched_fuzz.c tests/stress.h $(TEST_RT) | $(BUILD)/wsrun.dynlist
	$(CC) $(CFLAGS_ALL) -DWS_TEST_HOOKS -Itests $(EXPORT_DYNAMIC) $< $(TEST_RT) -o $@ -ldl -lm
$(BUILD)/tsan/sched_fuzz: tests/sched_fuzz.c tests/stress.h $(RUNTIME_SRCS:%.c=$(BUILD)/tsan/%.o)
	$(CC) $(TSAN_FLAGS) -Itests $(EXPORT_DYNAMIC) $< $(filter %.o,$^) -o $@ -ldl -lm
# make soak runs it first for a third of SOAK_SECONDS each, plain and
# TSan (soak-ci: 10 s + 10 s).
SCHED_FUZZ_SECONDS ?= $(shell echo $$(( $(SOAK_SECONDS) / 3 )))
.PHONY: sched-fuzz sched-fuzz-ci
sched-fuzz: $(BUILD)/sched_fuzz $(BUILD)/tsan/sched_fuzz
	SCHED_FUZZ_SECONDS=$(SCHED_FUZZ_SECONDS) $(BUILD)/sched_fuzz
	SCHED_FUZZ_SECONDS=$(SCHED_FUZZ_SECONDS) TSAN_OPTIONS="halt_on_error=1 exitcode=66" setarch -R $(BUILD)/tsan/sched_fuzz
sched-fuzz-ci:
	@$(MAKE) --no-print-directory sched-fuzz SCHED_FUZZ_SECONDS=10
soak: sched-fuzz

# ---------------------------------------------------------------- tests
TEST_LIBS := -lcriterion -ldl -lm $(PNG_LIBS)

$(BUILD)/tests/test_%: tests/test_%.c $(TEST_RT) $(wildcard tests/*.h include/*.h) | $(BUILD)/wsrun.dynlist
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -DWS_TEST_HOOKS $(PNG_CFLAGS) -Itests $(EXPORT_DYNAMIC) $< $(TEST_RT) -o $@ $(TEST_LIBS)

# Test fixture plugins (bad descriptors, deliberate failures): built apart
# from the real plugins so `wsrun --plugin` never finds them by name.
TEST_PLUGIN_SRCS := $(wildcard tests/plugins/*.c)
TEST_PLUGINS     := $(TEST_PLUGIN_SRCS:tests/plugins/%.c=$(BUILD)/test-plugins/%.so)

$(BUILD)/test-plugins/%.so: tests/plugins/%.c include/wsrun.h $(wildcard tests/plugins/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -fPIC -shared $< -o $@

# A C++ plugin, once per compiler and standard (issue 14: wsrun.h must build
# as C++ with g++ and clang++); tests/cli/cxx-plugin.sh runs each.
CXX_WARN := -Wall -Wextra -Wpedantic -Werror -Wshadow -Wno-missing-field-initializers
CXXFORK_BUILDS := gxx11 gxx14 gxx17 gxx20 clangxx11 clangxx14 clangxx17 clangxx20 clangxx2b
TEST_PLUGINS += $(CXXFORK_BUILDS:%=$(BUILD)/test-plugins/cxxfork_%.so)

$(BUILD)/test-plugins/cxxfork_gxx%.so: tests/plugins/cxx/cxxfork.cpp include/wsrun.h
	@mkdir -p $(dir $@)
	g++ -std=c++$* -O2 -g $(CXX_WARN) -Iinclude -fPIC -shared -DCXXFORK_NAME='"cxxfork_gxx$*"' $< -o $@

$(BUILD)/test-plugins/cxxfork_clangxx%.so: tests/plugins/cxx/cxxfork.cpp include/wsrun.h
	@mkdir -p $(dir $@)
	clang++ -std=c++$* -O2 -g $(CXX_WARN) -Iinclude -fPIC -shared -DCXXFORK_NAME='"cxxfork_clangxx$*"' $< -o $@

test: deps-test
	@$(MAKE) --no-print-directory all tests-build
	@$(MAKE) --no-print-directory test-unit test-cli test-embed test-tsan test-asan soak-ci fuzz-ci

tests-build: $(TESTS) $(TEST_PLUGINS) $(BUILD)/wsrun-mpi

test-unit: $(TESTS) $(TEST_PLUGINS) all $(BUILD)/wsrun-mpi
	@set -e; for t in $(TESTS); do echo "== $$t"; WSRUN_BUILD=$(BUILD) $$t --jobs 2; done

test-cli: all $(TEST_PLUGINS)
	@set -e; for s in tests/cli/*.sh; do echo "== $$s"; WSRUN_BUILD=$(BUILD) $$s; done

# ThreadSanitizer: standalone programs (Criterion cannot start under TSan
# here) built with the runtime compiled again with -fsanitize=thread.
TSAN_DIR := $(BUILD)/tsan
TSAN_FLAGS := $(CSTD) -O1 -g -fsanitize=thread $(WARN) -pthread -Iinclude $(RT_INC)
TSAN_RUNTIME_OBJS := $(RUNTIME_SRCS:%.c=$(TSAN_DIR)/%.o)
TSAN_BINS := $(TSAN_SRCS:tests/%.c=$(TSAN_DIR)/%)

$(TSAN_DIR)/%.o: %.c $(wildcard include/*.h) $(RT_HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(TSAN_FLAGS) -c $< -o $@

$(TSAN_DIR)/tsan_%: tests/tsan_%.c $(TSAN_RUNTIME_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(TSAN_FLAGS) $(EXPORT_DYNAMIC) $^ -o $@ -ldl -lm

test-tsan: $(TSAN_BINS)
	@set -e; for t in $(TSAN_BINS); do echo "== $$t"; TSAN_OPTIONS="halt_on_error=1 exitcode=66" setarch -R $$t; done
	@$(MAKE) --no-print-directory test-tsan-cli

# ---------------------------------------------------------------- failures
# Sanitizers, soak, fuzzing and valgrind (docs/failures.md).

# AddressSanitizer + UndefinedBehaviorSanitizer: the whole Criterion suite
# and the CLI tests, everything rebuilt under $(BUILD)/asan.  Leaks count.
ASAN_BUILD := $(BUILD)/asan
ASAN_OPT   := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
ASAN_ENV   := ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=0 \
              LSAN_OPTIONS="suppressions='$(CURDIR)/tests/lsan.supp':print_suppressions=0" \
              UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# Open MPI keeps allocations to exit inside components it has unloaded,
# which LeakSanitizer cannot name for a suppression: the MPI test alone
# runs without leak checking (its other ASan/UBSan checks stay on).
ASAN_TESTS := $(TESTS:$(BUILD)/%=$(ASAN_BUILD)/%)
ASAN_MPI_TESTS := $(filter %/test_mpi,$(ASAN_TESTS))

test-asan:
	@$(MAKE) --no-print-directory BUILD=$(ASAN_BUILD) OPT="$(ASAN_OPT)" all tests-build
	@$(ASAN_ENV) $(MAKE) --no-print-directory BUILD=$(ASAN_BUILD) OPT="$(ASAN_OPT)" \
	    TESTS="$(filter-out $(ASAN_MPI_TESTS),$(ASAN_TESTS))" test-unit test-cli
	@set -e; for t in $(ASAN_MPI_TESTS); do echo "== $$t (no leak check)"; \
	    $(ASAN_ENV) ASAN_OPTIONS=detect_leaks=0 WSRUN_BUILD=$(ASAN_BUILD) $$t --jobs 2; done

# The CLI tests against a wsrun and plugins built with ThreadSanitizer
# (Criterion itself cannot start under TSan here).
TSAN_CLI_OPT := -O1 -g -fsanitize=thread
test-plugins: $(TEST_PLUGINS)

test-tsan-cli:
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/tsan-cli OPT="$(TSAN_CLI_OPT)" all test-plugins
	@set -e; for s in tests/cli/*.sh; do echo "== $$s (TSan)"; \
	    TSAN_OPTIONS="halt_on_error=1 exitcode=66" WSRUN_BUILD=$(BUILD)/tsan-cli setarch -R $$s; done

# Soak: deque, pool, fork-join and journal stress at -j 2..16 for
# SOAK_SECONDS; soak-ci is the 60-second version (half of it under TSan).
SOAK_SECONDS ?= 600
$(BUILD)/soak: tests/soak.c tests/stress.h $(TEST_RT) | $(BUILD)/wsrun.dynlist
	$(CC) $(CFLAGS_ALL) -DWS_TEST_HOOKS -Itests $(EXPORT_DYNAMIC) $< $(TEST_RT) -o $@ -ldl -lm

$(TSAN_DIR)/soak: tests/soak.c tests/stress.h $(TSAN_RUNTIME_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(TSAN_FLAGS) -Itests $(EXPORT_DYNAMIC) $< $(TSAN_RUNTIME_OBJS) -o $@ -ldl -lm

soak: $(BUILD)/soak
	SOAK_SECONDS=$(SOAK_SECONDS) $(BUILD)/soak

soak-tsan: $(TSAN_DIR)/soak
	SOAK_SECONDS=$(SOAK_SECONDS) TSAN_OPTIONS="halt_on_error=1 exitcode=66" setarch -R $(TSAN_DIR)/soak

soak-ci:
	@$(MAKE) --no-print-directory soak SOAK_SECONDS=30
	@$(MAKE) --no-print-directory soak-tsan SOAK_SECONDS=30

# Fuzzing: libFuzzer targets (clang) for the option parser, the PNG decode
# path of read/fill and the journal reader; seeds in tests/fuzz/corpus/,
# found crashes kept in tests/fuzz/regress/ and replayed on every run.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 300
FUZZ_DIR     := $(BUILD)/fuzz
FUZZ_FLAGS   := $(CSTD) -O1 -g -fsanitize=fuzzer-no-link,address,undefined \
                -fno-sanitize-recover=undefined $(WARN) -pthread -Iinclude $(RT_INC) -Itasks $(PNG_CFLAGS)
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS    := $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%)
FUZZ_RUNTIME_OBJS := $(RUNTIME_SRCS:%.c=$(FUZZ_DIR)/%.o)

$(FUZZ_DIR)/%.o: %.c $(wildcard include/*.h) $(RT_HEADERS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -c $< -o $@

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_RUNTIME_OBJS) $(wildcard tasks/*.h tasks/common/*.h)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer $< $(filter %.o,$^) -o $@ -ldl -lm $(PNG_LIBS)

fuzz-build: $(FUZZ_BINS)

fuzz:
	@scripts/need-debian-packages $(FUZZ_PKGS)
	@$(MAKE) --no-print-directory fuzz-build
	@FUZZ_DIR=$(FUZZ_DIR) FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh $(FUZZ_TARGETS)

# 30 s per target, the targets side by side.
fuzz-ci:
	@scripts/need-debian-packages $(FUZZ_PKGS)
	@$(MAKE) --no-print-directory fuzz-build
	@FUZZ_DIR=$(FUZZ_DIR) FUZZ_SECONDS=30 FUZZ_PARALLEL=1 tests/fuzz/run.sh $(FUZZ_TARGETS)

# Valgrind memcheck over short noise, read and fill runs: no leak, no error.
VALGRIND := valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect,possible \
            --errors-for-leak-kinds=definite,indirect,possible --track-fds=no
valgrind:
	@scripts/need-debian-packages valgrind
	@$(MAKE) --no-print-directory all
	@set -e; d=$$(mktemp -d /tmp/wsrun-valgrind.XXXXXX); trap 'rm -rf "$$d"' EXIT; w="$$(pwd)/$(BUILD)/wsrun"; \
	cd "$$d"; \
	echo "== valgrind noise"; $(VALGRIND) "$$w" -p noise -n 40 -j 2 -o width=32 -o height=24; \
	echo "== valgrind read"; $(VALGRIND) "$$w" -p read -o input='image_*.png' -o output=manifest.csv -j 2; \
	echo "== valgrind fill"; $(VALGRIND) "$$w" -p fill -o input='image_*.png' -o output=a.npy -j 2; \
	echo "== valgrind journal + resume"; $(VALGRIND) "$$w" -p noise -n 40 -j 2 --journal j --resume -q; \
	echo "== valgrind failing index"; rc=0; $(VALGRIND) "$$w" -p noise -n 4 -o prefix=no/such/dir/ -q 2>/dev/null || rc=$$?; \
	[ $$rc -eq 1 ] || { echo "valgrind: failing run exited $$rc, expected 1"; exit 1; }; \
	echo "valgrind: no errors, no leaks"

# ---------------------------------------------------------------- bench
# The wake-up microbenchmark (bench/wake_latency.c), run by bench/run.sh.
$(BUILD)/bench/wake_latency: bench/wake_latency.c $(BUILD)/libwsrt.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $< $(BUILD)/libwsrt.a -o $@ -ldl -lm

bench: all $(BUILD)/bench/wake_latency
	@BUILD=$(BUILD) bench/run.sh

bench-quick: all $(BUILD)/bench/wake_latency
	@BUILD=$(BUILD) BENCH_QUICK=1 bench/run.sh

# ---------------------------------------------------------------- MPI
# wsrun-mpi (docs/distributed.md): the same CLI on MPI ranks that share the
# index space.  Built by `make mpi` (or `make MPI=1`), and for the tests;
# only the first two leave $(MPI_STAMP), which is what makes `make install`
# install it.  wsrun itself never needs MPI.
MPICC    ?= mpicc
MPI_SRCS := $(wildcard runtime/mpi/*.c)
MPI_OBJS := $(MPI_SRCS:%.c=$(BUILD)/obj/%.o)

mpi:
	@scripts/need-debian-packages $(BUILD_PKGS) $(MPI_PKGS)
	@$(MAKE) --no-print-directory mpi-build

MPI_STAMP := $(BUILD)/wsrun-mpi.wanted
mpi-build: $(BUILD)/wsrun-mpi $(PLUGINS)
	@touch $(MPI_STAMP)

ifeq ($(MPI),1)
all: mpi
endif

$(BUILD)/obj/runtime/mpi/%.o: runtime/mpi/%.c include/wsrun.h $(RT_HEADERS) $(wildcard runtime/mpi/*.h)
	@mkdir -p $(dir $@)
	$(MPICC) $(CFLAGS_ALL) -c $< -o $@

$(BUILD)/wsrun-mpi: $(MPI_OBJS) $(BUILD)/libwsrt.a
	$(MPICC) $(CFLAGS_ALL) $(EXPORT_DYNAMIC) $^ -o $@ -ldl -lm

# The MPI path against the single-process path (bench/mpi.sh).
bench-mpi: mpi
	@BUILD=$(BUILD) bench/mpi.sh

# ---------------------------------------------------------------- Public API
# Only what include/wsrun.h declares WS_API leaves wsrun: the runtime is
# compiled with hidden visibility (the header marks its functions default),
# and every program linked with $(EXPORT_DYNAMIC) exports the names listed
# from the header (tests/cli/exports.sh checks both).  The objects wait for
# the list, so every program made of them finds it there when it links.
PUBLIC_API_OBJS := $(RUNTIME_OBJS) $(BUILD)/obj/runtime/cmd/main.o $(MPI_OBJS)
$(PUBLIC_API_OBJS): CFLAGS_ALL += -fvisibility=hidden
$(TSAN_RUNTIME_OBJS): TSAN_FLAGS += -fvisibility=hidden
$(FUZZ_RUNTIME_OBJS): FUZZ_FLAGS += -fvisibility=hidden
$(PUBLIC_API_OBJS) $(TSAN_RUNTIME_OBJS) $(FUZZ_RUNTIME_OBJS): | $(BUILD)/wsrun.dynlist

$(BUILD)/wsrun.dynlist: include/wsrun.h scripts/public-functions
	@mkdir -p $(dir $@)
	scripts/public-functions --dynlist include/wsrun.h > $@.tmp
	mv $@.tmp $@

# ---------------------------------------------------------------- task helpers
# Code the built-in plugins share (tasks/common/: input selection, PNG
# decoding, manifest text), compiled once into a static library of
# position-independent, hidden objects that each plugin links: a plugin
# exports none of it, and never binds to wsrun's own symbols.
TASKS_LIB_SRCS := $(wildcard tasks/common/*.c)
# The JSON string escaper is the runtime's own source, compiled again here:
# one escaper, and each side has its own hidden copy.
TASKS_LIB_OBJS := $(TASKS_LIB_SRCS:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/tasks/common/json_escape.o

$(BUILD)/obj/tasks/common/json_escape.o: runtime/base/json_escape.c runtime/base/json_escape.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -fPIC -fvisibility=hidden -c $< -o $@

$(BUILD)/obj/tasks/common/%.o: tasks/common/%.c $(wildcard tasks/common/*.h) include/wsrun.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(PNG_CFLAGS) -fPIC -fvisibility=hidden -c $< -o $@

$(BUILD)/libwstasks.a: $(TASKS_LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

# test_read checks the input order (wstask_natural_cmp; the runtime again after
# the helpers, for their ws_fail calls); fuzz_png decodes with png_read.c
# built with the fuzzer's instrumentation.
$(BUILD)/tests/test_read: $(BUILD)/libwstasks.a
$(BUILD)/tests/test_read: TEST_LIBS := $(BUILD)/libwstasks.a $(BUILD)/libwsrt.a $(TEST_LIBS)
$(FUZZ_DIR)/fuzz_png: $(FUZZ_DIR)/tasks/common/png_read.o

# ---------------------------------------------------------------- libwsrun
# The embedding library (include/wsrun_embed.h, docs/embedding.md): the
# runtime less the command layer, compiled again position-independent, as
# build/libwsrun.so (soname libwsrun.so.1) and build/libwsrun.a.  wsrun
# itself keeps linking its own objects statically (no rpath, nothing to
# install beside it).  Its layers are the folders base, sched, plugin and
# embed; reports and cmd are the command's (runtime/*/ and docs/design.md,
# "Layers").  The library links with --no-undefined, so library code that
# calls into the command fails the link, loudly.
WS_VERSION = $(shell sed -n 's/^\#define WS_VERSION "\(.*\)"/\1/p' include/wsrun.h)
LIB_LAYERS := base sched plugin embed
LIB_SRCS   := $(wildcard $(LIB_LAYERS:%=runtime/%/*.c))
LIB_OBJS   := $(LIB_SRCS:%.c=$(BUILD)/pic/%.o)
LIB_SONAME := libwsrun.so.1
LIB_REAL    = libwsrun.so.$(WS_VERSION)
LIB_MAP    := $(BUILD)/libwsrun.map

lib: $(BUILD)/libwsrun.so $(BUILD)/libwsrun.a

$(BUILD)/pic/%.o: %.c $(wildcard include/*.h) $(RT_HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -fPIC -fvisibility=hidden -c $< -o $@

# Exactly the WS_API functions of the two headers leave the library.
$(LIB_MAP): include/wsrun.h include/wsrun_embed.h scripts/public-functions
	@mkdir -p $(dir $@)
	scripts/public-functions --version-script include/wsrun.h include/wsrun_embed.h > $@.tmp
	mv $@.tmp $@

$(BUILD)/libwsrun.so: $(LIB_OBJS) $(LIB_MAP)
	$(CC) $(CFLAGS_ALL) -shared -Wl,-soname,$(LIB_SONAME) -Wl,--no-undefined \
	    -Wl,--version-script=$(LIB_MAP) $(LIB_OBJS) -o $(BUILD)/$(LIB_REAL) -ldl -lm
	ln -sf $(LIB_REAL) $(BUILD)/$(LIB_SONAME)
	ln -sf $(LIB_SONAME) $@

$(BUILD)/libwsrun.a: $(LIB_OBJS)
	rm -f $@
	ar rcs $@ $^

# The example of docs/embedding.md, built against an installed copy
# (tests/embed.sh: shared, static, and as C++).
test-embed: all lib
	@WSRUN_BUILD=$(BUILD) tests/embed.sh

# ---------------------------------------------------------------- install
# PREFIX is where wsrun will live (written into wsrun.pc); DESTDIR only
# stages the files (packaging).  The installed wsrun finds the plugins in
# $(PREFIX)/lib/wsrun by itself: it looks in <its folder>/../lib/wsrun.
BINDIR     = $(PREFIX)/bin
LIBDIR     = $(PREFIX)/lib
PLUGINDIR  = $(PREFIX)/lib/wsrun
INCLUDEDIR = $(PREFIX)/include
PCDIR      = $(PREFIX)/lib/pkgconfig
MANDIR     = $(PREFIX)/share/man
MAN_PAGES := docs/man/wsrun.1 docs/man/wsrun-plugin.7

install: all lib $(MAN_PAGES) wsrun.pc.in libwsrun.pc.in
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(PLUGINDIR) $(DESTDIR)$(INCLUDEDIR) \
	    $(DESTDIR)$(PCDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man7
	install -m 755 $(BUILD)/wsrun $(DESTDIR)$(BINDIR)/wsrun
	install -m 755 $(PLUGINS) $(DESTDIR)$(PLUGINDIR)/
	install -m 644 include/wsrun.h include/wsrun_embed.h $(DESTDIR)$(INCLUDEDIR)/
	for pc in wsrun libwsrun; do \
	    sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(WS_VERSION)|g' $$pc.pc.in \
	        > $(DESTDIR)$(PCDIR)/$$pc.pc.tmp && \
	    mv $(DESTDIR)$(PCDIR)/$$pc.pc.tmp $(DESTDIR)$(PCDIR)/$$pc.pc && \
	    chmod 644 $(DESTDIR)$(PCDIR)/$$pc.pc || exit 1; done
	install -m 755 $(BUILD)/$(LIB_REAL) $(DESTDIR)$(LIBDIR)/$(LIB_REAL)
	ln -sf $(LIB_REAL) $(DESTDIR)$(LIBDIR)/$(LIB_SONAME)
	ln -sf $(LIB_SONAME) $(DESTDIR)$(LIBDIR)/libwsrun.so
	install -m 644 $(BUILD)/libwsrun.a $(DESTDIR)$(LIBDIR)/libwsrun.a
	install -m 644 docs/man/wsrun.1 $(DESTDIR)$(MANDIR)/man1/wsrun.1
	install -m 644 docs/man/wsrun-plugin.7 $(DESTDIR)$(MANDIR)/man7/wsrun-plugin.7
	@# wsrun-mpi and its page, only after `make mpi` or with MPI=1 (the
	@# stamp): the copy `make test` builds for its tests is not installed.
	if [ -f $(MPI_STAMP) ] && [ -x $(BUILD)/wsrun-mpi ]; then \
	    install -m 755 $(BUILD)/wsrun-mpi $(DESTDIR)$(BINDIR)/wsrun-mpi && \
	    install -m 644 docs/man/wsrun-mpi.1 $(DESTDIR)$(MANDIR)/man1/wsrun-mpi.1; fi

# Removes exactly what install put there, and the plugin folder if that
# leaves it empty; shared folders (bin, include, ...) stay.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/wsrun $(PLUGIN_NAMES:%=$(DESTDIR)$(PLUGINDIR)/%.so) \
	    $(DESTDIR)$(INCLUDEDIR)/wsrun.h $(DESTDIR)$(PCDIR)/wsrun.pc \
	    $(DESTDIR)$(INCLUDEDIR)/wsrun_embed.h $(DESTDIR)$(PCDIR)/libwsrun.pc \
	    $(DESTDIR)$(LIBDIR)/$(LIB_REAL) $(DESTDIR)$(LIBDIR)/$(LIB_SONAME) \
	    $(DESTDIR)$(LIBDIR)/libwsrun.so $(DESTDIR)$(LIBDIR)/libwsrun.a \
	    $(DESTDIR)$(MANDIR)/man1/wsrun.1 $(DESTDIR)$(MANDIR)/man7/wsrun-plugin.7 \
	    $(DESTDIR)$(BINDIR)/wsrun-mpi $(DESTDIR)$(MANDIR)/man1/wsrun-mpi.1
	-rmdir $(DESTDIR)$(PLUGINDIR) 2>/dev/null

# ---------------------------------------------------------------- fresh machine
# The README's set-up (make run, make test) on a fresh minimal Debian 12
# root with the committed HEAD cloned into /root/wsrun (scripts/check-fresh;
# root only; CHECK_FRESH_ARGS=--twice runs make test twice).
check-fresh:
	@scripts/check-fresh $(CHECK_FRESH_ARGS)

clean:
	rm -rf $(BUILD)
