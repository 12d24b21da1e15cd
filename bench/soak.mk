# Long-running reliability targets.
#   make soak    bench/soak.sh (SOAK_SECONDS, default 600, at 80% of a measured
#                lossless rate), then the long fault loops: 50 SIGKILL/restart
#                cycles (tests/integration/test_faults.sh, FG_FAULT_KILLS=50), and
#                bench/soak_disk.sh: --decode and --pcap onto a small tmpfs that
#                fills part way (SOAK_DISK_SECONDS, default 120, each)
# `make fuzz` (tests/fuzz.mk) is the other long one.
.PHONY: soak
soak: all
	$(Q)FEEDGATE=$(CURDIR)/$(FEEDGATE) bench/soak.sh
	$(Q)FG_FAULT_KILLS=50 FEEDGATE=$(CURDIR)/$(FEEDGATE) bash tests/integration/test_faults.sh
	$(Q)FEEDGATE=$(CURDIR)/$(FEEDGATE) bench/soak_disk.sh
