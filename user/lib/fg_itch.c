// SPDX-License-Identifier: MIT
/*
 * ITCH 5.0 decoding: one message (type byte first, length from its block
 * prefix) into struct fg_itch_msg, and the JSON line of `--decode`.
 *
 * Offsets are those of the spec's message formats (section 4 of
 * "NASDAQ TotalView-ITCH 5.0", summarised in ../shared/docs/itch50-moldudp64.md).
 * The length is checked against the table before any field is loaded, so a
 * decode never reads past p + len. Enumerations are not validated: new
 * values appear over the years and must not stop a stream. The types that
 * make up almost all of a day decode without a branch on the type (see
 * fast_prog and decode_simd below); the others through one switch.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "feedgate/itch.h"
#include "fg_itch_int.h"

const uint8_t fg_itch_len_tab[256] = {
	['S'] = FG_ITCH_LEN_S, ['R'] = FG_ITCH_LEN_R, ['H'] = FG_ITCH_LEN_H, ['Y'] = FG_ITCH_LEN_Y,
	['L'] = FG_ITCH_LEN_L, ['V'] = FG_ITCH_LEN_V, ['W'] = FG_ITCH_LEN_W, ['K'] = FG_ITCH_LEN_K,
	['J'] = FG_ITCH_LEN_J, ['h'] = FG_ITCH_LEN_h, ['A'] = FG_ITCH_LEN_A, ['F'] = FG_ITCH_LEN_F,
	['E'] = FG_ITCH_LEN_E, ['C'] = FG_ITCH_LEN_C, ['X'] = FG_ITCH_LEN_X, ['D'] = FG_ITCH_LEN_D,
	['U'] = FG_ITCH_LEN_U, ['P'] = FG_ITCH_LEN_P, ['Q'] = FG_ITCH_LEN_Q, ['B'] = FG_ITCH_LEN_B,
	['I'] = FG_ITCH_LEN_I, ['N'] = FG_ITCH_LEN_N, ['O'] = FG_ITCH_LEN_O,
};

size_t fg_itch_msg_len(uint8_t type)
{
	return fg_itch_len_tab[type];
}

int fg_itch_type_index(uint8_t type)
{
	const char *p;

	if (!fg_itch_len_tab[type])
		return -1;
	p = strchr(FG_ITCH_TYPE_LETTERS, type);
	return p ? (int)(p - FG_ITCH_TYPE_LETTERS) : -1;
}

const char *fg_itch_type_name(uint8_t type)
{
	switch (type) {
	case 'S':
		return "System Event";
	case 'R':
		return "Stock Directory";
	case 'H':
		return "Stock Trading Action";
	case 'Y':
		return "Reg SHO Restriction";
	case 'L':
		return "Market Participant Position";
	case 'V':
		return "MWCB Decline Level";
	case 'W':
		return "MWCB Status";
	case 'K':
		return "IPO Quoting Period Update";
	case 'J':
		return "LULD Auction Collar";
	case 'h':
		return "Operational Halt";
	case 'A':
		return "Add Order (no MPID)";
	case 'F':
		return "Add Order (MPID)";
	case 'E':
		return "Order Executed";
	case 'C':
		return "Order Executed With Price";
	case 'X':
		return "Order Cancel";
	case 'D':
		return "Order Delete";
	case 'U':
		return "Order Replace";
	case 'P':
		return "Trade (non-cross)";
	case 'Q':
		return "Cross Trade";
	case 'B':
		return "Broken Trade";
	case 'I':
		return "NOII";
	case 'N':
		return "Retail Price Improvement Indicator";
	case 'O':
		return "Direct Listing with Capital Raise Price Discovery";
	default:
		return "unknown";
	}
}

static inline void cp(char *dst, const uint8_t *src, size_t n)
{
	memcpy(dst, src, n);
}

/*
 * The hot types (A D U E X: about 97% of a day) are decoded without a branch
 * on the type: on a random mix of adds and deletes a switch mispredicts about
 * every other message, which cost more than the decode itself (this is the
 * portable path; x86-64 with SSSE3 takes the shuffles below). Each hot type
 * has a fixed program of FAST_OPS steps; a step loads 8 wire bytes, swaps
 * them to host order unless the field is an alpha field (raw), masks the
 * field and stores 8 bytes into the body union. A big-endian field of w
 * bytes at wire offset o is loaded from o + w - 8 (its value is then the
 * low w bytes), so no step reads before the header or past p + len, even
 * for D, the shortest. Steps run in increasing destination order: the
 * zeros a narrow field stores past itself are overwritten by the next
 * field or land in padding. Short programs repeat their last step.
 */
#define FAST_OPS 5
#define M8 0xffull
#define M32 0xffffffffull
#define M64 0xffffffffffffffffull

struct fast_op {
	uint8_t off; /* wire offset of the 8 bytes loaded */
	uint8_t dst; /* offset in the body union */
	uint64_t raw; /* all ones for an alpha field (stored as on the wire), else 0 */
	uint64_t mask;
};

/* Indexed by type byte: 1 + the program of a hot type, 0 for the others. */
static const uint8_t fast_idx[256] = { ['A'] = 1, ['D'] = 2, ['U'] = 3, ['E'] = 4, ['X'] = 5 };

/* clang-format off */
#define OP(o, d, r, m) { (o), (d), (r) ? M64 : 0, (m) }
/* clang-format on */
#define REF OP(11, 0, 0, M64) /* every hot type: the order reference, u64 at 11 */
static const struct fast_op fast_prog[6][FAST_OPS] = {
	[1] = { /* A: buy_sell@19, shares@20, stock@24 (alpha), price@32 */
		REF, OP(12, 8, 0, M8), OP(16, 12, 0, M32), OP(24, 16, 1, M64), OP(28, 24, 0, M32) },
	[2] = { REF, REF, REF, REF, REF }, /* D */
	[3] = { /* U: new reference@19, shares@27, price@31 */
		REF, OP(19, 8, 0, M64), OP(23, 16, 0, M32), OP(27, 20, 0, M32),
		OP(27, 20, 0, M32) },
	[4] = { /* E: executed_shares@19, match_number@23 */
		REF, OP(15, 8, 0, M32), OP(23, 16, 0, M64), OP(23, 16, 0, M64),
		OP(23, 16, 0, M64) },
	[5] = { /* X: cancelled_shares@19 */
		REF, OP(15, 8, 0, M32), OP(15, 8, 0, M32), OP(15, 8, 0, M32),
		OP(15, 8, 0, M32) },
};

/* The programs' destinations are the struct layouts: a change there must show here. */
#define FAST_AT(t, f, o) _Static_assert(offsetof(struct t, f) == (o), #t "." #f " moved")
FAST_AT(fg_itch_add_order, buy_sell, 8);
FAST_AT(fg_itch_add_order, shares, 12);
FAST_AT(fg_itch_add_order, stock, 16);
FAST_AT(fg_itch_add_order, price, 24);
FAST_AT(fg_itch_order_replace, new_order_reference_number, 8);
FAST_AT(fg_itch_order_replace, shares, 16);
FAST_AT(fg_itch_order_replace, price, 20);
FAST_AT(fg_itch_order_executed, executed_shares, 8);
FAST_AT(fg_itch_order_executed, match_number, 16);
FAST_AT(fg_itch_order_cancel, cancelled_shares, 8);
_Static_assert(sizeof(struct fg_itch_msg) - offsetof(struct fg_itch_msg, del) >= 32,
	       "a fast step stores 8 bytes at union offset 24");

/*
 * On x86-64 with SSSE3 (every x86-64 CPU since 2006; checked at run time)
 * the adds, executions, cancels, deletes and replaces (A F E C X D U) are one
 * byte shuffle instead: decoding them is a permutation of wire bytes (swapped
 * for big-endian fields, zeros for padding) into the first 48 bytes of
 * struct fg_itch_msg. Three 16-byte windows of the message are loaded: the
 * first 16 bytes (the header), one starting at the body (at 11, or earlier
 * for a message shorter than 27 bytes) and the last 16 bytes; every window
 * lies inside [p, p + len) since every such type is at least 19 bytes long.
 * The shuffle masks are built once from the field lists below, at start-up.
 */
#if defined(__x86_64__) && !defined(FG_ITCH_NO_SIMD)
#include <immintrin.h>
#define FAST_SIMD 1

#define SIMD_TYPES "AFECXDU"
#define SIMD_OUT 48 /* struct bytes written: header (16) + 32 of the union */

struct simd_field {
	uint8_t off, width, raw;
	uint8_t dst; /* offset in struct fg_itch_msg */
};

/* The header, the same for every type (spec section 1: locate, tracking, u48 timestamp). */
static const struct simd_field simd_hdr[4] = {
	{ 0, 1, 1, offsetof(struct fg_itch_msg, type) },
	{ 1, 2, 0, offsetof(struct fg_itch_msg, stock_locate) },
	{ 3, 2, 0, offsetof(struct fg_itch_msg, tracking_number) },
	{ 5, 6, 0, offsetof(struct fg_itch_msg, timestamp) },
};

/* clang-format off */
#define F_AT(off, width, raw, member) { off, width, raw, offsetof(struct fg_itch_msg, member) }
/* clang-format on */

/* Per type of SIMD_TYPES: its body fields (spec section 4.3-4.4), ended by width 0. */
static const struct simd_field simd_fields[7][8] = {
	{ F_AT(11, 8, 0, add_mpid.order_reference_number), F_AT(19, 1, 1, add_mpid.buy_sell),
	  F_AT(20, 4, 0, add_mpid.shares), F_AT(24, 8, 1, add_mpid.stock),
	  F_AT(32, 4, 0, add_mpid.price) }, /* A */
	{ F_AT(11, 8, 0, add_mpid.order_reference_number), F_AT(19, 1, 1, add_mpid.buy_sell),
	  F_AT(20, 4, 0, add_mpid.shares), F_AT(24, 8, 1, add_mpid.stock),
	  F_AT(32, 4, 0, add_mpid.price), F_AT(36, 4, 1, add_mpid.attribution) }, /* F */
	{ F_AT(11, 8, 0, executed.order_reference_number), F_AT(19, 4, 0, executed.executed_shares),
	  F_AT(23, 8, 0, executed.match_number) }, /* E */
	{ F_AT(11, 8, 0, executed_with_price.order_reference_number),
	  F_AT(19, 4, 0, executed_with_price.executed_shares),
	  F_AT(23, 8, 0, executed_with_price.match_number),
	  F_AT(31, 1, 1, executed_with_price.printable),
	  F_AT(32, 4, 0, executed_with_price.execution_price) }, /* C */
	{ F_AT(11, 8, 0, cancel.order_reference_number),
	  F_AT(19, 4, 0, cancel.cancelled_shares) }, /* X */
	{ F_AT(11, 8, 0, del.order_reference_number) }, /* D */
	{ F_AT(11, 8, 0, replace.original_order_reference_number),
	  F_AT(19, 8, 0, replace.new_order_reference_number), F_AT(27, 4, 0, replace.shares),
	  F_AT(31, 4, 0, replace.price) }, /* U */
};

struct simd_prog {
	uint8_t mask[5][16]; /* header from window 0; union lo, hi from windows 1 and 2 */
	uint8_t win1; /* start of window 1 (window 2 starts at len - 16) */
};

/* Indexed by type byte: 1 + the program of an SIMD type, 0 for the others. */
static uint8_t simd_idx[256];
static struct simd_prog simd_prog[8] __attribute__((aligned(16)));

_Static_assert(sizeof(struct fg_itch_msg) >= SIMD_OUT, "the shuffles store 48 bytes");
_Static_assert(offsetof(struct fg_itch_msg, del) == 16, "the union starts at byte 16");

/* Wire byte -> struct byte map of one type, then the masks; 0 if a field does not fit. */
static int simd_build(const struct simd_field *body, size_t len, struct simd_prog *pr)
{
	int src[SIMD_OUT];
	unsigned int w1 = len >= 27 ? 11 : (unsigned int)len - 16, w2 = (unsigned int)len - 16;

	for (int j = 0; j < SIMD_OUT; j++)
		src[j] = -1;
	for (int pass = 0; pass < 2; pass++) {
		const struct simd_field *f = pass ? body : simd_hdr;
		int n = pass ? 8 : 4;

		for (int i = 0; i < n && f[i].width; i++)
			for (int k = 0; k < f[i].width; k++) {
				int w = f[i].off + (f[i].raw ? k : f[i].width - 1 - k);

				if (f[i].dst + k >= SIMD_OUT || (size_t)w >= len)
					return 0;
				src[f[i].dst + k] = w;
			}
	}
	memset(pr->mask, 0x80, sizeof(pr->mask)); /* a set high bit shuffles in a zero */
	pr->win1 = (uint8_t)w1;
	for (int j = 0; j < SIMD_OUT; j++) {
		int w = src[j];

		if (w < 0)
			continue;
		if (j < 16) {
			if (w >= 16)
				return 0;
			pr->mask[0][j] = (uint8_t)w;
		} else if ((unsigned int)w >= w1 && (unsigned int)w < w1 + 16) {
			pr->mask[j < 32 ? 1 : 3][j & 15] = (uint8_t)(w - w1);
		} else if ((unsigned int)w >= w2) {
			pr->mask[j < 32 ? 2 : 4][j & 15] = (uint8_t)(w - w2);
		} else {
			return 0;
		}
	}
	return 1;
}

__attribute__((constructor)) static void simd_init(void)
{
	__builtin_cpu_init();
	if (!__builtin_cpu_supports("ssse3"))
		return;
	for (int i = 0; SIMD_TYPES[i]; i++) {
		uint8_t t = (uint8_t)SIMD_TYPES[i];

		if (!simd_build(simd_fields[i], fg_itch_len_tab[t], &simd_prog[i + 1]))
			return; /* cannot happen with the tables above: stay on the scalar path */
	}
	for (int i = 0; SIMD_TYPES[i]; i++)
		simd_idx[(uint8_t)SIMD_TYPES[i]] = (uint8_t)(i + 1);
}

__attribute__((target("ssse3"))) static int decode_simd(const uint8_t *p, size_t len,
							struct fg_itch_msg *m, unsigned int si)
{
	const struct simd_prog *pr = &simd_prog[si];
	__m128i w0, w1, w2, k[5], lo, hi;

	memcpy(&w0, p, 16);
	memcpy(&w1, p + pr->win1, 16);
	memcpy(&w2, p + len - 16, 16);
	memcpy(k, pr->mask, sizeof(k));
	w0 = _mm_shuffle_epi8(w0, k[0]);
	lo = _mm_or_si128(_mm_shuffle_epi8(w1, k[1]), _mm_shuffle_epi8(w2, k[2]));
	hi = _mm_or_si128(_mm_shuffle_epi8(w1, k[3]), _mm_shuffle_epi8(w2, k[4]));
	memcpy((uint8_t *)m, &w0, 16);
	memcpy((uint8_t *)m + 16, &lo, 16);
	memcpy((uint8_t *)m + 32, &hi, 16);
	return 0;
}
#endif

/* One step; the raw choice is by mask, since a branch there would mispredict too. */
static inline __attribute__((always_inline)) void fast_step(const uint8_t *p, uint8_t *u,
							    const struct fast_op *op)
{
	uint64_t v, s;

	memcpy(&v, p + op->off, sizeof(v));
	s = be64toh(v);
	v = (((v ^ s) & op->raw) ^ s) & op->mask;
	memcpy(u + op->dst, &v, sizeof(v));
}

static void decode_body(const uint8_t *p, struct fg_itch_msg *m);

/*
 * The decoder, inlined into both exported entry points: the library is
 * built with -fPIC, where a call from fg_itch_decode_count() to
 * fg_itch_decode() stays a call (an exported function may be interposed).
 */
static inline __attribute__((always_inline)) int decode(const uint8_t *p, size_t len,
							struct fg_itch_msg *m)
{
	size_t want;
	unsigned int fi;
	uint8_t t;

	if (!len)
		return -EINVAL;
	t = p[0];
	want = fg_itch_len_tab[t];
	if (!want)
		return -EINVAL;
	if (len != want)
		return -EPROTO;
#ifdef FAST_SIMD
	fi = simd_idx[t];
	if (__builtin_expect(fi != 0, 1))
		return decode_simd(p, len, m, fi);
#endif

	/* Header (every known type is at least 12 bytes long). */
	m->type = t;
	m->stock_locate = fg_load_be16(p + 1);
	m->tracking_number = fg_load_be16(p + 3);
	m->timestamp = fg_load_be48(p + 5);

	fi = fast_idx[t];
	if (__builtin_expect(fi != 0, 1)) {
		const struct fast_op *op = fast_prog[fi];
		uint8_t *u = (uint8_t *)&m->del;

		/* A fixed count (unrolled by the compiler): a loop exit would mispredict. */
		for (int k = 0; k < FAST_OPS; k++)
			fast_step(p, u, &op[k]);
		return 0;
	}
	decode_body(p, m);
	return 0;
}

int fg_itch_decode(const uint8_t *p, size_t len, struct fg_itch_msg *m)
{
	return decode(p, len, m);
}

/* Every type the long way (the fast programs cover only the hot ones). */
static void decode_body(const uint8_t *p, struct fg_itch_msg *m)
{
	switch (p[0]) {
	case 'S':
		m->system_event.event_code = (char)p[11];
		break;
	case 'R': {
		struct fg_itch_stock_directory *r = &m->stock_directory;

		cp(r->stock, p + 11, 8);
		r->market_category = (char)p[19];
		r->financial_status_indicator = (char)p[20];
		r->round_lot_size = fg_load_be32(p + 21);
		r->round_lots_only = (char)p[25];
		r->issue_classification = (char)p[26];
		cp(r->issue_sub_type, p + 27, 2);
		r->authenticity = (char)p[29];
		r->short_sale_threshold_indicator = (char)p[30];
		r->ipo_flag = (char)p[31];
		r->luld_reference_price_tier = (char)p[32];
		r->etp_flag = (char)p[33];
		r->etp_leverage_factor = fg_load_be32(p + 34);
		r->inverse_indicator = (char)p[38];
		break;
	}
	case 'H': {
		struct fg_itch_stock_trading_action *h = &m->stock_trading_action;

		cp(h->stock, p + 11, 8);
		h->trading_state = (char)p[19];
		h->reserved = (char)p[20];
		cp(h->reason, p + 21, 4);
		break;
	}
	case 'Y':
		cp(m->reg_sho_restriction.stock, p + 11, 8);
		m->reg_sho_restriction.reg_sho_action = (char)p[19];
		break;
	case 'L': {
		struct fg_itch_market_participant_position *l = &m->market_participant;

		cp(l->mpid, p + 11, 4);
		cp(l->stock, p + 15, 8);
		l->primary_market_maker = (char)p[23];
		l->market_maker_mode = (char)p[24];
		l->market_participant_state = (char)p[25];
		break;
	}
	case 'V':
		m->mwcb_decline_level.level_1 = fg_load_be64(p + 11);
		m->mwcb_decline_level.level_2 = fg_load_be64(p + 19);
		m->mwcb_decline_level.level_3 = fg_load_be64(p + 27);
		break;
	case 'W':
		m->mwcb_status.breached_level = (char)p[11];
		break;
	case 'K': {
		struct fg_itch_ipo_quoting_period_update *k = &m->ipo_quoting_period;

		cp(k->stock, p + 11, 8);
		k->ipo_quotation_release_time = fg_load_be32(p + 19);
		k->ipo_quotation_release_qualifier = (char)p[23];
		k->ipo_price = fg_load_be32(p + 24);
		break;
	}
	case 'J': {
		struct fg_itch_luld_auction_collar *j = &m->luld_auction_collar;

		cp(j->stock, p + 11, 8);
		j->auction_collar_reference_price = fg_load_be32(p + 19);
		j->upper_auction_collar_price = fg_load_be32(p + 23);
		j->lower_auction_collar_price = fg_load_be32(p + 27);
		j->auction_collar_extension = fg_load_be32(p + 31);
		break;
	}
	case 'h':
		cp(m->operational_halt.stock, p + 11, 8);
		m->operational_halt.market_code = (char)p[19];
		m->operational_halt.operational_halt_action = (char)p[20];
		break;
	case 'A':
	case 'F': {
		/* One layout for both: A is F without the attribution (common initial sequence). */
		struct fg_itch_add_order_mpid *a = &m->add_mpid;

		a->order_reference_number = fg_load_be64(p + 11);
		a->buy_sell = (char)p[19];
		a->shares = fg_load_be32(p + 20);
		cp(a->stock, p + 24, 8);
		a->price = fg_load_be32(p + 32);
		if (p[0] == 'F')
			cp(a->attribution, p + 36, 4);
		break;
	}
	case 'E':
	case 'C': {
		struct fg_itch_order_executed_with_price *e = &m->executed_with_price;

		e->order_reference_number = fg_load_be64(p + 11);
		e->executed_shares = fg_load_be32(p + 19);
		e->match_number = fg_load_be64(p + 23);
		if (p[0] == 'C') {
			e->printable = (char)p[31];
			e->execution_price = fg_load_be32(p + 32);
		}
		break;
	}
	case 'X':
		m->cancel.order_reference_number = fg_load_be64(p + 11);
		m->cancel.cancelled_shares = fg_load_be32(p + 19);
		break;
	case 'D':
		m->del.order_reference_number = fg_load_be64(p + 11);
		break;
	case 'U':
		m->replace.original_order_reference_number = fg_load_be64(p + 11);
		m->replace.new_order_reference_number = fg_load_be64(p + 19);
		m->replace.shares = fg_load_be32(p + 27);
		m->replace.price = fg_load_be32(p + 31);
		break;
	case 'P': {
		struct fg_itch_trade *t = &m->trade;

		t->order_reference_number = fg_load_be64(p + 11);
		t->buy_sell = (char)p[19];
		t->shares = fg_load_be32(p + 20);
		cp(t->stock, p + 24, 8);
		t->price = fg_load_be32(p + 32);
		t->match_number = fg_load_be64(p + 36);
		break;
	}
	case 'Q': {
		struct fg_itch_cross_trade *q = &m->cross_trade;

		q->shares = fg_load_be64(p + 11);
		cp(q->stock, p + 19, 8);
		q->cross_price = fg_load_be32(p + 27);
		q->match_number = fg_load_be64(p + 31);
		q->cross_type = (char)p[39];
		break;
	}
	case 'B':
		m->broken_trade.match_number = fg_load_be64(p + 11);
		break;
	case 'I': {
		struct fg_itch_noii *i = &m->noii;

		i->paired_shares = fg_load_be64(p + 11);
		i->imbalance_shares = fg_load_be64(p + 19);
		i->imbalance_direction = (char)p[27];
		cp(i->stock, p + 28, 8);
		i->far_price = fg_load_be32(p + 36);
		i->near_price = fg_load_be32(p + 40);
		i->current_reference_price = fg_load_be32(p + 44);
		i->cross_type = (char)p[48];
		i->price_variation_indicator = (char)p[49];
		break;
	}
	case 'N':
		cp(m->rpii.stock, p + 11, 8);
		m->rpii.interest_flag = (char)p[19];
		break;
	case 'O': {
		struct fg_itch_dlcr_price_discovery *o = &m->dlcr;

		cp(o->stock, p + 11, 8);
		o->open_eligibility_status = (char)p[19];
		o->minimum_allowable_price = fg_load_be32(p + 20);
		o->maximum_allowable_price = fg_load_be32(p + 24);
		o->near_execution_price = fg_load_be32(p + 28);
		o->near_execution_time = fg_load_be64(p + 32);
		o->lower_price_range_collar = fg_load_be32(p + 40);
		o->upper_price_range_collar = fg_load_be32(p + 44);
		break;
	}
	}
}

int fg_itch_decode_count(const uint8_t *p, size_t len, struct fg_itch_msg *out,
			 struct fg_itch_stats *st)
{
	int rc = decode(p, len, out);

	if (st && len) {
		if (!rc)
			st->decoded[p[0]]++;
		else if (rc == -EPROTO)
			st->length_mismatch[p[0]]++;
		else
			st->unknown[p[0]]++;
	}
	return rc;
}

/* --- JSON ---------------------------------------------------------------------------------- */

/* A bounded writer: once it overflows it stays overflowed and writes nothing more. */
struct jw {
	char *p;
	char *end;
	int overflow;
};

static void jw_raw(struct jw *w, const char *s, size_t n)
{
	if (w->overflow || (size_t)(w->end - w->p) < n) {
		w->overflow = 1;
		return;
	}
	memcpy(w->p, s, n);
	w->p += n;
}

static void jw_u64(struct jw *w, uint64_t v)
{
	char tmp[20];
	int n = 0;

	do {
		tmp[sizeof(tmp) - 1 - n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	jw_raw(w, tmp + sizeof(tmp) - n, (size_t)n);
}

/* JSON string body for wire alpha bytes: escapes quotes, backslashes, control and non-ASCII. */
static void jw_esc(struct jw *w, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };

		if (c == '"' || c == '\\') {
			char q[2] = { '\\', (char)c };

			jw_raw(w, q, 2);
		} else if (c < 0x20 || c >= 0x7f) {
			jw_raw(w, e, 6);
		} else {
			jw_raw(w, (const char *)&c, 1);
		}
	}
}

/* ,"name": */
static void jw_key(struct jw *w, const char *name)
{
	jw_raw(w, ",\"", 2);
	jw_raw(w, name, strlen(name));
	jw_raw(w, "\":", 2);
}

static void jw_num(struct jw *w, const char *name, uint64_t v)
{
	jw_key(w, name);
	jw_u64(w, v);
}

/* An alpha field; trailing spaces trimmed (all alpha fields are left-justified, space padded). */
static void jw_alpha(struct jw *w, const char *name, const char *s, size_t n)
{
	while (n && s[n - 1] == ' ')
		n--;
	jw_key(w, name);
	jw_raw(w, "\"", 1);
	jw_esc(w, s, n);
	jw_raw(w, "\"", 1);
}

/* A one-character alpha field, kept as is (a space is a meaningful value in several of them). */
static void jw_ch(struct jw *w, const char *name, char c)
{
	jw_key(w, name);
	jw_raw(w, "\"", 1);
	jw_esc(w, &c, 1);
	jw_raw(w, "\"", 1);
}

#define J_NUM(f) jw_num(&w, #f, b->f)
#define J_CH(f) jw_ch(&w, #f, b->f)
#define J_STR(f) jw_alpha(&w, #f, b->f, sizeof(b->f))

int fg_itch_to_json(const struct fg_itch_msg *m, uint64_t seq, char *buf, size_t cap)
{
	struct jw w = { buf, buf + (cap ? cap - 1 : 0), cap == 0 };
	char t = (char)m->type;

	jw_raw(&w, "{\"seq\":", 7);
	jw_u64(&w, seq);
	jw_key(&w, "type");
	jw_raw(&w, "\"", 1);
	jw_esc(&w, &t, 1);
	jw_raw(&w, "\"", 1);
	jw_num(&w, "stock_locate", m->stock_locate);
	jw_num(&w, "tracking_number", m->tracking_number);
	jw_num(&w, "timestamp", m->timestamp);

	switch (m->type) {
	case 'S': {
		const struct fg_itch_system_event *b = &m->system_event;

		J_CH(event_code);
		break;
	}
	case 'R': {
		const struct fg_itch_stock_directory *b = &m->stock_directory;

		J_STR(stock);
		J_CH(market_category);
		J_CH(financial_status_indicator);
		J_NUM(round_lot_size);
		J_CH(round_lots_only);
		J_CH(issue_classification);
		J_STR(issue_sub_type);
		J_CH(authenticity);
		J_CH(short_sale_threshold_indicator);
		J_CH(ipo_flag);
		J_CH(luld_reference_price_tier);
		J_CH(etp_flag);
		J_NUM(etp_leverage_factor);
		J_CH(inverse_indicator);
		break;
	}
	case 'H': {
		const struct fg_itch_stock_trading_action *b = &m->stock_trading_action;

		J_STR(stock);
		J_CH(trading_state);
		J_CH(reserved);
		J_STR(reason);
		break;
	}
	case 'Y': {
		const struct fg_itch_reg_sho_restriction *b = &m->reg_sho_restriction;

		J_STR(stock);
		J_CH(reg_sho_action);
		break;
	}
	case 'L': {
		const struct fg_itch_market_participant_position *b = &m->market_participant;

		J_STR(mpid);
		J_STR(stock);
		J_CH(primary_market_maker);
		J_CH(market_maker_mode);
		J_CH(market_participant_state);
		break;
	}
	case 'V': {
		const struct fg_itch_mwcb_decline_level *b = &m->mwcb_decline_level;

		J_NUM(level_1);
		J_NUM(level_2);
		J_NUM(level_3);
		break;
	}
	case 'W': {
		const struct fg_itch_mwcb_status *b = &m->mwcb_status;

		J_CH(breached_level);
		break;
	}
	case 'K': {
		const struct fg_itch_ipo_quoting_period_update *b = &m->ipo_quoting_period;

		J_STR(stock);
		J_NUM(ipo_quotation_release_time);
		J_CH(ipo_quotation_release_qualifier);
		J_NUM(ipo_price);
		break;
	}
	case 'J': {
		const struct fg_itch_luld_auction_collar *b = &m->luld_auction_collar;

		J_STR(stock);
		J_NUM(auction_collar_reference_price);
		J_NUM(upper_auction_collar_price);
		J_NUM(lower_auction_collar_price);
		J_NUM(auction_collar_extension);
		break;
	}
	case 'h': {
		const struct fg_itch_operational_halt *b = &m->operational_halt;

		J_STR(stock);
		J_CH(market_code);
		J_CH(operational_halt_action);
		break;
	}
	case 'A':
	case 'F': {
		const struct fg_itch_add_order_mpid *b = &m->add_mpid;

		J_NUM(order_reference_number);
		J_CH(buy_sell);
		J_NUM(shares);
		J_STR(stock);
		J_NUM(price);
		if (m->type == 'F')
			J_STR(attribution);
		break;
	}
	case 'E':
	case 'C': {
		const struct fg_itch_order_executed_with_price *b = &m->executed_with_price;

		J_NUM(order_reference_number);
		J_NUM(executed_shares);
		J_NUM(match_number);
		if (m->type == 'C') {
			J_CH(printable);
			J_NUM(execution_price);
		}
		break;
	}
	case 'X': {
		const struct fg_itch_order_cancel *b = &m->cancel;

		J_NUM(order_reference_number);
		J_NUM(cancelled_shares);
		break;
	}
	case 'D': {
		const struct fg_itch_order_delete *b = &m->del;

		J_NUM(order_reference_number);
		break;
	}
	case 'U': {
		const struct fg_itch_order_replace *b = &m->replace;

		J_NUM(original_order_reference_number);
		J_NUM(new_order_reference_number);
		J_NUM(shares);
		J_NUM(price);
		break;
	}
	case 'P': {
		const struct fg_itch_trade *b = &m->trade;

		J_NUM(order_reference_number);
		J_CH(buy_sell);
		J_NUM(shares);
		J_STR(stock);
		J_NUM(price);
		J_NUM(match_number);
		break;
	}
	case 'Q': {
		const struct fg_itch_cross_trade *b = &m->cross_trade;

		J_NUM(shares);
		J_STR(stock);
		J_NUM(cross_price);
		J_NUM(match_number);
		J_CH(cross_type);
		break;
	}
	case 'B': {
		const struct fg_itch_broken_trade *b = &m->broken_trade;

		J_NUM(match_number);
		break;
	}
	case 'I': {
		const struct fg_itch_noii *b = &m->noii;

		J_NUM(paired_shares);
		J_NUM(imbalance_shares);
		J_CH(imbalance_direction);
		J_STR(stock);
		J_NUM(far_price);
		J_NUM(near_price);
		J_NUM(current_reference_price);
		J_CH(cross_type);
		J_CH(price_variation_indicator);
		break;
	}
	case 'N': {
		const struct fg_itch_rpii *b = &m->rpii;

		J_STR(stock);
		J_CH(interest_flag);
		break;
	}
	case 'O': {
		const struct fg_itch_dlcr_price_discovery *b = &m->dlcr;

		J_STR(stock);
		J_CH(open_eligibility_status);
		J_NUM(minimum_allowable_price);
		J_NUM(maximum_allowable_price);
		J_NUM(near_execution_price);
		J_NUM(near_execution_time);
		J_NUM(lower_price_range_collar);
		J_NUM(upper_price_range_collar);
		break;
	}
	default:
		break;
	}
	jw_raw(&w, "}", 1);
	if (w.overflow) {
		if (cap)
			buf[0] = '\0';
		return -ENOSPC;
	}
	*w.p = '\0';
	return (int)(w.p - buf);
}
