# The unit tests built and run under AddressSanitizer + UndefinedBehaviorSanitizer.
# The library and every tests/unit/test_*.c are compiled again with
# the sanitizers into $(BUILD)/asan/ (never mixed with the normal objects), then
# run through tests/run.sh, which prints the usual summary line.
#   make test-asan         build and run them
#   make test-asan-build   build only
# Any sanitizer report fails the run: UBSan does not recover, ASan aborts, and
# LeakSanitizer (on by default with ASan) fails a binary that leaks at exit.

ASAN_DIR := $(BUILD)/asan
ASAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer
# -Wformat-truncation is off here only: the sanitizers' instrumentation widens
# gcc's value ranges and it then flags snprintf calls the normal build proves safe.
ASAN_CFLAGS := -O1 -g $(filter-out -O2 -g,$(CFLAGS)) $(ASAN_FLAGS) -Wno-format-truncation
ASAN_LIB_OBJS := $(patsubst user/lib/%.c,$(ASAN_DIR)/lib/%.o,$(LIB_SRCS))
ASAN_LIB_A := $(ASAN_DIR)/libfeedgate.a
ASAN_UNIT_BINS := $(patsubst tests/unit/%.c,$(ASAN_DIR)/tests/unit/%,$(UNIT_SRCS))

.PHONY: test-asan test-asan-build
.SECONDARY: $(ASAN_LIB_OBJS)

$(ASAN_DIR)/lib/%.o: user/lib/%.c $(SKELS) | $(BUILD)
	$(call msg,ASANCC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(ASAN_CFLAGS) $(ASAN_SIMD) -MMD -MP -c $< -o $@

$(ASAN_DIR)/lib/%_sse42.o: ASAN_SIMD = -msse4.2 -mpopcnt
$(ASAN_DIR)/lib/%_avx2.o: ASAN_SIMD = -mavx2 -mbmi -mbmi2 -mpopcnt
$(ASAN_DIR)/lib/%_avx512.o: ASAN_SIMD = -mavx512f -mavx512bw -mavx512vl -mbmi -mbmi2 -mpopcnt

$(ASAN_LIB_A): $(ASAN_LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(ASAN_DIR)/tests/unit/%: tests/unit/%.c tests/fg_cunit.h $(ASAN_LIB_A) $(SKELS)
	$(call msg,ASANCC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(ASAN_CFLAGS) -Itests -DFG_SRCDIR='"$(CURDIR)"' -o $@ $< $(ASAN_LIB_A) \
		$(LDLIBS) -lcunit

test-asan-build: $(ASAN_UNIT_BINS)

# halt_on_error: the first report ends the binary, so tests/run.sh counts it
# as crashed (no RESULT line) even if the report came from a passing case.
test-asan: deps
	$(Q)$(MAKE) --no-print-directory test-asan-build
	$(Q)ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:abort_on_error=0 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		BUILD=$(CURDIR)/$(ASAN_DIR) FEEDGATE=$(CURDIR)/$(FEEDGATE) tests/run.sh unit

-include $(ASAN_LIB_OBJS:.o=.d)
