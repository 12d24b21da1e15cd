# A/B arbitration and re-request recovery: bench/bench_seqr.c times
# the per-feed sequencer per packet; bench/bench_ab.sh adds, on a veth pair
# between two namespaces, the latency two lines add over one and the recovery
# latency against the re-request server's distance. Writes the ab section of
# bench/RESULTS.md. Needs root; about two minutes.
BENCH_SEQR := $(BUILD)/bench/bench_seqr

$(BENCH_SEQR): bench/bench_seqr.c $(LIB_A) | $(BUILD)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -o $@ $< $(LIB_A) $(LDLIBS)

.PHONY: bench-ab
bench-ab: all $(BENCH_SEQR)
	$(Q)FEEDGATE=$(CURDIR)/$(FEEDGATE) BENCH_SEQR=$(CURDIR)/$(BENCH_SEQR) bench/bench_ab.sh

bench: bench-ab
