# wsrun - the build, the tests, the benchmarks and installing.
#
#   make            wsrun, the plugins (build/wsrun, build/plugins/*.so)
#   make run        the main job: 2000 noise images into out/
#   make test       every test (mk/test.mk lists the parts)
#   make bench      the benchmarks (bench/run.sh; not tests)
#   make install    into PREFIX (mk/install.mk)
#
# This file holds the settings every part shares; each concern has its own
# fragment, read in this order: mk/build.mk (what is built, and from what),
# mk/test.mk (make test and its parts), mk/check.mk (sanitizers, soak,
# fuzzing, valgrind, the fresh-machine check), mk/bench.mk, mk/install.mk.
# Everything built goes under $(BUILD); nothing writes outside the tree
# except `make install`.  Any single target under build/ builds from a clean
# tree by itself (tests/targets.sh checks every one).

# make predefines CC (as cc), so `CC ?= gcc` would never apply: gcc unless
# the command line or the environment names another compiler.
ifeq ($(origin CC),default)
CC      := gcc
endif
BUILD   ?= build
PREFIX  ?= /usr/local
DESTDIR ?=

# Debian packages the build and the tests need (installed by the targets
# when run as root; otherwise the exact apt-get line is printed).
# python3-dev: the built-in python plugin embeds Debian's CPython 3.11.
BUILD_PKGS := gcc make libc6-dev pkg-config libpng-dev zlib1g-dev python3-dev
TEST_PKGS  := $(BUILD_PKGS) libcriterion-dev python3 python3-numpy groff-base man-db g++
# python3-pytest: the wsrun Python package's tests (make test-python).
TEST_PKGS  += python3-pytest
# gdb: the test watchdog prints a hung program's stacks with it; ccache
# makes tests/targets.sh's build of every target from empty take a minute.
TEST_PKGS  += gdb ccache
# wsrun --scaling-plot draws with gnuplot (tests/cli/scaling.sh checks the PNG).
TEST_PKGS  += gnuplot-nox
# wsrun-mpi only (`make mpi`); the tests run it too.
MPI_PKGS   := openmpi-bin libopenmpi-dev
TEST_PKGS  += $(MPI_PKGS)
# libFuzzer (fuzz-ci, part of make test, and make fuzz); clang++ for the
# C++ plugin tests.
FUZZ_PKGS  := clang libclang-rt-14-dev
TEST_PKGS  += $(FUZZ_PKGS)
# The AddressSanitizer build's compiler: LLVM 19's ASan locks its allocator
# around fork() (gcc 12's does not: a test runner forking while its other
# thread allocates left the child stuck for ever; docs/failures.md).
# llvm-14's llvm-symbolizer names the frames of its reports.
ASAN_PKGS  := clang-19 libclang-rt-19-dev llvm-14
TEST_PKGS  += $(ASAN_PKGS)

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-missing-field-initializers
CSTD    := -std=c11 -D_GNU_SOURCE
OPT     ?= -O2 -g
# Header dependencies: each compile writes its .d beside its output.
DEPFLAGS = -MMD -MP
# runtime/ is grouped by layer (docs/design.md, "Layers"); a file includes
# the headers of its own layer and of the layers below it by name
# (scripts/check-layers, run by tests/cli/layers.sh, keeps it so).
RT_LAYERS  := base sched plugin isolate embed reports cmd
RT_INC     := $(RT_LAYERS:%=-Iruntime/%)
CFLAGS_ALL = $(CSTD) $(OPT) $(WARN) -pthread -Iinclude $(RT_INC) $(EXTRA_CFLAGS)
PNG_CFLAGS = $(shell pkg-config --cflags libpng 2>/dev/null)
PNG_LIBS   = $(shell pkg-config --libs libpng 2>/dev/null || echo -lpng) -lz

# Header dependencies live in .d files beside each output (DEPFLAGS).  A
# build folder made before them (wsrun 1.4 and older) knows no headers, so
# a changed wsrun.h would leave its plugins stale: start it afresh, once.
DEPS_STAMP := $(BUILD)/.deps-v1
ifneq ($(wildcard $(BUILD)/obj),)
ifeq ($(wildcard $(DEPS_STAMP)),)
$(info wsrun: $(BUILD)/ was built without header dependency files: removing it to build afresh)
$(shell rm -rf '$(BUILD)')
endif
endif
# list-targets builds nothing (tests/targets.sh calls it with BUILD=@BUILD@):
# it must not make a folder.
ifneq ($(MAKECMDGOALS),list-targets)
$(shell mkdir -p '$(BUILD)' && touch '$(DEPS_STAMP)')
endif

.DEFAULT_GOAL := all
# Keep intermediate objects (the sanitizer builds) so reruns do not rebuild.
.SECONDARY:
.DELETE_ON_ERROR:

include mk/build.mk
include mk/test.mk
include mk/check.mk
include mk/bench.mk
include mk/install.mk

# The header dependencies of everything built so far (none on a clean tree,
# where everything is built anyway).
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

.PHONY: clean
clean:
	rm -rf $(BUILD)
