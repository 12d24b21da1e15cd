# The XDP filter's cost per packet (BPF_PROG_TEST_RUN): bench/bench_xdp.c
# measures it beside an empty program and xdp-tools' filter, and writes its
# section of bench/RESULTS.md. Needs root.
BENCH_XDP := $(BUILD)/bench/bench_xdp

$(BENCH_XDP): bench/bench_xdp.c tests/prog/fg_pkt.h include/fg_maps.h $(SKELS) | $(BUILD)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -Itests/prog -DFG_SRCDIR='"$(CURDIR)"' -o $@ $< $(LDLIBS)

.PHONY: bench-xdp
bench-xdp: $(BENCH_XDP)
	$(Q)$(BENCH_XDP) --results bench/RESULTS.md

bench: bench-xdp

# The packet builder is shared with the BPF_PROG_TEST_RUN tests, whose generic
# rule does not know about it.
$(BUILD)/tests/prog/test_xdp_filter $(BUILD)/tests/prog/test_xdp_model \
	$(BUILD)/tests/unit/test_afpacket_bpf: tests/prog/fg_pkt.h
