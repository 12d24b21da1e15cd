# feedgate: build, test, demo, bench.
#
#   make            build the XDP object, its skeleton, libfeedgate and feedgate
#   make demo       veth demo in two namespaces (installs missing packages first)
#   make test       unit, BPF_PROG_TEST_RUN and veth integration tests
#   make bench      benchmarks, writes bench/RESULTS.md
#   make deps       install the Debian packages that are missing
#   make format / make lint / make vmlinux / make clean
#
# Sources are picked up by wildcard so that a new module is a new file:
#   bpf/*.bpf.c          -> build/<name>.bpf.o and build/<name>.skel.h
#   user/lib/*.c         -> build/libfeedgate.a and build/libfeedgate.so
#   user/*.c             -> build/feedgate
#   tests/unit/test_*.c  -> build/tests/unit/test_*   (CUnit)
#   tests/prog/test_*.c  -> build/tests/prog/test_*   (BPF_PROG_TEST_RUN, CUnit)
# Files named *_avx2.c, *_sse42.c, *_avx512.c get the matching -m flags.
# Areas with more to build add a fragment: tests/*.mk, bench/*.mk.

CC ?= gcc
CLANG ?= clang
BPFTOOL ?= bpftool
BUILD ?= build
ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
PREFIX ?= /usr/local

V ?= 0
ifeq ($(V),0)
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
else
Q :=
msg =
endif

CFLAGS ?= -O2 -g
VERSION := 0.2.0
CFLAGS += -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -fPIC -pthread -DFG_VERSION='"$(VERSION)"'
CFLAGS += -Iinclude -Iuser/lib -Iuser -I$(BUILD)
LDLIBS += -lxdp -lbpf -lelf -lz -lpcap -luring -lpthread -lm
BPF_CFLAGS := -target bpf -O2 -g -Wall -Werror -D__TARGET_ARCH_$(ARCH) \
	-Ivmlinux -Iinclude -Ibpf

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(BUILD)/%.bpf.o,$(BPF_SRCS))
SKELS := $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRCS))
LIB_SRCS := $(wildcard user/lib/*.c)
LIB_OBJS := $(patsubst user/lib/%.c,$(BUILD)/lib/%.o,$(LIB_SRCS))
CMD_SRCS := $(wildcard user/*.c)
CMD_OBJS := $(patsubst user/%.c,$(BUILD)/cmd/%.o,$(CMD_SRCS))
LIB_A := $(BUILD)/libfeedgate.a
LIB_SO := $(BUILD)/libfeedgate.so
FEEDGATE := $(BUILD)/feedgate
MAN8 := $(BUILD)/feedgate.8

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRCS))
PROG_SRCS := $(wildcard tests/prog/test_*.c)
PROG_BINS := $(patsubst tests/prog/%.c,$(BUILD)/tests/prog/%,$(PROG_SRCS))
TEST_BINS := $(UNIT_BINS) $(PROG_BINS)

DEB_PACKAGES := clang llvm libbpf-dev libxdp-dev bpftool xdp-tools libelf-dev zlib1g-dev \
	libpcap-dev liburing-dev libcunit1-dev pkg-config iproute2 ethtool tcpdump tshark \
	python3 gnuplot-nox cppcheck clang-format clang-tidy libclang-rt-dev valgrind util-linux

.PHONY: all compile deps bench-deps test test-build demo demo-filter bench format lint vmlinux clean install
.DEFAULT_GOAL := all

# Plain `make` on a fresh machine: install what is missing first (as root,
# like `make test` and `make demo`), or stop with one line naming `make deps`.
all: deps
	$(Q)$(MAKE) --no-print-directory compile

compile: $(BPF_OBJS) $(FEEDGATE) $(LIB_A) $(LIB_SO) $(MAN8)

.SECONDARY: $(BPF_OBJS)

# --- BPF ---------------------------------------------------------------------
$(BUILD)/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) $(wildcard include/fg_*.h) vmlinux/vmlinux.h | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@

# --- user space --------------------------------------------------------------
$(BUILD)/lib/%.o: user/lib/%.c $(SKELS) | $(BUILD)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $(SIMD_FLAGS) -MMD -MP -c $< -o $@

$(BUILD)/lib/%_sse42.o: SIMD_FLAGS = -msse4.2 -mpopcnt
$(BUILD)/lib/%_avx2.o: SIMD_FLAGS = -mavx2 -mbmi -mbmi2 -mpopcnt
$(BUILD)/lib/%_avx512.o: SIMD_FLAGS = -mavx512f -mavx512bw -mavx512vl -mbmi -mbmi2 -mpopcnt

$(BUILD)/cmd/%.o: user/%.c $(SKELS) | $(BUILD)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(LIB_A): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(LIB_SO): $(LIB_OBJS)
	$(call msg,LD,$@)
	$(Q)$(CC) -shared -Wl,-soname,libfeedgate.so.0 $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(FEEDGATE): $(CMD_OBJS) $(LIB_A)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The manual page: written by feedgate from the option tables its parsers use.
$(MAN8): $(FEEDGATE)
	$(call msg,MAN,$@)
	$(Q)$(FEEDGATE) --man > $@.tmp && mv $@.tmp $@

# --- tests -------------------------------------------------------------------
$(BUILD)/tests/%: tests/%.c tests/fg_cunit.h $(LIB_A) $(SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -Itests -DFG_SRCDIR='"$(CURDIR)"' -MMD -MP -MF $(dir $@).$(notdir $@).d -o $@ $< $(LIB_A) $(LDLIBS) -lcunit

test-build: compile $(TEST_BINS)

test: deps
	$(Q)$(MAKE) --no-print-directory test-build
	$(Q)FEEDGATE=$(CURDIR)/$(FEEDGATE) BUILD=$(CURDIR)/$(BUILD) tests/run.sh

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)FEEDGATE=$(CURDIR)/$(FEEDGATE) tests/demo.sh

# The filter alone: attach, 4 feed rules, feed + noise traffic, stats, detach.
demo-filter: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)FEEDGATE=$(CURDIR)/$(FEEDGATE) tests/demo_filter.sh

# $(call apt_missing,PACKAGES,TARGET): install those of PACKAGES that are not
# installed (apt-get, as root; `apt-get update` first), or say which are
# missing and fail.
define apt_missing
	$(Q)missing=""; for p in $(1); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ] && [ "$$(id -u)" -ne 0 ]; then \
		echo "feedgate: missing Debian packages:$$missing; run 'make $(2)' as root" >&2; exit 1; \
	fi; \
	if [ -n "$$missing" ]; then \
		echo "  DEPS     installing:$$missing"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null || \
			{ echo "feedgate: make $(2): apt-get install failed for:$$missing" >&2; exit 1; }; \
	fi
endef

# Each bench/*.mk fragment adds its target as a prerequisite of bench.
# The peers benchmarks compare against (dpdk-testpmd) are only needed here.
BENCH_PACKAGES := dpdk-dev

bench-deps: deps
	$(call apt_missing,$(BENCH_PACKAGES),bench-deps)

bench: bench-deps all
	@echo "  BENCH    done: bench/RESULTS.md"

# --- housekeeping ------------------------------------------------------------
deps:
	$(call apt_missing,$(DEB_PACKAGES),deps)

vmlinux:
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > vmlinux/vmlinux.h.tmp
	mv vmlinux/vmlinux.h.tmp vmlinux/vmlinux.h

FORMAT_SRCS = $(shell find bpf user include tests bench -name '*.[ch]' 2>/dev/null)

format:
	clang-format -i $(FORMAT_SRCS)

lint: $(SKELS)
	$(Q)clang-format --dry-run -Werror $(FORMAT_SRCS)
	$(Q)cppcheck -q --error-exitcode=1 --inline-suppr --std=c11 \
		--enable=warning,performance,portability \
		--suppress=missingIncludeSystem --suppress=unknownMacro \
		-D__x86_64__ -Iinclude -Iuser/lib -Iuser -I$(BUILD) user tests bench
	@echo "  LINT     clean"

# Installs the command and its manual page, libfeedgate (static and shared),
# the public headers and feedgate.pc, so that a strategy builds with
# `pkg-config --libs feedgate`.
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig \
		$(DESTDIR)$(PREFIX)/include/feedgate $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 0755 $(FEEDGATE) $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 $(MAN8) $(DESTDIR)$(PREFIX)/share/man/man8/
	install -m 0644 $(LIB_A) $(DESTDIR)$(PREFIX)/lib/
	install -m 0755 $(LIB_SO) $(DESTDIR)$(PREFIX)/lib/libfeedgate.so.0
	ln -sf libfeedgate.so.0 $(DESTDIR)$(PREFIX)/lib/libfeedgate.so
	install -m 0644 include/feedgate/*.h $(DESTDIR)$(PREFIX)/include/feedgate/
	install -m 0644 include/feedgate.h $(DESTDIR)$(PREFIX)/include/
	printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$${prefix}/lib' 'includedir=$${prefix}/include' '' \
		'Name: feedgate' 'Description: market-data pipeline: MoldUDP64, ITCH 5.0, SIMD filter, order books' \
		'Version: $(VERSION)' 'Libs: -L$${libdir} -lfeedgate' \
		'Libs.private: -lxdp -lbpf -lelf -lz -lpcap -luring -lpthread -lm' \
		'Cflags: -I$${includedir}' > $(DESTDIR)$(PREFIX)/lib/pkgconfig/feedgate.pc

clean:
	rm -rf $(BUILD)

$(BUILD):
	$(Q)mkdir -p $(BUILD)/lib $(BUILD)/cmd

-include $(wildcard tests/*.mk bench/*.mk)
-include $(LIB_OBJS:.o=.d) $(CMD_OBJS:.o=.d) $(foreach b,$(TEST_BINS),$(dir $(b)).$(notdir $(b)).d)
