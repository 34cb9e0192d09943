# wsrun - build, run, test, bench.
# Everything built goes under build/; nothing here writes outside the tree
# except `make install`.  New plugins need no edit here: tasks/*.c and
# plugins/*.c (or plugins/<name>/<name>.c) each become build/plugins/<name>.so,
# and tests/test_*.c each become a Criterion binary.

CC      ?= gcc
BUILD   ?= build
PREFIX  ?= /usr/local
DESTDIR ?=

# Debian packages the build and the tests need (installed by the targets
# below when run as root; otherwise the exact apt-get line is printed).
BUILD_PKGS := gcc make libc6-dev pkg-config libpng-dev zlib1g-dev
TEST_PKGS  := $(BUILD_PKGS) libcriterion-dev python3 python3-numpy

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-missing-field-initializers
CSTD    := -std=c11 -D_GNU_SOURCE
OPT     ?= -O2 -g
CFLAGS_ALL = $(CSTD) $(OPT) $(WARN) -pthread -Iinclude -Iruntime $(EXTRA_CFLAGS)
PNG_CFLAGS = $(shell pkg-config --cflags libpng 2>/dev/null)
PNG_LIBS   = $(shell pkg-config --libs libpng 2>/dev/null || echo -lpng) -lz

RUNTIME_SRCS := $(filter-out runtime/main.c,$(wildcard runtime/*.c))
RUNTIME_OBJS := $(RUNTIME_SRCS:%.c=$(BUILD)/obj/%.o)
TASK_SRCS    := $(wildcard tasks/*.c)
PLUGIN_SRCS  := $(wildcard plugins/*.c)
PLUGIN_NAMES := $(notdir $(TASK_SRCS:.c=) $(PLUGIN_SRCS:.c=))
PLUGINS      := $(PLUGIN_NAMES:%=$(BUILD)/plugins/%.so)
TEST_SRCS    := $(wildcard tests/test_*.c)
TESTS        := $(TEST_SRCS:tests/%.c=$(BUILD)/tests/%)
TSAN_SRCS    := $(wildcard tests/tsan_*.c)

# The executable exports its ws_* functions so plugins resolve them at dlopen.
EXPORT_DYNAMIC := -Wl,--export-dynamic

.PHONY: all run test test-unit test-cli test-tsan bench bench-quick clean deps deps-test install uninstall
# Keep intermediate objects (the TSan/ASan builds) so reruns do not rebuild.
.SECONDARY:
.DEFAULT_GOAL := all

all: $(BUILD)/wsrun $(PLUGINS)

deps:
	@scripts/need-debian-packages $(BUILD_PKGS)

deps-test:
	@scripts/need-debian-packages $(TEST_PKGS)

$(BUILD)/obj/%.o: %.c include/wsrun.h $(wildcard runtime/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(BUILD)/libwsrt.a: $(RUNTIME_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/wsrun: $(BUILD)/obj/runtime/main.o $(BUILD)/libwsrt.a
	$(CC) $(CFLAGS_ALL) $(EXPORT_DYNAMIC) $^ -o $@ -ldl -lm

# Plugins: position-independent, undefined ws_* symbols left to the host.
$(BUILD)/plugins/%.so: tasks/%.c include/wsrun.h $(wildcard tasks/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(PNG_CFLAGS) -fPIC -shared $< -o $@ $(PNG_LIBS) -lm

$(BUILD)/plugins/%.so: plugins/%.c include/wsrun.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -fPIC -shared $< -o $@ -lm

# ---------------------------------------------------------------- run
run: deps all
	@mkdir -p out
	cd out && ../$(BUILD)/wsrun --plugin noise.so --count 2000
	@echo "wrote $$(ls out | grep -c '^image_.*\.png$$') images to out/"

# ---------------------------------------------------------------- tests
TEST_LIBS := -lcriterion -ldl -lm $(PNG_LIBS)

$(BUILD)/tests/test_%: tests/test_%.c $(BUILD)/libwsrt.a $(wildcard tests/*.h) include/wsrun.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(PNG_CFLAGS) -Itests $(EXPORT_DYNAMIC) $< $(BUILD)/libwsrt.a -o $@ $(TEST_LIBS)

# Test fixture plugins (bad descriptors, deliberate failures): built apart
# from the real plugins so `wsrun --plugin` never finds them by name.
TEST_PLUGIN_SRCS := $(wildcard tests/plugins/*.c)
TEST_PLUGINS     := $(TEST_PLUGIN_SRCS:tests/plugins/%.c=$(BUILD)/test-plugins/%.so)

$(BUILD)/test-plugins/%.so: tests/plugins/%.c include/wsrun.h $(wildcard tests/plugins/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -fPIC -shared $< -o $@

test: deps-test
	@$(MAKE) --no-print-directory all tests-build
	@$(MAKE) --no-print-directory test-unit test-cli test-tsan

tests-build: $(TESTS) $(TEST_PLUGINS)

test-unit: $(TESTS) $(TEST_PLUGINS) all
	@set -e; for t in $(TESTS); do echo "== $$t"; WSRUN_BUILD=$(BUILD) $$t --jobs 2; done

test-cli: all $(TEST_PLUGINS)
	@WSRUN_BUILD=$(BUILD) tests/cli/run-all.sh

# ThreadSanitizer: standalone programs (Criterion cannot start under TSan
# here) built with the runtime compiled again with -fsanitize=thread.
TSAN_DIR := $(BUILD)/tsan
TSAN_FLAGS := $(CSTD) -O1 -g -fsanitize=thread $(WARN) -pthread -Iinclude -Iruntime
TSAN_RUNTIME_OBJS := $(RUNTIME_SRCS:%.c=$(TSAN_DIR)/%.o)
TSAN_BINS := $(TSAN_SRCS:tests/%.c=$(TSAN_DIR)/%)

$(TSAN_DIR)/%.o: %.c include/wsrun.h $(wildcard runtime/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(TSAN_FLAGS) -c $< -o $@

$(TSAN_DIR)/tsan_%: tests/tsan_%.c $(TSAN_RUNTIME_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(TSAN_FLAGS) $(EXPORT_DYNAMIC) $^ -o $@ -ldl -lm

test-tsan: $(TSAN_BINS)
	@set -e; for t in $(TSAN_BINS); do echo "== $$t"; TSAN_OPTIONS="halt_on_error=1 exitcode=66" setarch -R $$t; done

# ---------------------------------------------------------------- bench
bench: all
	@bench/run.sh

bench-quick: all
	@BENCH_QUICK=1 bench/run.sh

clean:
	rm -rf $(BUILD)
