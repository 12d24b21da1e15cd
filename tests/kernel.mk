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
	$(Q)missing=""; for p in $(KERNEL_TEST_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "  DEPS     installing:$$missing"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null || \
			{ echo "feedgate: make test-kernel-deps: apt-get install failed for:$$missing" >&2; exit 1; }; \
	fi

test-kernel: test-kernel-deps
	$(Q)$(MAKE) --no-print-directory test-build
	$(Q)BUILD=$(CURDIR)/$(BUILD) tests/kernel/run.sh
