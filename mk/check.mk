# mk/check.mk - the slower checks: ThreadSanitizer, AddressSanitizer with
# UndefinedBehaviorSanitizer, schedule fuzzing and soak, libFuzzer, valgrind,
# and the fresh-machine check (docs/failures.md).  make test runs the short
# versions (test-tsan, test-asan, soak-ci, fuzz-ci) under the watchdog.

.PHONY: test-tsan test-tsan-cli test-asan sched-fuzz soak soak-tsan soak-ci \
        fuzz fuzz-build fuzz-ci valgrind check-fresh

# ---------------------------------------------------------------- TSan
# Standalone programs (Criterion cannot start under TSan here) linked with
# the runtime compiled again with -fsanitize=thread and the test hooks (the
# soak and sched_fuzz use them; the tsan_*.c programs may).
TSAN_DIR    := $(BUILD)/tsan
TSAN_FLAGS  := $(CSTD) -O1 -g -fsanitize=thread $(WARN) -pthread -Iinclude $(RT_INC) -DWS_TEST_HOOKS
TSAN_RT_OBJS := $(RUNTIME_SRCS:%.c=$(TSAN_DIR)/%.o)
TSAN_SRCS   := $(wildcard tests/tsan_*.c)
TSAN_BINS   := $(TSAN_SRCS:tests/%.c=$(TSAN_DIR)/%)
TSAN_RUN    := TSAN_OPTIONS="halt_on_error=1 exitcode=66" setarch -R

$(TSAN_DIR)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(TSAN_FLAGS) -fvisibility=hidden $(DEPFLAGS) -c $< -o $@

# tests/tsan_*.c, tests/soak.c, tests/sched_fuzz.c under TSan.
$(TSAN_DIR)/%: tests/%.c $(TSAN_RT_OBJS) $(DYNLIST)
	@mkdir -p $(dir $@)
	$(CC) $(TSAN_FLAGS) -Itests $(DEPFLAGS) -MF $@.d -MT $@ $(EXPORT_DYNAMIC) $< $(TSAN_RT_OBJS) -o $@ -ldl -lm

test-tsan: $(TSAN_BINS) $(WATCHDOG_DIR)/watchdog
	$(call run_each,$(TSAN_BINS),tsan,,,$(TSAN_RUN))
	@$(MAKE) --no-print-directory test-tsan-cli

# The CLI tests against a wsrun and plugins built with TSan.
TSAN_CLI_OPT := -O1 -g -fsanitize=thread
test-tsan-cli: $(WATCHDOG_DIR)/watchdog
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/tsan-cli OPT="$(TSAN_CLI_OPT)" all test-plugins
	@set -e; for s in $(CLI_TESTS); do echo "== $$s (TSan)"; \
	    WSRUN_BUILD=$(BUILD)/tsan-cli $(TSAN_RUN) $(WATCHDOG) --name tsan-cli/$${s##*/} -- $$s; done

# ---------------------------------------------------------------- ASan
# AddressSanitizer + UndefinedBehaviorSanitizer: the Criterion suite and the
# CLI tests again, everything rebuilt under $(BUILD)/asan by clang 19 (its
# ASan takes its allocator's locks around fork(); gcc 12's does not, and a
# Criterion runner forking while its other thread allocated left the test
# worker stuck for ever in malloc).  Leaks count.
ASAN_BUILD := $(BUILD)/asan
ASAN_CC    := clang-19
ASAN_OPT   := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
ASAN_ENV   := ASAN_SYMBOLIZER_PATH=/usr/lib/llvm-14/bin/llvm-symbolizer \
              ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=0 \
              LSAN_OPTIONS="suppressions='$(CURDIR)/tests/lsan.supp':print_suppressions=0" \
              UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ASAN_MAKE  := $(MAKE) --no-print-directory BUILD=$(ASAN_BUILD) CC=$(ASAN_CC) OPT="$(ASAN_OPT)" \
              MPICC="env OMPI_CC=$(ASAN_CC) mpicc" WATCHDOG="$(WATCHDOG)" WD_PREFIX=asan- \
              LIB_NO_UNDEFINED=

# Open MPI keeps allocations to exit inside components it has unloaded,
# which LeakSanitizer cannot name for a suppression: the MPI test alone
# runs without leak checking (its other ASan/UBSan checks stay on).
test-asan: $(WATCHDOG_DIR)/watchdog
	@$(ASAN_MAKE) all tests-build
	@$(ASAN_ENV) $(ASAN_MAKE) test-unit test-cli
	@$(ASAN_ENV) ASAN_OPTIONS=detect_leaks=0 $(ASAN_MAKE) test-mpi

# ---------------------------------------------------------------- soak
# Deque, pool, fork-join and journal stress at -j 2..16 for SOAK_SECONDS,
# after the schedule fuzzer (seeded yields and spins at every interleaving
# point, exactly-once checks) for a third of it; each plain, then under
# TSan.  soak-ci is the 60-second version.
SOAK_SECONDS       ?= 600
SCHED_FUZZ_SECONDS ?= $(shell echo $$(( $(SOAK_SECONDS) / 3 )))

$(BUILD)/sched_fuzz $(BUILD)/soak: $(BUILD)/%: tests/%.c $(TEST_RT) $(DYNLIST)
	$(CC) $(CFLAGS_ALL) -DWS_TEST_HOOKS -Itests $(DEPFLAGS) -MF $@.d -MT $@ $(EXPORT_DYNAMIC) \
	    $< $(TEST_RT) -o $@ -ldl -lm

sched-fuzz: $(BUILD)/sched_fuzz $(TSAN_DIR)/sched_fuzz $(WATCHDOG_DIR)/watchdog
	SCHED_FUZZ_SECONDS=$(SCHED_FUZZ_SECONDS) $(WATCHDOG) --name sched_fuzz -- $(BUILD)/sched_fuzz
	SCHED_FUZZ_SECONDS=$(SCHED_FUZZ_SECONDS) $(TSAN_RUN) $(WATCHDOG) --name tsan/sched_fuzz -- $(TSAN_DIR)/sched_fuzz

soak: sched-fuzz $(BUILD)/soak $(WATCHDOG_DIR)/watchdog
	SOAK_SECONDS=$(SOAK_SECONDS) $(WATCHDOG) --name soak -- $(BUILD)/soak

soak-tsan: $(TSAN_DIR)/soak $(WATCHDOG_DIR)/watchdog
	SOAK_SECONDS=$(SOAK_SECONDS) $(TSAN_RUN) $(WATCHDOG) --name tsan/soak -- $(TSAN_DIR)/soak

soak-ci:
	@$(MAKE) --no-print-directory soak SOAK_SECONDS=30
	@$(MAKE) --no-print-directory soak-tsan SOAK_SECONDS=30

# ---------------------------------------------------------------- fuzzing
# libFuzzer targets (clang) for the option parser, the PNG decode path of
# read/fill and the journal reader; seeds in tests/fuzz/corpus/, found
# crashes kept in tests/fuzz/regress/ and replayed on every run.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 300
FUZZ_DIR     := $(BUILD)/fuzz
FUZZ_FLAGS   := $(CSTD) -O1 -g -fsanitize=fuzzer-no-link,address,undefined \
                -fno-sanitize-recover=undefined $(WARN) -pthread -Iinclude $(RT_INC) -Itasks $(PNG_CFLAGS)
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS    := $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%)
FUZZ_RT_OBJS := $(RUNTIME_SRCS:%.c=$(FUZZ_DIR)/%.o)

$(FUZZ_DIR)/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(DEPFLAGS) -c $< -o $@
$(FUZZ_RT_OBJS): FUZZ_FLAGS += -fvisibility=hidden

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_RT_OBJS)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer $(DEPFLAGS) -MF $@.d -MT $@ $< $(filter %.o,$^) \
	    -o $@ -ldl -lm $(PNG_LIBS)
# fuzz_png decodes with png_read.c built with the fuzzer's instrumentation.
$(FUZZ_DIR)/fuzz_png: $(FUZZ_DIR)/tasks/common/png_read.o

fuzz-build: $(FUZZ_BINS)

fuzz:
	@scripts/need-debian-packages $(FUZZ_PKGS)
	@$(MAKE) --no-print-directory fuzz-build
	@FUZZ_DIR=$(FUZZ_DIR) FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh $(FUZZ_TARGETS)

# 30 s per target, the targets side by side.
fuzz-ci: $(WATCHDOG_DIR)/watchdog
	@scripts/need-debian-packages $(FUZZ_PKGS)
	@$(MAKE) --no-print-directory fuzz-build
	@FUZZ_DIR=$(FUZZ_DIR) FUZZ_SECONDS=30 FUZZ_PARALLEL=1 \
	    $(WATCHDOG) --name fuzz-ci -- tests/fuzz/run.sh $(FUZZ_TARGETS)

# ---------------------------------------------------------------- valgrind
# Memcheck over short noise, read and fill runs: no leak, no error.
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

# ---------------------------------------------------------------- fresh machine
# The README's set-up (make run, make test) on a fresh minimal Debian 12
# root with the committed HEAD cloned into /root/wsrun (scripts/check-fresh;
# root only; CHECK_FRESH_ARGS=--twice runs make test twice).
check-fresh:
	@scripts/check-fresh $(CHECK_FRESH_ARGS)

CHECK_TARGETS := $(TSAN_BINS) $(TSAN_DIR)/soak $(TSAN_DIR)/sched_fuzz $(BUILD)/soak $(BUILD)/sched_fuzz $(FUZZ_BINS)
