/* SPDX-License-Identifier: MIT */
/*
 * NASDAQ TotalView-ITCH 5.0: the 23 message types decoded into typed structs.
 *
 * Wire facts: ../shared/docs/itch50-moldudp64.md ("Message catalogue"), from
 * the published "NASDAQ TotalView-ITCH 5.0" specification section 4. Every
 * integer on the wire is big-endian and unaligned, so it is loaded through
 * the fg_load_be*() helpers below (memcpy + byte swap), never by casting a wire
 * pointer. Alpha fields are kept exactly as on the wire (space padded, not
 * NUL terminated); prices stay raw integers (Price(4) = u32 with 4 implied
 * decimals, Price(8) = u64 with 8).
 *
 * Every message starts with the same header (type, stock locate, tracking
 * number, u48 timestamp); it is decoded into struct fg_itch_msg itself and
 * the body into the union member for the type.
 */
#ifndef FEEDGATE_ITCH_H
#define FEEDGATE_ITCH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Message types (the first byte of every message). */
#define FG_ITCH_SYSTEM_EVENT 'S'
#define FG_ITCH_STOCK_DIRECTORY 'R'
#define FG_ITCH_STOCK_TRADING_ACTION 'H'
#define FG_ITCH_REG_SHO_RESTRICTION 'Y'
#define FG_ITCH_MARKET_PARTICIPANT_POSITION 'L'
#define FG_ITCH_MWCB_DECLINE_LEVEL 'V'
#define FG_ITCH_MWCB_STATUS 'W'
#define FG_ITCH_IPO_QUOTING_PERIOD_UPDATE 'K'
#define FG_ITCH_LULD_AUCTION_COLLAR 'J'
#define FG_ITCH_OPERATIONAL_HALT 'h'
#define FG_ITCH_ADD_ORDER 'A'
#define FG_ITCH_ADD_ORDER_MPID 'F'
#define FG_ITCH_ORDER_EXECUTED 'E'
#define FG_ITCH_ORDER_EXECUTED_WITH_PRICE 'C'
#define FG_ITCH_ORDER_CANCEL 'X'
#define FG_ITCH_ORDER_DELETE 'D'
#define FG_ITCH_ORDER_REPLACE 'U'
#define FG_ITCH_TRADE 'P'
#define FG_ITCH_CROSS_TRADE 'Q'
#define FG_ITCH_BROKEN_TRADE 'B'
#define FG_ITCH_NOII 'I'
#define FG_ITCH_RPII 'N'
#define FG_ITCH_DLCR_PRICE_DISCOVERY 'O'

/* Number of known types, and their letters in a fixed order (index = fg_itch_type_index()). */
#define FG_ITCH_NTYPES 23
#define FG_ITCH_TYPE_LETTERS "SRHYLVWKJhAFECXDUPQBINO"

/* Exact wire lengths, type byte included (spec table). */
#define FG_ITCH_LEN_S 12
#define FG_ITCH_LEN_R 39
#define FG_ITCH_LEN_H 25
#define FG_ITCH_LEN_Y 20
#define FG_ITCH_LEN_L 26
#define FG_ITCH_LEN_V 35
#define FG_ITCH_LEN_W 12
#define FG_ITCH_LEN_K 28
#define FG_ITCH_LEN_J 35
#define FG_ITCH_LEN_h 21
#define FG_ITCH_LEN_A 36
#define FG_ITCH_LEN_F 40
#define FG_ITCH_LEN_E 31
#define FG_ITCH_LEN_C 36
#define FG_ITCH_LEN_X 23
#define FG_ITCH_LEN_D 19
#define FG_ITCH_LEN_U 35
#define FG_ITCH_LEN_P 44
#define FG_ITCH_LEN_Q 40
#define FG_ITCH_LEN_B 19
#define FG_ITCH_LEN_I 50
#define FG_ITCH_LEN_N 20
#define FG_ITCH_LEN_O 48

#define FG_ITCH_HEADER_LEN 11 /* type, locate, tracking, timestamp */
#define FG_ITCH_MAX_LEN 50 /* the longest known message (I) */
#define FG_ITCH_JSON_MAX 640 /* enough for fg_itch_to_json() of any message */

/* --- unaligned big-endian loads (never cast a wire pointer) ------------------------------- */

/*
 * memcpy and a byte swap compile to one load (movbe or load + bswap). The
 * swap is the compiler's builtin rather than <endian.h>'s be16toh(), which
 * glibc hides under -std=c11: this header must build in any strict mode.
 */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define FG_BE16(x) (x)
#define FG_BE32(x) (x)
#define FG_BE64(x) (x)
#else
#define FG_BE16(x) __builtin_bswap16(x)
#define FG_BE32(x) __builtin_bswap32(x)
#define FG_BE64(x) __builtin_bswap64(x)
#endif

static inline uint16_t fg_load_be16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return FG_BE16(v);
}

static inline uint32_t fg_load_be32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return FG_BE32(v);
}

/* u48 (the timestamp): exactly 6 bytes are read, never past the field. */
static inline uint64_t fg_load_be48(const uint8_t *p)
{
	return ((uint64_t)fg_load_be16(p) << 32) | fg_load_be32(p + 2);
}

static inline uint64_t fg_load_be64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return FG_BE64(v);
}

#undef FG_BE16
#undef FG_BE32
#undef FG_BE64

/* --- message bodies (spec field names in snake_case) --------------------------------------- */

struct fg_itch_system_event { /* S */
	char event_code;
};

struct fg_itch_stock_directory { /* R */
	char stock[8];
	char market_category;
	char financial_status_indicator;
	uint32_t round_lot_size;
	char round_lots_only;
	char issue_classification;
	char issue_sub_type[2];
	char authenticity;
	char short_sale_threshold_indicator;
	char ipo_flag;
	char luld_reference_price_tier;
	char etp_flag;
	uint32_t etp_leverage_factor;
	char inverse_indicator;
};

struct fg_itch_stock_trading_action { /* H */
	char stock[8];
	char trading_state;
	char reserved;
	char reason[4];
};

struct fg_itch_reg_sho_restriction { /* Y */
	char stock[8];
	char reg_sho_action;
};

struct fg_itch_market_participant_position { /* L */
	char mpid[4];
	char stock[8];
	char primary_market_maker;
	char market_maker_mode;
	char market_participant_state;
};

struct fg_itch_mwcb_decline_level { /* V: Price(8) each */
	uint64_t level_1;
	uint64_t level_2;
	uint64_t level_3;
};

struct fg_itch_mwcb_status { /* W */
	char breached_level;
};

struct fg_itch_ipo_quoting_period_update { /* K */
	char stock[8];
	uint32_t ipo_quotation_release_time; /* seconds since midnight */
	char ipo_quotation_release_qualifier;
	uint32_t ipo_price; /* Price(4) */
};

struct fg_itch_luld_auction_collar { /* J: Price(4) each */
	char stock[8];
	uint32_t auction_collar_reference_price;
	uint32_t upper_auction_collar_price;
	uint32_t lower_auction_collar_price;
	uint32_t auction_collar_extension;
};

struct fg_itch_operational_halt { /* h */
	char stock[8];
	char market_code;
	char operational_halt_action;
};

/*
 * A and F share their leading members (a common initial sequence), so code
 * that handles both may read m->add.* for either type.
 */
struct fg_itch_add_order { /* A */
	uint64_t order_reference_number;
	char buy_sell; /* 'B' or 'S' (spec: Buy/Sell Indicator) */
	uint32_t shares;
	char stock[8];
	uint32_t price; /* Price(4) */
};

struct fg_itch_add_order_mpid { /* F */
	uint64_t order_reference_number;
	char buy_sell;
	uint32_t shares;
	char stock[8];
	uint32_t price;
	char attribution[4];
};

/* E and C share their leading members likewise: m->executed.* reads either. */
struct fg_itch_order_executed { /* E */
	uint64_t order_reference_number;
	uint32_t executed_shares;
	uint64_t match_number;
};

struct fg_itch_order_executed_with_price { /* C */
	uint64_t order_reference_number;
	uint32_t executed_shares;
	uint64_t match_number;
	char printable; /* 'Y' or 'N' */
	uint32_t execution_price; /* Price(4) */
};

struct fg_itch_order_cancel { /* X */
	uint64_t order_reference_number;
	uint32_t cancelled_shares;
};

struct fg_itch_order_delete { /* D */
	uint64_t order_reference_number;
};

struct fg_itch_order_replace { /* U */
	uint64_t original_order_reference_number;
	uint64_t new_order_reference_number;
	uint32_t shares;
	uint32_t price; /* Price(4) */
};

struct fg_itch_trade { /* P (non-cross) */
	uint64_t order_reference_number; /* may be 0 */
	char buy_sell;
	uint32_t shares;
	char stock[8];
	uint32_t price; /* Price(4) */
	uint64_t match_number;
};

struct fg_itch_cross_trade { /* Q */
	uint64_t shares; /* u64 on the wire, unlike every other share count */
	char stock[8];
	uint32_t cross_price; /* Price(4) */
	uint64_t match_number;
	char cross_type;
};

struct fg_itch_broken_trade { /* B */
	uint64_t match_number;
};

struct fg_itch_noii { /* I */
	uint64_t paired_shares;
	uint64_t imbalance_shares;
	char imbalance_direction;
	char stock[8];
	uint32_t far_price; /* Price(4) each */
	uint32_t near_price;
	uint32_t current_reference_price;
	char cross_type;
	char price_variation_indicator;
};

struct fg_itch_rpii { /* N */
	char stock[8];
	char interest_flag;
};

struct fg_itch_dlcr_price_discovery { /* O */
	char stock[8];
	char open_eligibility_status;
	uint32_t minimum_allowable_price; /* Price(4) each */
	uint32_t maximum_allowable_price;
	uint32_t near_execution_price;
	uint64_t near_execution_time; /* ns since midnight */
	uint32_t lower_price_range_collar;
	uint32_t upper_price_range_collar;
};

/* One decoded message: the common header, then the body selected by type. */
struct fg_itch_msg {
	uint8_t type; /* FG_ITCH_* letter */
	uint16_t stock_locate; /* 0 for market-wide messages */
	uint16_t tracking_number;
	uint64_t timestamp; /* ns since midnight (u48 on the wire) */
	union {
		struct fg_itch_system_event system_event; /* S */
		struct fg_itch_stock_directory stock_directory; /* R */
		struct fg_itch_stock_trading_action stock_trading_action; /* H */
		struct fg_itch_reg_sho_restriction reg_sho_restriction; /* Y */
		struct fg_itch_market_participant_position market_participant; /* L */
		struct fg_itch_mwcb_decline_level mwcb_decline_level; /* V */
		struct fg_itch_mwcb_status mwcb_status; /* W */
		struct fg_itch_ipo_quoting_period_update ipo_quoting_period; /* K */
		struct fg_itch_luld_auction_collar luld_auction_collar; /* J */
		struct fg_itch_operational_halt operational_halt; /* h */
		struct fg_itch_add_order add; /* A (and F) */
		struct fg_itch_add_order_mpid add_mpid; /* F */
		struct fg_itch_order_executed executed; /* E (and C) */
		struct fg_itch_order_executed_with_price executed_with_price; /* C */
		struct fg_itch_order_cancel cancel; /* X */
		struct fg_itch_order_delete del; /* D */
		struct fg_itch_order_replace replace; /* U */
		struct fg_itch_trade trade; /* P */
		struct fg_itch_cross_trade cross_trade; /* Q */
		struct fg_itch_broken_trade broken_trade; /* B */
		struct fg_itch_noii noii; /* I */
		struct fg_itch_rpii rpii; /* N */
		struct fg_itch_dlcr_price_discovery dlcr; /* O */
	};
};

/* Per-type counters, indexed by the type byte (so unknown types are counted per byte too). */
struct fg_itch_stats {
	uint64_t decoded[256];
	uint64_t unknown[256]; /* type not in the table */
	uint64_t length_mismatch[256]; /* known type, length differs from the table */
};

/* Exact wire length of a type (type byte included), 0 if the type is unknown. */
size_t fg_itch_msg_len(uint8_t type);

/* 0..FG_ITCH_NTYPES-1 for a known type (order of FG_ITCH_TYPE_LETTERS), -1 otherwise. */
int fg_itch_type_index(uint8_t type);

/* Spec name of a type ("Add Order (no MPID)"), or "unknown". */
const char *fg_itch_type_name(uint8_t type);

/*
 * Decode one message: p points at the type byte, len is the length from the
 * block's length prefix. Returns 0, -EINVAL for an unknown type (or len 0),
 * -EPROTO when len differs from the type's length. Never reads past p+len.
 */
int fg_itch_decode(const uint8_t *p, size_t len, struct fg_itch_msg *out);

/* fg_itch_decode() and count the outcome in st (st may be NULL). */
int fg_itch_decode_count(const uint8_t *p, size_t len, struct fg_itch_msg *out,
			 struct fg_itch_stats *st);

/*
 * One JSON object (no newline) for a decoded message: "seq", "type", then
 * the fields by spec name in snake_case; alpha fields as strings (stock
 * trimmed of trailing spaces), integers and raw prices as JSON integers.
 * Returns the length written (excluding the NUL), or -ENOSPC if cap is too
 * small (FG_ITCH_JSON_MAX always suffices).
 */
int fg_itch_to_json(const struct fg_itch_msg *m, uint64_t seq, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif

#endif /* FEEDGATE_ITCH_H */
