# The latency tail of the live path with and without each knob that shortens
# it (--rt-priority, --mlock, --busy-budget, the generator off the consumer's
# core, the unbound workqueues off it), side by side in one run, and what the
# tail is made of: run's own breakdown, a trace of the consumer's CPU, and
# bench/jitter.c, a spinning thread with no packets (the machine's floor).
# Writes its section of bench/RESULTS.md; bench-e2e (and so `make bench`)
# runs it after its own. Needs root; about four minutes; the machine should
# be quiet.
JITTER := $(BUILD)/bench/jitter

$(JITTER): bench/jitter.c | $(BUILD)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -o $@ $<

.PHONY: bench-tail
bench-tail: all $(JITTER)
	$(Q)FEEDGATE=$(CURDIR)/$(FEEDGATE) JITTER=$(CURDIR)/$(JITTER) bench/bench_tail.sh
