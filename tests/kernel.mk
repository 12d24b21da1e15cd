# make test-kernel: the already-built tests (tests/kernel/cases: the
# BPF_PROG_TEST_RUN binaries and the veth stamp-mode script) run again on
# Debian bookworm's stock 6.1 kernel, booted under qemu without KVM, because
# the host kernel refuses bpf_xdp_adjust_meta for XDP programs. The kernel
# package is downloaded once into $(BUILD)/kernel/ and never installed.
# See tests/kernel/run.sh for how, and for its environment knobs
# (FGK_CASES, FGK_TIMEOUT, ...). Not part of `make test`.
#   make test-kernel        build, then boot the guest and run the cases
#   make test-kernel-deps   install qemu and busybox-static when missing

KERNEL_TEST_PACKAGES := qemu-system-x86 busybox-static

.PHONY: test-kernel test-kernel-deps

test-kernel-deps: deps
	$(call apt_missing,$(KERNEL_TEST_PACKAGES),test-kernel-deps)

test-kernel: test-kernel-deps
	$(Q)$(MAKE) --no-print-directory test-build
	$(Q)BUILD=$(CURDIR)/$(BUILD) tests/kernel/run.sh
