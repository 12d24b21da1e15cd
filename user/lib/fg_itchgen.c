// SPDX-License-Identifier: MIT
/*
 * The ITCH 5.0 day generator behind `feedgate gen` and the pipeline
 * benchmarks (what the day looks like: include/feedgate/itchgen.h).
 *
 * Messages are written with this file's own big-endian stores at the
 * offsets of the spec's message formats (ITCH 5.0 section 4; wire facts,
 * "Message catalogue"). Live orders are kept in one array (swap-remove) so
 * that picking, changing and removing an order is O(1); most picks fall on
 * the most recent orders, as on a real feed where most orders are
 * cancelled soon after they are placed. Randomness is xoshiro256** seeded
 * with splitmix64, so a seed gives the same day everywhere.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "feedgate/itchgen.h"
#include "fg_be.h"
#include "fg_log.h"

#define NS_PER_S 1000000000ull
#define HMS(h, m, s) ((((uint64_t)(h)*60 + (m)) * 60 + (s)) * NS_PER_S)
#define DAY_END (HMS(24, 0, 0) - 1)
#define TICK 100 /* $0.01 in Price(4) */
#define RECENT 64 /* "recent" orders: the last ones in the live array */

/* Body mix in parts per million (two published days; wire facts, "What a real day looks like"). */
static const struct {
	char type;
	uint32_t ppm;
} mix[] = {
	{ 'A', 436000 }, { 'D', 426000 }, { 'U', 87000 }, { 'E', 20000 }, { 'X', 12000 },
	{ 'I', 10000 },	 { 'F', 4000 },	  { 'P', 4000 },  { 'L', 500 },	  { 'C', 300 },
	{ 'N', 100 },	 { 'Y', 30 },	  { 'H', 30 },	  { 'Q', 30 },	  { 'B', 5 },
	{ 'J', 3 },	 { 'K', 1 },	  { 'h', 1 },
};

/* Well-known names come first (most active); the rest are made up. */
static const char *const known_names[] = {
	"AAPL", "MSFT", "NVDA", "TSLA", "AMZN", "META", "GOOGL", "GOOG", "AMD",	 "QQQ",
	"NFLX", "INTC", "CSCO", "AVGO", "PEP",	"COST", "ADBE",	 "QCOM", "TXN",	 "SBUX",
	"PYPL", "INTU", "AMAT", "MU",	"BKNG", "GILD", "MDLZ",	 "ADP",	 "ISRG", "VRTX",
};

static const char mpids[][5] = { "GSCO", "MSCO", "NITE", "UBSS", "JPMS", "SBSH", "CDRG", "VIRT" };

struct live_order {
	uint64_t ref;
	uint32_t price;
	uint32_t shares;
	uint16_t locate;
	uint8_t side;
};

struct symbol {
	char stock[8]; /* space padded, as on the wire */
	char name[9]; /* trimmed, NUL terminated */
	uint32_t center; /* Price(4): bids below, asks above */
};

enum phase { PH_OPEN, PH_MWCB, PH_DIRECTORY, PH_ACTION, PH_SYSTEM_START, PH_BODY };

struct fg_itchgen {
	uint64_t s[4]; /* xoshiro256** */
	uint32_t nsym;
	uint32_t max_live;
	struct symbol *sym; /* [nsym], index = locate - 1 */
	uint16_t *pick; /* Zipf table: uniform index -> locate */
	uint32_t pick_mask;
	struct live_order *live;
	uint32_t nlive;
	uint64_t next_ref;
	uint64_t next_match;
	uint64_t ts;
	uint64_t count;
	enum phase phase;
	uint32_t dir_next; /* next locate of the directory phase */
	unsigned int next_event; /* index into events[] */
	uint8_t pending[64]; /* a message that did not fit the caller's buffer */
	size_t pending_len;
};

static const struct {
	uint64_t at;
	char code;
} events[] = {
	{ HMS(9, 30, 0), 'Q' },
	{ HMS(16, 0, 0), 'M' },
	{ HMS(20, 0, 0), 'E' },
};

/* --- randomness ---------------------------------------------------------------------------- */

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static inline uint64_t rnd(struct fg_itchgen *g)
{
	uint64_t r = rotl(g->s[1] * 5, 7) * 9, t = g->s[1] << 17;

	g->s[2] ^= g->s[0];
	g->s[3] ^= g->s[1];
	g->s[1] ^= g->s[2];
	g->s[0] ^= g->s[3];
	g->s[2] ^= t;
	g->s[3] = rotl(g->s[3], 45);
	return r;
}

/* Uniform in [0, n), n > 0 (multiply-shift; the bias is far below anything measured here). */
static inline uint32_t below(struct fg_itchgen *g, uint32_t n)
{
	return (uint32_t)(((rnd(g) >> 32) * (uint64_t)n) >> 32);
}

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* --- big-endian stores (ITCH integers are unsigned big-endian) ----------------------------- */

/* Common header: type, stock locate, tracking number, u48 timestamp (offsets 0, 1, 3, 5). */
static inline void header(struct fg_itchgen *g, uint8_t *p, char type, uint16_t locate)
{
	p[0] = (uint8_t)type;
	fg_put_be16(p + 1, locate);
	fg_put_be16(p + 3, (uint16_t)(1 + (g->ts & 3)));
	fg_put_be48(p + 5, g->ts);
}

/* --- the day's cast ------------------------------------------------------------------------ */

static int cmp_symbol(const void *a, const void *b)
{
	return memcmp(((const struct symbol *)a)->stock, ((const struct symbol *)b)->stock, 8);
}

static void set_name(struct symbol *s, const char *name, size_t len)
{
	memset(s->stock, ' ', sizeof(s->stock));
	memcpy(s->stock, name, len);
	memcpy(s->name, name, len);
	s->name[len] = '\0';
}

static int make_symbols(struct fg_itchgen *g)
{
	uint32_t nknown = sizeof(known_names) / sizeof(known_names[0]), i, n = g->nsym;
	uint32_t set_mask, *rank_loc = NULL, tsize;
	uint64_t *set = NULL;
	double *w = NULL, total = 0, acc;
	int err = -ENOMEM;

	if (nknown > n)
		nknown = n;
	for (set_mask = 1; set_mask < 4 * n; set_mask <<= 1)
		;
	set = calloc(set_mask, sizeof(*set));
	rank_loc = calloc(n, sizeof(*rank_loc));
	w = calloc(n, sizeof(*w));
	if (!set || !rank_loc || !w)
		goto out;
	set_mask--;
	/* Unique names: the known ones, then 1-5 random capitals. */
	for (i = 0; i < n;) {
		char name[6];
		size_t len;
		uint64_t key;
		uint32_t h;

		if (i < nknown) {
			len = strlen(known_names[i]);
			memcpy(name, known_names[i], len);
		} else {
			uint32_t r = below(g, 100);

			/* 1-5 letters, mostly 3-4 */
			len = r < 1 ? 1 : r < 5 ? 2 : r < 30 ? 3 : r < 85 ? 4 : 5;
			for (size_t c = 0; c < len; c++)
				name[c] = (char)('A' + below(g, 26));
		}
		set_name(&g->sym[i], name, len);
		memcpy(&key, g->sym[i].stock, 8);
		for (h = (uint32_t)((key * 0x9e3779b97f4a7c15ull) >> 40) & set_mask; set[h];
		     h = (h + 1) & set_mask)
			if (set[h] == key)
				break;
		if (set[h] == key)
			continue; /* taken: draw again */
		set[h] = key;
		/* Log-uniform price between $5 and $500, on the cent. */
		g->sym[i].center = (uint32_t)(exp(log(5.0) + (log(500.0) - log(5.0)) *
								     (double)below(g, 1u << 30) /
								     (double)(1u << 30)) *
					      100.0) *
				   TICK;
		i++;
	}
	/* Activity rank: the known names first, then the order the names were drawn in. */
	for (i = 0; i < n; i++)
		w[i] = pow((double)(i + 1), -0.8);
	/* Locates follow the alphabet, as NASDAQ assigns them; remember where each rank went. */
	{
		struct ranked {
			struct symbol s;
			uint32_t rank;
		} *tmp = calloc(n, sizeof(*tmp));

		if (!tmp)
			goto out;
		for (i = 0; i < n; i++) {
			tmp[i].s = g->sym[i];
			tmp[i].rank = i;
		}
		qsort(tmp, n, sizeof(*tmp), cmp_symbol);
		for (i = 0; i < n; i++) {
			g->sym[i] = tmp[i].s;
			rank_loc[tmp[i].rank] = i + 1;
		}
		free(tmp);
	}
	/* Zipf table: each rank gets a share of the slots proportional to its weight. */
	for (tsize = 1u << 20; tsize < 64 * n; tsize <<= 1)
		;
	g->pick = calloc(tsize, sizeof(*g->pick));
	if (!g->pick)
		goto out;
	g->pick_mask = tsize - 1;
	for (i = 0; i < n; i++)
		total += w[i];
	acc = w[0];
	for (uint32_t j = 0, r = 0; j < tsize; j++) {
		double target = ((double)j + 0.5) / tsize * total;

		while (target > acc && r + 1 < n)
			acc += w[++r];
		g->pick[j] = (uint16_t)rank_loc[r];
	}
	err = 0;
out:
	free(set);
	free(rank_loc);
	free(w);
	return err;
}

int fg_itchgen_new(const struct fg_itchgen_config *cfg, struct fg_itchgen **out)
{
	struct fg_itchgen_config c = { 0 };
	struct fg_itchgen *g;
	uint64_t x;

	if (cfg)
		c = *cfg;
	if (!c.symbols)
		c.symbols = FG_ITCHGEN_DEFAULT_SYMBOLS;
	if (!c.max_live_orders)
		c.max_live_orders = FG_ITCHGEN_DEFAULT_LIVE;
	if (c.symbols > FG_ITCHGEN_MAX_SYMBOLS) {
		pr_warn("Couldn't create the ITCH generator: symbols %u, want at most %u: %s\n",
			c.symbols, FG_ITCHGEN_MAX_SYMBOLS, strerror(EINVAL));
		return -EINVAL;
	}
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	x = c.seed;
	for (int i = 0; i < 4; i++)
		g->s[i] = splitmix64(&x);
	g->nsym = c.symbols;
	g->max_live = c.max_live_orders;
	g->sym = calloc(g->nsym, sizeof(*g->sym));
	g->live = malloc((size_t)g->max_live * sizeof(*g->live));
	if (!g->sym || !g->live || make_symbols(g)) {
		fg_itchgen_free(g);
		return -ENOMEM;
	}
	g->next_ref = 1;
	g->next_match = 1;
	g->ts = HMS(3, 5, 0);
	g->phase = PH_OPEN;
	g->dir_next = 1;
	*out = g;
	return 0;
}

void fg_itchgen_free(struct fg_itchgen *g)
{
	if (!g)
		return;
	free(g->sym);
	free(g->pick);
	free(g->live);
	free(g);
}

uint32_t fg_itchgen_symbols(const struct fg_itchgen *g)
{
	return g->nsym;
}

const char *fg_itchgen_symbol(const struct fg_itchgen *g, uint16_t locate)
{
	if (locate == 0 || locate > g->nsym)
		return NULL;
	return g->sym[locate - 1].name;
}

uint64_t fg_itchgen_count(const struct fg_itchgen *g)
{
	return g->count;
}

uint32_t fg_itchgen_live_orders(const struct fg_itchgen *g)
{
	return g->nlive;
}

/* --- the clock ----------------------------------------------------------------------------- */

/* Mean gap: a 50-million-message day spans about 04:00-18:00; slower to stay before 24:00. */
static void tick(struct fg_itchgen *g, uint64_t mean)
{
	uint64_t gap = 1 + (rnd(g) % (2 * mean - 1));

	if (g->ts >= HMS(20, 0, 0))
		gap = 1 + gap / 100;
	if (g->ts >= HMS(23, 0, 0))
		gap = 1 + gap / 1000;
	g->ts = g->ts + gap > DAY_END ? DAY_END : g->ts + gap;
}

/* --- message writers (offsets: ITCH 5.0 section 4) ----------------------------------------- */

static size_t put_system_event(struct fg_itchgen *g, uint8_t *p, char code)
{
	header(g, p, 'S', 0);
	p[11] = (uint8_t)code;
	return 12;
}

static size_t put_mwcb_decline(struct fg_itchgen *g, uint8_t *p)
{
	/* Price(8): 7%, 13%, 20% below an S&P 500 of 4,500. */
	header(g, p, 'V', 0);
	fg_put_be64(p + 11, 418500ull * 100000000ull / 100);
	fg_put_be64(p + 19, 391500ull * 100000000ull / 100);
	fg_put_be64(p + 27, 360000ull * 100000000ull / 100);
	return 35;
}

static size_t put_directory(struct fg_itchgen *g, uint8_t *p, uint16_t loc)
{
	const struct symbol *s = &g->sym[loc - 1];

	header(g, p, 'R', loc);
	memcpy(p + 11, s->stock, 8);
	p[19] = (uint8_t) "QGSNAPZ"[loc % 7]; /* market category */
	p[20] = 'N'; /* financial status */
	fg_put_be32(p + 21, 100); /* round lot size */
	p[25] = 'N';
	p[26] = loc % 11 ? 'C' : 'E'; /* issue classification */
	p[27] = 'Z';
	p[28] = ' ';
	p[29] = 'P'; /* authenticity: production */
	p[30] = 'N';
	p[31] = 'N';
	p[32] = loc % 3 ? '2' : '1';
	p[33] = loc % 11 ? 'N' : 'Y';
	fg_put_be32(p + 34, 0);
	p[38] = 'N';
	return 39;
}

static size_t put_trading_action(struct fg_itchgen *g, uint8_t *p, uint16_t loc)
{
	header(g, p, 'H', loc);
	memcpy(p + 11, g->sym[loc - 1].stock, 8);
	p[19] = 'T';
	p[20] = ' ';
	memset(p + 21, ' ', 4);
	return 25;
}

static inline uint16_t pick_locate(struct fg_itchgen *g)
{
	return g->pick[rnd(g) & g->pick_mask];
}

/* Shares: mostly round lots, some odd lots. */
static inline uint32_t draw_shares(struct fg_itchgen *g)
{
	uint32_t r = below(g, 100);

	if (r < 20)
		return 1 + below(g, 99);
	if (r < 30)
		return 100 * (1 + below(g, 50));
	return 100 * (1 + (uint32_t)__builtin_ctzll(rnd(g) | (1ull << 10)));
}

/* A price on the side's half of the book: bids strictly below center, asks strictly above. */
static inline uint32_t draw_price(struct fg_itchgen *g, uint16_t loc, uint8_t side)
{
	uint32_t c = g->sym[loc - 1].center, ticks;

	if (below(g, 100) < 85)
		ticks = 1 + (uint32_t)__builtin_ctzll(rnd(g) | (1ull << 12));
	else
		ticks = 1 + below(g, 100);
	return side == 'B' ? c - ticks * TICK : c + ticks * TICK;
}

static size_t put_add(struct fg_itchgen *g, uint8_t *p, int mpid)
{
	struct live_order *o = &g->live[g->nlive++];

	o->locate = pick_locate(g);
	o->side = (rnd(g) & 1) ? 'B' : 'S';
	o->ref = g->next_ref++;
	o->shares = draw_shares(g);
	o->price = draw_price(g, o->locate, o->side);
	header(g, p, mpid ? 'F' : 'A', o->locate);
	fg_put_be64(p + 11, o->ref);
	p[19] = o->side;
	fg_put_be32(p + 20, o->shares);
	memcpy(p + 24, g->sym[o->locate - 1].stock, 8);
	fg_put_be32(p + 32, o->price);
	if (!mpid)
		return 36;
	memcpy(p + 36, mpids[below(g, sizeof(mpids) / sizeof(mpids[0]))], 4);
	return 40;
}

/* Most references go to recent orders; the rest anywhere in the book. */
static inline uint32_t pick_live(struct fg_itchgen *g)
{
	uint32_t n = g->nlive;

	if (below(g, 100) < 70)
		return n - 1 - below(g, n < RECENT ? n : RECENT);
	return below(g, n);
}

static inline void remove_live(struct fg_itchgen *g, uint32_t i)
{
	g->live[i] = g->live[--g->nlive];
}

static size_t put_delete(struct fg_itchgen *g, uint8_t *p)
{
	uint32_t i = pick_live(g);

	header(g, p, 'D', g->live[i].locate);
	fg_put_be64(p + 11, g->live[i].ref);
	remove_live(g, i);
	return 19;
}

static size_t put_replace(struct fg_itchgen *g, uint8_t *p)
{
	struct live_order *o = &g->live[pick_live(g)];

	header(g, p, 'U', o->locate);
	fg_put_be64(p + 11, o->ref);
	o->ref = g->next_ref++;
	o->shares = draw_shares(g);
	o->price = draw_price(g, o->locate, o->side);
	fg_put_be64(p + 19, o->ref);
	fg_put_be32(p + 27, o->shares);
	fg_put_be32(p + 31, o->price);
	return 35;
}

/* E, C or X: half the executions take the whole order; cancels are partial when they can be. */
static size_t put_reduce(struct fg_itchgen *g, uint8_t *p, char type)
{
	uint32_t i = pick_live(g), n;
	struct live_order *o = &g->live[i];
	size_t len;

	if (o->shares > 1 && (type == 'X' || (rnd(g) & 1)))
		n = 1 + below(g, o->shares - 1);
	else
		n = o->shares;
	header(g, p, type, o->locate);
	fg_put_be64(p + 11, o->ref);
	fg_put_be32(p + 19, n);
	if (type == 'X') {
		len = 23;
	} else {
		fg_put_be64(p + 23, g->next_match++);
		len = 31;
		if (type == 'C') {
			p[31] = below(g, 10) ? 'Y' : 'N';
			fg_put_be32(p + 32, o->side == 'B' ? o->price - TICK : o->price + TICK);
			len = 36;
		}
	}
	o->shares -= n;
	if (!o->shares)
		remove_live(g, i);
	return len;
}

static size_t put_trade(struct fg_itchgen *g, uint8_t *p)
{
	uint16_t loc = pick_locate(g);

	header(g, p, 'P', loc);
	fg_put_be64(p + 11, 0); /* non-displayed order: reference 0 */
	p[19] = (rnd(g) & 1) ? 'B' : 'S';
	fg_put_be32(p + 20, draw_shares(g));
	memcpy(p + 24, g->sym[loc - 1].stock, 8);
	fg_put_be32(p + 32, g->sym[loc - 1].center);
	fg_put_be64(p + 36, g->next_match++);
	return 44;
}

static size_t put_cross(struct fg_itchgen *g, uint8_t *p)
{
	uint16_t loc = pick_locate(g);

	header(g, p, 'Q', loc);
	fg_put_be64(p + 11, 1000ull * (1 + below(g, 5000)));
	memcpy(p + 19, g->sym[loc - 1].stock, 8);
	fg_put_be32(p + 27, g->sym[loc - 1].center);
	fg_put_be64(p + 31, g->next_match++);
	p[39] = (uint8_t) "OCH"[below(g, 3)];
	return 40;
}

static size_t put_noii(struct fg_itchgen *g, uint8_t *p)
{
	uint16_t loc = pick_locate(g);
	uint32_t c = g->sym[loc - 1].center;

	header(g, p, 'I', loc);
	fg_put_be64(p + 11, 100ull * below(g, 100000));
	fg_put_be64(p + 19, 100ull * below(g, 10000));
	p[27] = (uint8_t) "BSNO"[below(g, 4)];
	memcpy(p + 28, g->sym[loc - 1].stock, 8);
	fg_put_be32(p + 36, c + TICK * below(g, 20));
	fg_put_be32(p + 40, c - TICK * below(g, 10));
	fg_put_be32(p + 44, c);
	p[48] = (uint8_t) "OCH"[below(g, 3)];
	p[49] = (uint8_t) "L123456789ABC "[below(g, 14)];
	return 50;
}

static size_t put_participant(struct fg_itchgen *g, uint8_t *p)
{
	uint16_t loc = pick_locate(g);

	header(g, p, 'L', loc);
	memcpy(p + 11, mpids[below(g, sizeof(mpids) / sizeof(mpids[0]))], 4);
	memcpy(p + 15, g->sym[loc - 1].stock, 8);
	p[23] = below(g, 4) ? 'N' : 'Y';
	p[24] = 'N';
	p[25] = 'A';
	return 26;
}

/* The rare ones: N, Y, H, B, J, K, h. */
static size_t put_rare(struct fg_itchgen *g, uint8_t *p, char type)
{
	uint16_t loc = pick_locate(g);
	const struct symbol *s = &g->sym[loc - 1];

	header(g, p, type, type == 'B' ? 0 : loc);
	switch (type) {
	case 'N':
		memcpy(p + 11, s->stock, 8);
		p[19] = (uint8_t) "BSAN"[below(g, 4)];
		return 20;
	case 'Y':
		memcpy(p + 11, s->stock, 8);
		p[19] = (uint8_t) "012"[below(g, 3)];
		return 20;
	case 'H':
		memcpy(p + 11, s->stock, 8);
		p[19] = (uint8_t) "HPQT"[below(g, 4)];
		p[20] = ' ';
		memcpy(p + 21, below(g, 2) ? "LUDP" : "    ", 4);
		return 25;
	case 'B':
		fg_put_be64(p + 11,
			    1 + (g->next_match > 1 ? below(g, (uint32_t)(g->next_match - 1)) : 0));
		return 19;
	case 'J':
		memcpy(p + 11, s->stock, 8);
		fg_put_be32(p + 19, s->center);
		fg_put_be32(p + 23, s->center + 50 * TICK);
		fg_put_be32(p + 27, s->center - 50 * TICK);
		fg_put_be32(p + 31, below(g, 3));
		return 35;
	case 'K':
		memcpy(p + 11, s->stock, 8);
		fg_put_be32(p + 19, (uint32_t)(g->ts / NS_PER_S) + 900);
		p[23] = 'A';
		fg_put_be32(p + 24, s->center);
		return 28;
	default: /* 'h' */
		memcpy(p + 11, s->stock, 8);
		p[19] = (uint8_t) "QBX"[below(g, 3)];
		p[20] = (uint8_t) "HT"[below(g, 2)];
		return 21;
	}
}

static size_t body(struct fg_itchgen *g, uint8_t *p)
{
	uint32_t r = below(g, 1000000), acc = 0;
	char type = 'A';

	tick(g, 1000000);
	if (g->next_event < sizeof(events) / sizeof(events[0]) &&
	    g->ts >= events[g->next_event].at) {
		g->ts = events[g->next_event].at;
		return put_system_event(g, p, events[g->next_event++].code);
	}
	for (size_t i = 0; i < sizeof(mix) / sizeof(mix[0]); i++) {
		acc += mix[i].ppm;
		if (r < acc) {
			type = mix[i].type;
			break;
		}
	}
	/* Keep the book consistent: nothing to refer to -> add; book full -> delete. */
	switch (type) {
	case 'A':
	case 'F':
		if (g->nlive >= g->max_live)
			return put_delete(g, p);
		return put_add(g, p, type == 'F');
	case 'D':
	case 'U':
	case 'E':
	case 'C':
	case 'X':
		if (!g->nlive)
			return put_add(g, p, 0);
		if (type == 'D')
			return put_delete(g, p);
		if (type == 'U')
			return put_replace(g, p);
		return put_reduce(g, p, type);
	case 'I':
		return put_noii(g, p);
	case 'P':
		return put_trade(g, p);
	case 'L':
		return put_participant(g, p);
	case 'Q':
		return put_cross(g, p);
	default:
		return put_rare(g, p, type);
	}
}

/* The next message into p (room for 50 bytes). */
static size_t generate(struct fg_itchgen *g, uint8_t *p)
{
	size_t len;

	switch (g->phase) {
	case PH_OPEN:
		g->phase = PH_MWCB;
		len = put_system_event(g, p, 'O');
		break;
	case PH_MWCB:
		tick(g, 10000);
		g->phase = PH_DIRECTORY;
		len = put_mwcb_decline(g, p);
		break;
	case PH_DIRECTORY:
		tick(g, 10000);
		g->phase = PH_ACTION;
		len = put_directory(g, p, (uint16_t)g->dir_next);
		break;
	case PH_ACTION:
		tick(g, 10000);
		len = put_trading_action(g, p, (uint16_t)g->dir_next);
		g->phase = ++g->dir_next > g->nsym ? PH_SYSTEM_START : PH_DIRECTORY;
		break;
	case PH_SYSTEM_START:
		if (g->ts < HMS(4, 0, 0))
			g->ts = HMS(4, 0, 0);
		g->phase = PH_BODY;
		len = put_system_event(g, p, 'S');
		break;
	default:
		len = body(g, p);
		break;
	}
	g->count++;
	return len;
}

size_t fg_itchgen_next(struct fg_itchgen *g, uint8_t *buf, size_t cap)
{
	size_t len;

	if (!g->pending_len) {
		if (cap >= sizeof(g->pending))
			return generate(g, buf);
		g->pending_len = generate(g, g->pending);
	}
	if (g->pending_len > cap)
		return 0;
	len = g->pending_len;
	memcpy(buf, g->pending, len);
	g->pending_len = 0;
	return len;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int fg_itchgen_write_binaryfile(struct fg_itchgen *g, int fd, uint64_t n)
{
	const size_t bufsz = 1 << 20;
	uint8_t *buf = malloc(bufsz);
	size_t used = 0;
	int err = 0;

	if (!buf)
		return -ENOMEM;
	for (uint64_t i = 0; i < n && !err; i++) {
		size_t len;

		if (bufsz - used < 2 + sizeof(g->pending)) {
			err = write_all(fd, buf, used);
			used = 0;
		}
		len = fg_itchgen_next(g, buf + used + 2, bufsz - used - 2);
		fg_put_be16(buf + used, (uint16_t)len);
		used += 2 + len;
	}
	if (!err && used)
		err = write_all(fd, buf, used);
	free(buf);
	return err;
}
