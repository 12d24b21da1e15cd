# The capture-path comparison study: every `feedgate run` backend,
# dpdk-testpmd (net_af_xdp, net_af_packet) and tcpdump behind the same veth
# pair and generator. Writes bench/compare_results.md, bench/compare_*.png
# and its section of bench/RESULTS.md. Needs root; the full study, in two
# CPU layouts (CMP_LAYOUTS="softirq threaded"), takes about 13 minutes,
# BENCH_COMPARE_ARGS=--quick about 1.5.
.PHONY: bench-compare
bench-compare: all
	$(Q)FEEDGATE=$(CURDIR)/$(FEEDGATE) bench/bench_compare.sh $(BENCH_COMPARE_ARGS)

bench: bench-compare
