# The latency tail of the live path with and without each knob that shortens
# it (--rt-priority, --mlock, --busy-budget, the generator off the consumer's
# core), side by side in one run. Writes its section of bench/RESULTS.md;
# bench-e2e (and so `make bench`) runs it after its own.
# Needs root; about two minutes; the machine should be quiet.
.PHONY: bench-tail
bench-tail: all
	$(Q)FEEDGATE=$(CURDIR)/$(FEEDGATE) bench/bench_tail.sh

