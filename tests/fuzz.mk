# libFuzzer targets (clang, ASan + UBSan): every tests/fuzz/fuzz_*.c becomes
# $(BUILD)/fuzz/fuzz_*, linked against the library sources compiled with the same
# sanitizers (and coverage instrumentation) into $(BUILD)/fuzz/lib/.
#   make fuzz-build      build them
#   make fuzz            build, then run each for FUZZ_SECONDS (default 600)
#   make fuzz-smoke      build, then run each for 30 s (what `make test` runs)
# Crash reproducers land in tests/fuzz/ (crash-*, ignored by git).

FUZZ_CC ?= clang
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))
FUZZ_LIB_OBJS := $(patsubst user/lib/%.c,$(BUILD)/fuzz/lib/%.o,$(LIB_SRCS))
FUZZ_CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=undefined -std=gnu11 -Wall -D_GNU_SOURCE -pthread \
	-Iinclude -Iuser/lib -Iuser -I$(BUILD)

.PHONY: fuzz fuzz-build fuzz-smoke
.SECONDARY: $(FUZZ_LIB_OBJS)

$(BUILD)/fuzz/lib/%.o: user/lib/%.c $(SKELS) | $(BUILD)
	$(call msg,FUZZCC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SIMD) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(BUILD)/fuzz/lib/%_sse42.o: FUZZ_SIMD = -msse4.2 -mpopcnt
$(BUILD)/fuzz/lib/%_avx2.o: FUZZ_SIMD = -mavx2 -mbmi -mbmi2 -mpopcnt
$(BUILD)/fuzz/lib/%_avx512.o: FUZZ_SIMD = -mavx512f -mavx512bw -mavx512vl -mbmi -mbmi2 -mpopcnt

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIB_OBJS)
	$(call msg,FUZZLD,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB_OBJS) $(LDLIBS)

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	$(Q)BUILD=$(CURDIR)/$(BUILD) FG_FUZZ_NOBUILD=1 tests/fuzz/run.sh

fuzz-smoke: fuzz-build
	$(Q)BUILD=$(CURDIR)/$(BUILD) FG_FUZZ_NOBUILD=1 tests/fuzz/run.sh --smoke

-include $(FUZZ_LIB_OBJS:.o=.d)
