# The market-data pipeline on one core (decode, SIMD filter, order book, the ITCH
# generator) on a generated day: bench/bench_pipeline.c, run by bench/bench_pipeline.sh,
# which writes its section of bench/RESULTS.md.
#   make bench-pipeline                      50 million messages
#   make bench-pipeline BENCH_PIPELINE_ARGS=--quick   5 million
BENCH_PIPELINE := $(BUILD)/bench/bench_pipeline

$(BENCH_PIPELINE): bench/bench_pipeline.c $(LIB_A) | $(BUILD)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -o $@ $< $(LIB_A) $(LDLIBS)

.PHONY: bench-pipeline
bench-pipeline: $(BENCH_PIPELINE)
	$(Q)BENCH_PIPELINE=$(CURDIR)/$(BENCH_PIPELINE) bench/bench_pipeline.sh $(BENCH_PIPELINE_ARGS)

bench: bench-pipeline
