# mk/test.mk - `make test` and its parts.  Every test program and script runs
# under the watchdog (tests/watchdog/watchdog.c) with the limit that
# tests/limits.txt gives its name: a hang becomes a failure that prints the
# stacks of the stuck tree and names the program (and the test case), a
# passing program may not print a `wsrun:` line nothing captured, nor leave
# a process behind.  Parts stop at the first failure.
#
#   test-watchdog  the watchdog's own test (first: it guards the rest)
#   test-unit      one Criterion binary per tests/test_*.c (not MPI)
#   test-mpi       tests/test_mpi.c (mpirun, 2 or 3 ranks)
#   test-cli       tests/cli/*.sh
#   test-embed     libwsrun installed and used (tests/embed.sh)
#   test-python    the wsrun Python package (pytest, tests/python/test_*.py)
#   test-targets   every build/ target builds from a clean tree alone
#   test-tsan, test-asan, soak-ci, fuzz-ci   (mk/check.mk)

# What the parts run (defined before any rule names them: make expands a
# rule's prerequisites when it reads the rule).
WATCHDOG_DIR  := $(BUILD)/watchdog
WATCHDOG_BINS := $(WATCHDOG_DIR)/watchdog $(WATCHDOG_DIR)/hang $(WATCHDOG_DIR)/hang_criterion
WATCHDOG      ?= $(WATCHDOG_DIR)/watchdog --table tests/limits.txt
TEST_SRCS  := $(wildcard tests/test_*.c)
TESTS      := $(TEST_SRCS:tests/%.c=$(BUILD)/tests/%)
MPI_TESTS  := $(filter %/test_mpi,$(TESTS))
UNIT_TESTS := $(filter-out $(MPI_TESTS),$(TESTS))
TEST_RT    := $(BUILD)/hooks/libwsrt.a
TEST_LIBS  := -lcriterion -ldl -lm $(PNG_LIBS)
TEST_PLUGIN_SRCS := $(wildcard tests/plugins/*.c)
TEST_PLUGINS     := $(TEST_PLUGIN_SRCS:tests/plugins/%.c=$(BUILD)/test-plugins/%.so)
CXX_WARN := -Wall -Wextra -Wpedantic -Werror -Wshadow -Wno-missing-field-initializers
CXXFORK_BUILDS := gxx11 gxx14 gxx17 gxx20 clangxx11 clangxx14 clangxx17 clangxx20 clangxx2b
TEST_PLUGINS += $(CXXFORK_BUILDS:%=$(BUILD)/test-plugins/cxxfork_%.so)
CLI_TESTS := $(wildcard tests/cli/*.sh)
PY_TESTS  := $(wildcard tests/python/test_*.py)

.PHONY: test deps-test tests-build test-unit test-mpi test-cli test-embed test-plugins test-watchdog \
        test-targets test-python

deps-test:
	@scripts/need-debian-packages $(TEST_PKGS)

test: deps-test
	@$(MAKE) --no-print-directory all tests-build
	@$(MAKE) --no-print-directory test-watchdog test-unit test-mpi test-cli test-python \
	    test-embed test-targets test-tsan test-asan soak-ci fuzz-ci

tests-build: $(TESTS) $(TEST_PLUGINS) $(BUILD)/wsrun-mpi $(WATCHDOG_BINS)

# ---------------------------------------------------------------- watchdog
# Built with the plain compiler and flags whatever the build (the sanitizer
# passes reuse the one of the main build through WATCHDOG).

$(WATCHDOG_DIR)/watchdog $(WATCHDOG_DIR)/hang: $(WATCHDOG_DIR)/%: tests/watchdog/%.c
	@mkdir -p $(dir $@)
	gcc $(CSTD) -O2 -g $(WARN) -pthread $(DEPFLAGS) -MF $@.d -MT $@ $< -o $@

$(WATCHDOG_DIR)/hang_criterion: tests/watchdog/hang_criterion.c
	@mkdir -p $(dir $@)
	gcc $(CSTD) -O2 -g $(WARN) $(DEPFLAGS) -MF $@.d -MT $@ $< -o $@ -lcriterion

test-watchdog: $(WATCHDOG_BINS)
	@WATCHDOG_DIR=$(WATCHDOG_DIR) $(WATCHDOG) --name watchdog/watchdog.sh -- tests/watchdog/watchdog.sh

# Runs each of $(1) (programs) under the watchdog as $(WD_PREFIX)$(2)/<file
# name> (its name in tests/limits.txt), with $(3) after it; $(4) is
# --criterion for a Criterion runner (the watchdog then names the running
# test case), $(5) a command the watchdog runs under (setarch -R for TSan).
# The sanitizer passes set WD_PREFIX (asan-).
WD_PREFIX ?=
define run_each
	@set -e; for t in $(1); do echo "== $$t"; \
	    WSRUN_BUILD=$(BUILD) $(5) $(WATCHDOG) $(4) --name $(WD_PREFIX)$(2)/$${t##*/} -- $$t $(3); done
endef

# ---------------------------------------------------------------- unit tests
# The test binaries, the TSan programs and the soak link a runtime copy
# built with -DWS_TEST_HOOKS: its WSRT_HOOK points (runtime/base/test_hooks.h)
# let tests hold a thread at a named point and let sched_fuzz inject
# seeded yields and spins.  build/wsrun and the plugins never have them.

$(BUILD)/hooks/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -DWS_TEST_HOOKS $(DEPFLAGS) -c $< -o $@

$(TEST_RT): $(RUNTIME_SRCS:%.c=$(BUILD)/hooks/obj/%.o)
	rm -f $@
	ar rcs $@ $^

# A test program links what it tests before the runtime: $(TEST_PRE) holds
# the archives of code above the runtime (test_read: the plugins' helpers).
$(BUILD)/tests/test_%: tests/test_%.c $(TEST_RT) $(DYNLIST)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -DWS_TEST_HOOKS $(PNG_CFLAGS) -Itests $(DEPFLAGS) -MF $@.d -MT $@ \
	    $(EXPORT_DYNAMIC) $< $(TEST_PRE) $(TEST_RT) -o $@ $(TEST_LIBS)

# test_read checks the input order (wstask_natural_cmp), a helper of the
# built-in plugins.
$(BUILD)/tests/test_read: $(BUILD)/libwstasks.a
$(BUILD)/tests/test_read: TEST_PRE := $(BUILD)/libwstasks.a

test-unit: $(UNIT_TESTS) $(TEST_PLUGINS) all $(WATCHDOG_DIR)/watchdog
	$(call run_each,$(UNIT_TESTS),unit,--jobs 2,--criterion)

test-mpi: $(MPI_TESTS) $(TEST_PLUGINS) all $(BUILD)/wsrun-mpi $(WATCHDOG_DIR)/watchdog
	$(call run_each,$(MPI_TESTS),mpi,--jobs 2,--criterion)

# ---------------------------------------------------------------- fixtures
# Test fixture plugins (bad descriptors, deliberate failures): built apart
# from the real plugins so `wsrun --plugin` never finds them by name.

$(BUILD)/test-plugins/%.so: tests/plugins/%.c
	@mkdir -p $(dir $@)
	$(CC) $(PLUGIN_FLAGS) $< -o $@

# A C++ plugin, once per compiler and standard (wsrun.h must build as C++
# with g++ and clang++); tests/cli/cxx-plugin.sh runs each.
CXXFORK_FLAGS = -O2 -g $(CXX_WARN) -Iinclude -fPIC -shared $(DEPFLAGS) -MF $@.d -MT $@ \
                -DCXXFORK_NAME='"$(basename $(notdir $@))"'

$(BUILD)/test-plugins/cxxfork_gxx%.so: tests/plugins/cxx/cxxfork.cpp
	@mkdir -p $(dir $@)
	g++ -std=c++$* $(CXXFORK_FLAGS) $< -o $@

$(BUILD)/test-plugins/cxxfork_clangxx%.so: tests/plugins/cxx/cxxfork.cpp
	@mkdir -p $(dir $@)
	clang++ -std=c++$* $(CXXFORK_FLAGS) $< -o $@

test-plugins: $(TEST_PLUGINS)

# ---------------------------------------------------------------- scripts

test-cli: all $(TEST_PLUGINS) $(WATCHDOG_DIR)/watchdog
	$(call run_each,$(CLI_TESTS),cli)

# Each file is a pytest run of its own, named python/<file> for the
# watchdog; the package comes from the build tree.
# holdwrite: the Ctrl-C test's index that waits until the run is stopped.
test-python: python $(BUILD)/test-plugins/holdwrite.so $(WATCHDOG_DIR)/watchdog
	@set -e; for t in $(PY_TESTS); do echo "== $$t"; \
	    WSRUN_BUILD=$(BUILD) PYTHONPATH=$(BUILD)/python $(WATCHDOG) \
	    --name $(WD_PREFIX)python/$${t##*/} -- \
	    /usr/bin/python3 -m pytest -q -p no:cacheprovider $$t; done

test-embed: all lib $(WATCHDOG_DIR)/watchdog
	$(call run_each,tests/embed.sh,embed)

test-targets: $(WATCHDOG_DIR)/watchdog
	$(call run_each,tests/targets.sh,targets)

# Every build/ target builds from a clean tree alone (tests/targets.sh
# builds each into an empty folder); this lists them.
.PHONY: list-targets
list-targets:
	@printf '%s\n' $(BUILD)/wsrun $(PLUGINS) $(TESTS) $(TEST_PLUGINS) $(BUILD)/wsrun-mpi \
	    $(BUILD)/libwsrun.so $(BUILD)/libwsrun.a $(BUILD)/libwsrt.a $(BUILD)/libwstasks.a \
	    $(TEST_RT) $(DYNLIST) $(LIB_MAP) $(WATCHDOG_BINS) $(CHECK_TARGETS) $(BENCH_TARGETS) \
	    $(PY_EXT) $(PY_PKG_FILES)
