# mk/bench.mk - the benchmarks (bench/run.sh; docs/benchmarks.md): timings,
# never tests.  make bench-quick is the short version.  Both run
# bench/python_map.sh too (the wsrun Python package, built by `all`).

.PHONY: bench bench-quick bench-mpi

# The wake-up microbenchmark (bench/wake_latency.c), run by bench/run.sh.
$(BUILD)/bench/wake_latency: bench/wake_latency.c $(BUILD)/libwsrt.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(DEPFLAGS) -MF $@.d -MT $@ $< $(BUILD)/libwsrt.a -o $@ -ldl -lm

bench: all $(BUILD)/bench/wake_latency
	@BUILD=$(BUILD) bench/run.sh

bench-quick: all $(BUILD)/bench/wake_latency
	@BUILD=$(BUILD) BENCH_QUICK=1 bench/run.sh

# The MPI path against the single-process path (bench/mpi.sh).
bench-mpi: mpi
	@BUILD=$(BUILD) bench/mpi.sh

BENCH_TARGETS := $(BUILD)/bench/wake_latency
