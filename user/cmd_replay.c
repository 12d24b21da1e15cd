// SPDX-License-Identifier: MIT
/*
 * feedgate replay FILE: a capture (pcap, pcapng) or a NASDAQ BinaryFILE,
 * recognised by its content, through the same pipeline as live traffic:
 * L2-L4 parse, MoldUDP64 sequencing, SIMD filter, ITCH decode, books.
 * Prints a summary (one JSON object with --json), the decoded messages as
 * JSON lines with --decode, and a book at the end with --book. Large files
 * show progress on stderr. When the decode output is stdout, the summary
 * goes to stderr so that stdout stays one JSON object per line.
 * Exit status: 0 ok, 1 failed (unreadable, corrupt or truncated file, as
 * tcpdump and tshark have it; --allow-truncated takes a file cut short by
 * a capture that is still running: a warning and 0; a failed --decode
 * write), 2 usage error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "feedgate/book.h"
#include "feedgate/capfile.h"
#include "feedgate/pipeline.h"
#include "fg_json.h"
#include "fg_log.h"
#include "fg_out.h"

#define FRAME_BATCH 64
#define RAW_BATCH 1024
#define MAX_PAIRS 16
#define PROGRESS_CHECK 4096 /* records between clock reads */
#define PROGRESS_AFTER_NS 1000000000ull /* quiet for files that take less than this */
#define PROGRESS_EVERY_NS 250000000ull /* tty refresh */
#define PROGRESS_LINE_NS 5000000000ull /* one line this often when stderr is not a tty */

struct replay_cfg {
	const char *file;
	const char *symbols;
	const char *decode;
	const char *book;
	unsigned int depth;
	int json;
	int allow_truncated;
	const char *pairs[MAX_PAIRS];
	unsigned int npairs;
};

/* Finds the --book symbol's stock locate: from R (the books' directory) or, in captures that
 * start mid-day without R messages, from the stock field of an A or F. */
struct book_watch {
	char stock[8]; /* space padded, as on the wire */
	int locate; /* -1 until known */
};

static void watch_message(void *ctx, const struct fg_pipeline_msg_info *info,
			  const struct fg_itch_msg *m)
{
	struct book_watch *w = ctx;

	(void)info;
	if (w->locate >= 0)
		return;
	if ((m->type == FG_ITCH_ADD_ORDER || m->type == FG_ITCH_ADD_ORDER_MPID ||
	     m->type == FG_ITCH_STOCK_DIRECTORY) &&
	    !memcmp(m->type == FG_ITCH_STOCK_DIRECTORY ? m->stock_directory.stock : m->add.stock,
		    w->stock, 8))
		w->locate = m->stock_locate;
}

/* A new session reassigns the stock locates: find the symbol's again. */
static void watch_session(void *ctx, const char *feed, const char *previous, const char *session,
			  enum fg_pipeline_session_state state)
{
	struct book_watch *w = ctx;

	(void)feed;
	(void)previous;
	(void)session;
	if (state == FG_PIPELINE_SESSION_RESET)
		w->locate = -1;
}

struct progress {
	uint64_t start_ns, last_ns;
	int tty;
	int shown;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void progress(struct progress *pr, const struct fg_capfile *c, uint64_t msgs, int done)
{
	uint64_t t = now_ns(), el = t - pr->start_ns;
	double frac, rate;

	if (done) {
		if (pr->shown && pr->tty)
			fputs("\r\033[K", stderr);
		return;
	}
	if (el < PROGRESS_AFTER_NS ||
	    t - pr->last_ns < (pr->tty ? PROGRESS_EVERY_NS : PROGRESS_LINE_NS))
		return;
	pr->last_ns = t;
	pr->shown = 1;
	frac = fg_capfile_size(c) ? (double)fg_capfile_offset(c) / (double)fg_capfile_size(c) : 0;
	rate = (double)msgs / ((double)el / 1e9);
	if (pr->tty) {
		char bar[31];
		int fill = (int)(frac * 30);

		memset(bar, '#', (size_t)fill);
		memset(bar + fill, ' ', (size_t)(30 - fill));
		bar[30] = '\0';
		fprintf(stderr, "\r[%s] %3.0f%%  %.1fM messages  %.2fM msg/s", bar, frac * 100,
			(double)msgs / 1e6, rate / 1e6);
	} else {
		fprintf(stderr, "feedgate: replay: %.0f%%, %.1fM messages, %.2fM msg/s\n",
			frac * 100, (double)msgs / 1e6, rate / 1e6);
	}
	fflush(stderr);
}

/* One ITCH symbol: 1-8 printable characters, no blank, comma, quote or backslash. */
static int symbol_ok(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > 8)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] > '~' || s[i] == ',' || s[i] == '"' || s[i] == '\\')
			return 0;
	return 1;
}

static const struct cli_opt replay_opts[] = {
	{ .name = "--symbols",
	  .type = CLI_STRING,
	  CLI_AT(struct replay_cfg, symbols),
	  .arg = "LIST",
	  .check = cli_symbols_opt,
	  .help = "decode only these ITCH symbols (comma-separated, upper case)" },
	{ .name = "--decode",
	  .type = CLI_STRING,
	  CLI_AT(struct replay_cfg, decode),
	  .arg = "FILE|-",
	  .help = "write every decoded message as a JSON line to FILE (-: standard output; the "
		  "summary then goes to standard error)" },
	{ .name = "--book",
	  .type = CLI_STRING,
	  CLI_AT(struct replay_cfg, book),
	  .arg = "SYMBOL",
	  .help = "print the order book of SYMBOL at the end" },
	{ .name = "--depth",
	  .type = CLI_UINT,
	  CLI_AT(struct replay_cfg, depth),
	  .arg = "N",
	  .lo = 1,
	  .hi = 1000,
	  .def = "10",
	  .help = "price levels of the --book shown" },
	{ .name = "--json",
	  .type = CLI_FLAG,
	  CLI_AT(struct replay_cfg, json),
	  .help = "the summary (and book) as one JSON object" },
	{ .name = "--arbitrate",
	  .type = CLI_LIST,
	  CLI_AT(struct replay_cfg, pairs),
	  .count_off = offsetof(struct replay_cfg, npairs),
	  .max = MAX_PAIRS,
	  .what = "pairs",
	  .arg = "GROUP:PORT=GROUP:PORT",
	  .help = "the A and B lines of one feed, arbitrated into one stream" },
	{ .name = "--allow-truncated",
	  .type = CLI_FLAG,
	  CLI_AT(struct replay_cfg, allow_truncated),
	  .help = "take a capture whose last record is cut short (a warning, exit 0)" },
	{ .name = NULL },
};

static const char *const replay_pos_names[] = { "FILE" };

const struct cli_cmd cli_cmd_replay = {
	.name = "replay",
	.pos = "FILE",
	.pos_names = replay_pos_names,
	.npos = 1,
	.opts = replay_opts,
	.summary = "a pcap, pcapng or NASDAQ BinaryFILE through the pipeline: summary, decode, "
		   "books",
	.missing = "which capture file? see 'feedgate replay --help'",
	.extra = "one FILE only ('%s' and '%s'); see 'feedgate replay --help'",
};

/* 0, 1 (--help printed) or -1 (error printed). */
static int replay_parse(int argc, char **argv, struct replay_cfg *c)
{
	const char *pos[1] = { NULL };
	cli_given_t given;
	int ret;

	memset(c, 0, sizeof(*c));
	ret = cli_parse(&cli_cmd_replay, argc - 1, argv + 1, c, pos, &given);
	if (ret)
		return ret;
	c->file = pos[0];
	if (cli_was_given(&cli_cmd_replay, given, "--depth") && !c->book) {
		pr_warn("replay: --depth goes with --book SYMBOL\n");
		return -1;
	}
	if (c->book && !symbol_ok(c->book)) {
		pr_warn("replay: --book '%s': want one symbol of 1-8 characters\n", c->book);
		return -1;
	}
	return 0;
}

/* Is sym one of the comma-separated symbols (blanks around them ignored)? */
static int csv_has(const char *csv, const char *sym)
{
	size_t sl = strlen(sym);

	while (*csv) {
		const char *e = csv + strcspn(csv, ",");
		const char *a = csv, *b = e;

		while (a < b && (*a == ' ' || *a == '\t'))
			a++;
		while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
			b--;
		if ((size_t)(b - a) == sl && !memcmp(a, sym, sl))
			return 1;
		csv = *e ? e + 1 : e;
	}
	return 0;
}

static const char *open_error(int rc)
{
	switch (rc) {
	case -EPROTONOSUPPORT:
		return "not a pcap, pcapng or NASDAQ BinaryFILE capture";
	case -EINVAL:
		return "not a regular, non-empty file";
	case -EBADMSG:
		return "corrupt file header";
	default:
		return strerror(-rc);
	}
}

/* Feed every record to the pipeline; 0, or -EBADMSG when the file turned out corrupt. */
static int replay_records(struct fg_capfile *c, struct fg_pipeline *p, uint64_t *unsupported)
{
	struct fg_frame frames[FRAME_BATCH];
	const uint8_t *msgs[RAW_BATCH];
	uint16_t lens[RAW_BATCH];
	struct fg_cap_record r;
	struct progress pr = { 0 };
	int raw = fg_capfile_format(c) == FG_CAPFILE_BINARYFILE;
	unsigned int n = 0, since = 0;
	int rc;

	pr.start_ns = pr.last_ns = now_ns();
	pr.tty = isatty(STDERR_FILENO);
	while ((rc = fg_capfile_next(c, &r)) == 1) {
		if (raw) {
			msgs[n] = r.data;
			lens[n] = (uint16_t)r.caplen;
			if (++n == RAW_BATCH) {
				fg_pipeline_raw(p, msgs, lens, n);
				n = 0;
			}
		} else if (fg_capfile_frame(&r, &frames[n])) {
			(*unsupported)++;
		} else if (++n == FRAME_BATCH) {
			fg_pipeline_frames(p, frames, n);
			n = 0;
		}
		if (++since == PROGRESS_CHECK) {
			since = 0;
			progress(&pr, c, fg_pipeline_stats(p)->messages, 0);
		}
	}
	if (n) {
		if (raw)
			fg_pipeline_raw(p, msgs, lens, n);
		else
			fg_pipeline_frames(p, frames, n);
	}
	fg_pipeline_finish(p);
	progress(&pr, c, 0, 1);
	return rc < 0 ? rc : 0;
}

/* The pipeline's JSON summary with the file's own facts in front; the caller closes it. */
static void summary_json(const struct replay_cfg *cfg, const struct fg_capfile *c,
			 const struct fg_pipeline *p, uint64_t unsupported, FILE *out)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	if (!m)
		return;
	fg_pipeline_summary_json(p, m);
	fclose(m);
	/* Reopen the pipeline's object: drop its newline and exactly one
	 * closing brace (it may end with a nested object). */
	while (len && buf[len - 1] == '\n')
		len--;
	if (len && buf[len - 1] == '}')
		len--;
	fprintf(out, "{\"file\":");
	fg_json_str(out, cfg->file);
	fprintf(out,
		",\"format\":\"%s\",\"truncated\":%s,\"bad_lengths\":%llu,\"unsupported_link\":%"
		"llu,"
		"%.*s",
		fg_capfile_format_name(fg_capfile_format(c)),
		fg_capfile_truncated(c) ? "true" : "false",
		(unsigned long long)fg_capfile_bad_lengths(c), (unsigned long long)unsupported,
		(int)(len > 0 ? len - 1 : 0), buf + 1);
	free(buf);
}

/* The --book part of the JSON summary: "book":{...} (no leading comma). */
static void book_json(const struct replay_cfg *cfg, struct fg_books *b, int locate, FILE *out)
{
	struct fg_level lv[1000];
	static const char sides[2] = { 'B', 'S' };

	fprintf(out, "\"book\":{\"symbol\":\"%s\",\"stock_locate\":", cfg->book);
	if (locate < 0)
		fprintf(out, "null");
	else
		fprintf(out, "%d", locate);
	for (int s = 0; s < 2; s++) {
		unsigned int n =
			locate < 0 ? 0
				   : fg_books_top(b, (uint16_t)locate, sides[s], lv, cfg->depth);

		fprintf(out, ",\"%s\":[", s ? "asks" : "bids");
		for (unsigned int i = 0; i < n; i++)
			fprintf(out, "%s{\"price\":%u,\"shares\":%llu,\"orders\":%u}", i ? "," : "",
				lv[i].price, (unsigned long long)lv[i].shares, lv[i].orders);
		fputc(']', out);
	}
	fputc('}', out);
}

static void book_print(const struct replay_cfg *cfg, struct fg_books *b, int locate, FILE *out)
{
	struct fg_level bids[1000], asks[1000];
	unsigned int nb = 0, na = 0;

	if (locate < 0) {
		fprintf(out, "book        %s: no message named this symbol\n", cfg->book);
		return;
	}
	nb = fg_books_top(b, (uint16_t)locate, 'B', bids, cfg->depth);
	na = fg_books_top(b, (uint16_t)locate, 'S', asks, cfg->depth);
	fprintf(out, "book        %s (stock locate %d), top %u levels\n", cfg->book, locate,
		cfg->depth);
	fprintf(out, "  %7s %10s %12s | %-12s %10s %7s\n", "orders", "shares", "bid", "ask",
		"shares", "orders");
	for (unsigned int i = 0; i < nb || i < na; i++) {
		if (i < nb)
			fprintf(out, "  %7u %10llu %7u.%04u | ", bids[i].orders,
				(unsigned long long)bids[i].shares, bids[i].price / 10000,
				bids[i].price % 10000);
		else
			fprintf(out, "  %7s %10s %12s | ", "", "", "");
		if (i < na)
			fprintf(out, "%7u.%04u %10llu %7u", asks[i].price / 10000,
				asks[i].price % 10000, (unsigned long long)asks[i].shares,
				asks[i].orders);
		fputc('\n', out);
	}
	if (!nb && !na)
		fprintf(out, "  (empty)\n");
}

int do_replay(int argc, char **argv)
{
	struct fg_pipeline_config pc = { 0 };
	struct book_watch watch = { .locate = -1 };
	struct fg_pipeline *p = NULL;
	struct fg_capfile *c = NULL;
	struct replay_cfg cfg;
	FILE *decode = NULL, *out = stdout;
	struct fg_out *dec_out = NULL;
	uint64_t unsupported = 0;
	int rc, ret = 1, dec_failed = 0;

	rc = replay_parse(argc, argv, &cfg);
	if (rc)
		return rc > 0 ? 0 : EXIT_USAGE;
	if (cfg.book && cfg.symbols && !csv_has(cfg.symbols, cfg.book)) {
		pr_warn("replay: --book %s: not among --symbols '%s' (its book would stay empty)\n",
			cfg.book, cfg.symbols);
		return EXIT_USAGE;
	}

	rc = fg_capfile_open(cfg.file, &c);
	if (rc) {
		pr_warn("replay: %s: %s\n", cfg.file, open_error(rc));
		return 1;
	}
	if (cfg.decode) {
		char err[256];

		/* Checked, whole lines only: a full disk ends the file at its last
		 * whole line and fails the run (fg_out.h). */
		if (fg_out_open(cfg.decode, &dec_out, err, sizeof(err))) {
			pr_warn("replay: --decode: %s\n", err);
			goto out;
		}
		decode = fg_out_stream(dec_out);
		if (!decode) {
			pr_warn("replay: --decode: %s\n", strerror(ENOMEM));
			goto out;
		}
		if (!strcmp(cfg.decode, "-"))
			out = stderr; /* keep stdout one JSON object per line */
	}

	pc.symbols = cfg.symbols;
	pc.decode = decode;
	pc.arbitrate = cfg.pairs;
	pc.narbitrate = cfg.npairs;
	if (cfg.book) {
		size_t l = strlen(cfg.book);

		memset(watch.stock, ' ', sizeof(watch.stock));
		memcpy(watch.stock, cfg.book, l);
		pc.books = 1;
		pc.ctx = &watch;
		pc.on_message = watch_message;
		pc.on_session_change = watch_session;
	}
	rc = fg_pipeline_new(&pc, &p);
	if (rc) {
		if (rc == -ENOMEM)
			pr_warn("replay: couldn't set up the pipeline: %s\n", strerror(-rc));
		ret = rc == -EINVAL ? EXIT_USAGE : 1;
		goto out;
	}

	rc = replay_records(c, p, &unsupported);
	if (dec_out) {
		struct fg_out_result res;
		char line[512];

		fg_out_close(dec_out);
		fg_out_result(dec_out, &res);
		if (res.err) {
			fg_out_describe(&res, line, sizeof(line));
			pr_warn("replay: --decode %s\n", line);
			dec_failed = res.err !=
				     EPIPE; /* a reader that took enough (head): a normal end */
		}
	}
	if (cfg.json) {
		summary_json(&cfg, c, p, unsupported, out);
		if (cfg.book) {
			fputc(',', out);
			book_json(&cfg, fg_pipeline_books(p), watch.locate, out);
		}
		fputs("}\n", out);
	} else {
		fprintf(out, "file        %s (%s%s)\n", cfg.file,
			fg_capfile_format_name(fg_capfile_format(c)),
			fg_capfile_truncated(c) ? ", truncated" : "");
		if (unsupported)
			fprintf(out, "skipped     %llu records of an unsupported link type\n",
				(unsigned long long)unsupported);
		fg_pipeline_summary_print(p, out);
		if (cfg.book)
			book_print(&cfg, fg_pipeline_books(p), watch.locate, out);
	}
	fflush(out);
	if (rc) {
		pr_warn("replay: %s: corrupt at byte %llu; the summary covers what came before\n",
			cfg.file, (unsigned long long)fg_capfile_offset(c));
		goto out;
	}
	if (fg_capfile_bad_lengths(c))
		pr_warn("replay: %s: %llu records claim more captured bytes than the snap length "
			"or "
			"the packet had (read as stored)\n",
			cfg.file, (unsigned long long)fg_capfile_bad_lengths(c));
	ret = dec_failed ? 1 : 0;
	if (fg_capfile_truncated(c)) {
		pr_warn("replay: %s: truncated (the last record is incomplete and was skipped)%s\n",
			cfg.file,
			cfg.allow_truncated ? "" : "; --allow-truncated takes such a file");
		if (!cfg.allow_truncated)
			ret = 1;
	}
out:
	fg_out_free(dec_out); /* closes decode */
	fg_pipeline_free(p);
	fg_capfile_close(c);
	return ret;
}
