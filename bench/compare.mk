# The capture-path comparison study (issue 5): every `feedgate run` backend,
# dpdk-testpmd (net_af_xdp, net_af_packet) and tcpdump behind the same veth
# pair and generator. Writes bench/compare_results.md, bench/compare_*.png
# and its section of bench/RESULTS.md. Needs root; the full study takes
# about 7 minutes, BENCH_COMPARE_ARGS=--quick under 1.
.PHONY: bench-compare
bench-compare: all
	$(Q)FEEDGATE=$(CURDIR)/$(FEEDGATE) bench/bench_compare.sh $(BENCH_COMPARE_ARGS)

bench: bench-compare
