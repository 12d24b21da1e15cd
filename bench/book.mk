# The order book on whole generated days, as `feedgate replay DAY --book SYMBOL` runs it.
# bench/mkday.c writes the days (NASDAQ BinaryFILE);
# bench/bench_book.sh times replay against a baseline build, on the 20-million-message day
# and on one with millions of live orders, plots the per-chunk cost that bench_pipeline
# measures, and writes its section of bench/RESULTS.md; bench/book_diff.c checks that the
# books are those of an earlier implementation (BOOK_OLD_REV) at checkpoints of a day.
#   make bench-book                       this build only
#   make bench-book BOOK_BASE=/tmp/fg-base/build/feedgate BOOK_BASE_NAME='rev 5b336fc' \
#        BOOK_BASE_LIB=/tmp/fg-base/build/libfeedgate.a    side by side with another build
#   make bench-book-diff                  old and new books compared
MKDAY := $(BUILD)/bench/mkday
MEMPROBE := $(BUILD)/bench/memprobe
BOOK_DIFF := $(BUILD)/bench/book_diff
BOOK_OLD_REV ?= 8d763bd
BOOK_DAY_DIR ?= bench/out/book

$(MKDAY): bench/mkday.c $(LIB_A) | $(BUILD)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -o $@ $< $(LIB_A) $(LDLIBS)

# The earlier book, its public names prefixed old_ (bench/book_old_names.h).
# What a line beyond the caches costs here (dependent and independent loads), printed beside
# the book's figures.
$(MEMPROBE): bench/memprobe.c | $(BUILD)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -o $@ $<

$(BUILD)/bench/fg_book_old.c: | $(BUILD)
	$(call msg,GIT,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)git show $(BOOK_OLD_REV):user/lib/fg_book.c >$@

$(BUILD)/bench/fg_book_old.o: $(BUILD)/bench/fg_book_old.c bench/book_old_names.h
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -include bench/book_old_names.h -c $< -o $@

$(BOOK_DIFF): bench/book_diff.c $(BUILD)/bench/fg_book_old.o $(LIB_A)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $< $(BUILD)/bench/fg_book_old.o $(LIB_A) $(LDLIBS)

.PHONY: bench-book bench-book-diff
# (bench_pipeline by its path: pipeline.mk, which names it, is read after this file)
bench-book: $(MKDAY) $(MEMPROBE) $(FEEDGATE) $(BUILD)/bench/bench_pipeline
	$(Q)MKDAY=$(CURDIR)/$(MKDAY) MEMPROBE=$(CURDIR)/$(MEMPROBE) FEEDGATE=$(CURDIR)/$(FEEDGATE) \
		BENCH_PIPELINE=$(CURDIR)/$(BUILD)/bench/bench_pipeline BASE=$(BOOK_BASE) \
		BASE_NAME="$(BOOK_BASE_NAME)" \
		BASE_LIB=$(BOOK_BASE_LIB) DAYS=$(BOOK_DAY_DIR) bench/bench_book.sh $(BENCH_BOOK_ARGS)

bench-book-diff: $(BOOK_DIFF) $(MKDAY)
	$(Q)mkdir -p $(BOOK_DAY_DIR)
	$(Q)test -s $(BOOK_DAY_DIR)/day-seed5-20M.itch || \
		$(MKDAY) --out $(BOOK_DAY_DIR)/day-seed5-20M.itch --messages 20000000 --seed 5
	$(Q)$(BOOK_DIFF) $(BOOK_DAY_DIR)/day-seed5-20M.itch --every 2000000
