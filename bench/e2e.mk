# End-to-end AF_XDP benchmark: `feedgate gen` in one namespace, `feedgate run`
# in the other, per polling mode, beside DPDK's testpmd (net_af_xdp, rxonly).
# Writes bench/e2e_results.md, bench/e2e_latency_cdf.png and its section of
# bench/RESULTS.md, then the latency tail with and without each knob
# (bench-tail, tail.mk). Needs root; a few minutes; the machine should be quiet.
.PHONY: bench-e2e
bench-e2e: all
	$(Q)FEEDGATE=$(CURDIR)/$(FEEDGATE) bench/bench_e2e.sh
	$(Q)$(MAKE) --no-print-directory bench-tail

bench: bench-e2e
