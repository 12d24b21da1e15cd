# The XDP filter's cost per packet (BPF_PROG_TEST_RUN): bench/bench_xdp.c
# measures it beside an empty program and xdp-tools' filter, in every stamp
# mode, with the breakdown from the filter rebuilt with FG_BENCH_CUT=1..3,
# and writes its section of bench/RESULTS.md. Needs root.
#   make bench-xdp                        the filter as it is
#   make bench-xdp XDP_BASELINE=REV       also the filter of git revision REV
#                                         (its bpf/ and include/), same run
BENCH_XDP := $(BUILD)/bench/bench_xdp
XDP_CUTS := $(foreach n,1 2 3,$(BUILD)/bench/feedgate_cut$(n).bpf.o)

$(BENCH_XDP): bench/bench_xdp.c tests/prog/fg_pkt.h include/fg_maps.h $(SKELS) $(LIB_A) | $(BUILD)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -Itests/prog -DFG_SRCDIR='"$(CURDIR)"' -o $@ $< $(LIB_A) $(LDLIBS)

$(BUILD)/bench/feedgate_cut%.bpf.o: bpf/feedgate.bpf.c $(wildcard bpf/*.h) include/fg_maps.h \
		vmlinux/vmlinux.h | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -DFG_BENCH_CUT=$* -c $< -o $@

ifneq ($(XDP_BASELINE),)
XDP_BASE_NAME := $(shell git rev-parse --short $(XDP_BASELINE) 2>/dev/null || echo $(XDP_BASELINE))
XDP_BASE_DIR := $(BUILD)/bench/baseline-$(XDP_BASE_NAME)
XDP_BASE_OBJ := $(XDP_BASE_DIR)/feedgate.bpf.o
XDP_BASE_ARGS := --baseline $(XDP_BASE_OBJ) --baseline-name $(XDP_BASE_NAME)

# The revision's own sources and headers, this tree's vmlinux.h and clang.
$(XDP_BASE_OBJ): vmlinux/vmlinux.h | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)rm -rf $(XDP_BASE_DIR) && mkdir -p $(XDP_BASE_DIR)/src
	$(Q)git archive $(XDP_BASELINE) bpf include | tar -x -C $(XDP_BASE_DIR)/src
	$(Q)$(CLANG) -target bpf -O2 -g -Wall -Werror -D__TARGET_ARCH_$(ARCH) -Ivmlinux \
		-I$(XDP_BASE_DIR)/src/include -I$(XDP_BASE_DIR)/src/bpf \
		-c $(XDP_BASE_DIR)/src/bpf/feedgate.bpf.c -o $@
endif

.PHONY: bench-xdp
bench-xdp: $(BENCH_XDP) $(XDP_CUTS) $(XDP_BASE_OBJ)
	$(Q)$(BENCH_XDP) --cuts $(BUILD)/bench --results bench/RESULTS.md $(XDP_BASE_ARGS)

bench: bench-xdp

# The packet builder is shared with the BPF_PROG_TEST_RUN tests, whose generic
# rule does not know about it.
$(BUILD)/tests/prog/test_xdp_filter $(BUILD)/tests/prog/test_xdp_model \
	$(BUILD)/tests/unit/test_afpacket_bpf: tests/prog/fg_pkt.h
