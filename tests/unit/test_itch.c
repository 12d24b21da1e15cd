// SPDX-License-Identifier: MIT
/*
 * ITCH 5.0 decoding: every type from hand-built bytes (every field checked),
 * truncation at every byte, unknown types, length mismatches, JSON output.
 * The vectors are written field by field at the spec's offsets
 * (../shared/docs/itch50-moldudp64.md), independently of the decoder.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fg_cunit.h"
#include "feedgate/itch.h"

/* --- byte-vector builders (big-endian, at explicit offsets) -------------------------------- */

static void put16(uint8_t *b, int off, uint16_t v)
{
	b[off] = (uint8_t)(v >> 8);
	b[off + 1] = (uint8_t)v;
}

static void put32(uint8_t *b, int off, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		b[off + i] = (uint8_t)(v >> (24 - 8 * i));
}

static void put48(uint8_t *b, int off, uint64_t v)
{
	for (int i = 0; i < 6; i++)
		b[off + i] = (uint8_t)(v >> (40 - 8 * i));
}

static void put64(uint8_t *b, int off, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		b[off + i] = (uint8_t)(v >> (56 - 8 * i));
}

static void putstr(uint8_t *b, int off, const char *s, int n)
{
	int l = (int)strlen(s);

	for (int i = 0; i < n; i++)
		b[off + i] = (uint8_t)(i < l ? s[i] : ' ');
}

/* Common header: distinct values per test so that a swapped field shows. */
static void header(uint8_t *b, char type, uint16_t locate, uint16_t tracking, uint64_t ts)
{
	b[0] = (uint8_t)type;
	put16(b, 1, locate);
	put16(b, 3, tracking);
	put48(b, 5, ts);
}

/* Decode from an allocation of exactly len bytes (ASan sees any overread). */
static int decode_exact(const uint8_t *b, size_t len, struct fg_itch_msg *m)
{
	uint8_t *copy = malloc(len ? len : 1);
	int rc;

	memcpy(copy, b, len);
	memset(m, 0xa5, sizeof(*m));
	rc = fg_itch_decode(copy, len, m);
	free(copy);
	return rc;
}

static void check_header(const struct fg_itch_msg *m, char type, uint16_t locate, uint16_t tracking,
			 uint64_t ts)
{
	CU_ASSERT_EQUAL(m->type, (uint8_t)type);
	CU_ASSERT_EQUAL(m->stock_locate, locate);
	CU_ASSERT_EQUAL(m->tracking_number, tracking);
	CU_ASSERT_EQUAL(m->timestamp, ts);
}

#define STOCK_EQ(field, s) CU_ASSERT_EQUAL(memcmp((field), (s), 8), 0)

/* --- one test per type --------------------------------------------------------------------- */

static void test_decode_system_event_S(void)
{
	uint8_t b[12];
	struct fg_itch_msg m;

	header(b, 'S', 0, 2, 0x0000123456789abcull);
	b[11] = 'O';
	CU_ASSERT_EQUAL_FATAL(decode_exact(b, sizeof(b), &m), 0);
	check_header(&m, 'S', 0, 2, 0x123456789abcull);
	CU_ASSERT_EQUAL(m.system_event.event_code, 'O');
}

static void test_decode_stock_directory_R(void)
{
	uint8_t b[39];
	struct fg_itch_msg m;

	header(b, 'R', 8012, 3, 11000000000ull);
	putstr(b, 11, "AAPL", 8);
	b[19] = 'Q';
	b[20] = 'N';
	put32(b, 21, 100);
	b[25] = 'N';
	b[26] = 'C';
	b[27] = 'Z';
	b[28] = 'X';
	b[29] = 'P';
	b[30] = 'N';
	b[31] = ' ';
	b[32] = '1';
	b[33] = 'N';
	put32(b, 34, 3);
	b[38] = 'Y';
	CU_ASSERT_EQUAL_FATAL(decode_exact(b, sizeof(b), &m), 0);
	check_header(&m, 'R', 8012, 3, 11000000000ull);
	STOCK_EQ(m.stock_directory.stock, "AAPL    ");
	CU_ASSERT_EQUAL(m.stock_directory.market_category, 'Q');
	CU_ASSERT_EQUAL(m.stock_directory.financial_status_indicator, 'N');
	CU_ASSERT_EQUAL(m.stock_directory.round_lot_size, 100);
	CU_ASSERT_EQUAL(m.stock_directory.round_lots_only, 'N');
	CU_ASSERT_EQUAL(m.stock_directory.issue_classification, 'C');
	CU_ASSERT_EQUAL(memcmp(m.stock_directory.issue_sub_type, "ZX", 2), 0);
	CU_ASSERT_EQUAL(m.stock_directory.authenticity, 'P');
	CU_ASSERT_EQUAL(m.stock_directory.short_sale_threshold_indicator, 'N');
	CU_ASSERT_EQUAL(m.stock_directory.ipo_flag, ' ');
	CU_ASSERT_EQUAL(m.stock_directory.luld_reference_price_tier, '1');
	CU_ASSERT_EQUAL(m.stock_directory.etp_flag, 'N');
	CU_ASSERT_EQUAL(m.stock_directory.etp_leverage_factor, 3);
	CU_ASSERT_EQUAL(m.stock_directory.inverse_indicator, 'Y');
}

static void test_decode_stock_trading_action_H(void)
{
	uint8_t b[25];
	struct fg_itch_msg m;

	header(b, 'H', 77, 4, 34200000000000ull);
	putstr(b, 11, "AMC", 8);
	b[19] = 'T';
	b[20] = 'R';
	putstr(b, 21, "LUDP", 4);
	CU_ASSERT_EQUAL_FATAL(decode_exact(b, sizeof(b), &m), 0);
	check_header(&m, 'H', 77, 4, 34200000000000ull);
	STOCK_EQ(m.stock_trading_action.stock, "AMC     ");
	CU_ASSERT_EQUAL(m.stock_trading_action.trading_state, 'T');
	CU_ASSERT_EQUAL(m.stock_trading_action.reserved, 'R');
	CU_ASSERT_EQUAL(memcmp(m.stock_trading_action.reason, "LUDP", 4), 0);
}

static void test_decode_reg_sho_restriction_Y(void)
{
	uint8_t b[20];
	struct fg_itch_msg m;

	header(b, 'Y', 65535, 65534, 0xffffffffffffull);
	putstr(b, 11, "ZVZZT", 8);
	b[19] = '1';
	CU_ASSERT_EQUAL_FATAL(decode_exact(b, sizeof(b), &m), 0);
	check_header(&m, 'Y', 65535, 65534, 0xffffffffffffull); /* the largest u48 */
	STOCK_EQ(m.reg_sho_restriction.stock, "ZVZZT   ");
	CU_ASSERT_EQUAL(m.reg_sho_restriction.reg_sho_action, '1');
}

static void test_decode_market_participant_position_L(void)
{
	uint8_t b[26];
	struct fg_itch_msg m;

	header(b, 'L', 3731, 5, 1);
	putstr(b, 11, "GSCO", 4);
	putstr(b, 15, "MSFT", 8);
	b[23] = 'Y';
	b[24] = 'N';
	b[25] = 'A';
	CU_ASSERT_EQUAL_FATAL(decode_exact(b, sizeof(b), &m), 0);
	check_header(&m, 'L', 3731, 5, 1);
	CU_ASSERT_EQUAL(memcmp(m.market_participant.mpid, "GSCO", 4), 0);
	STOCK_EQ(m.market_participant.stock, "MSFT    ");
	CU_ASSERT_EQUAL(m.market_participant.primary_market_maker, 'Y');
	CU_ASSERT_EQUAL(m.market_participant.market_maker_mode, 'N');
	CU_ASSERT_EQUAL(m.market_participant.market_participant_state, 'A');
}

static void test_decode_mwcb_decline_level_V(void)
{
	uint8_t b[35];
	struct fg_itch_msg m;

	header(b, 'V', 0, 6, 2);
	put64(b, 11, 359451000000ull); /* Price(8): 3594.51 */
	put64(b, 19, 0x0102030405060708ull);
	put64(b, 27, 0xfedcba9876543210ull);
	CU_ASSERT_EQUAL_FATAL(decode_exact(b, sizeof(b), &m), 0);
	check_header(&m, 'V', 0, 6, 2);
	CU_ASSERT_EQUAL(m.mwcb_decline_level.level_1, 359451000000ull);
	CU_ASSERT_EQUAL(m.mwcb_decline_level.level_2, 0x0102030405060708ull);
	CU_ASSERT_EQUAL(m.mwcb_decline_level.level_3, 0xfedcba9876543210ull);
}

static void test_decode_mwcb_status_W(void)
{
	uint8_t b[12];
	struct fg_itch_msg m;

	header(b, 'W', 0, 7, 3);
	b[11] = '2';
	CU_ASSERT_EQUAL_FATAL(decode_exact(b, sizeof(b), &m), 0);
	check_header(&m, 'W', 0, 7, 3);
	CU_ASSERT_EQUAL(m.mwcb_status.breached_level, '2');
}

static void test_decode_ipo_quoting_period_update_K(void)
{
	uint8_t b[28];
	struct fg_itch_msg m;

	header(b, 'K', 9001, 8, 4);
	putstr(b, 11, "NEWCO", 8);
	put32(b, 19, 36000);
	b[23] = 'A';
	put32(b, 24, 0x77359400); /* 200,000.0000, the largest Price(4) */
	CU_ASSERT_EQUAL_FATAL(decode_exact(b, sizeof(b), &m), 0);
	check_header(&m, 'K', 9001, 8, 4);
	STOCK_EQ(m.ipo_quoting_period.stock, "NEWCO   ");
	CU_ASSERT_EQUAL(m.ipo_quoting_period.ipo_quotation_release_time, 36000);
	CU_ASSERT_EQUAL(m.ipo_quoting_period.ipo_quotation_release_qualifier, 'A');
	CU_ASSERT_EQUAL(m.ipo_quoting_period.ipo_price, 2000000000u);
}

static void test_decode_luld_auction_collar_J(void)
{
	uint8_t b[35];
	struct fg_itch_msg m;

	header(b, 'J', 12, 9, 5);
	putstr(b, 11, "GME", 8);
	put32(b, 19, 250000);
	put32(b, 23, 275000);
	put32(b, 27, 225000);
	put32(b, 31, 2);
	CU_ASSERT_EQUAL_FATAL(decode_exact(b, sizeof(b), &m), 0);
	check_header(&m, 'J', 12, 9, 5);
	STOCK_EQ(m.luld_auction_collar.stock, "GME     ");
	CU_ASSERT_EQUAL(m.luld_auction_collar.auction_collar_reference_price, 250000);
	CU_ASSERT_EQUAL(m.luld_auction_collar.upper_auction_collar_price, 275000);
	CU_ASSERT_EQUAL(m.luld_auction_collar.lower_auction_collar_price, 225000);
	CU_ASSERT_EQUAL(m.luld_auction_collar.auction_collar_extension, 2);
}

static void test_decode_operational_halt_h(void)
{
	uint8_t b[21];
	struct fg_itch_msg m;

	header(b, 'h', 13, 10, 6);
	putstr(b, 11, "TSLA", 8);
	b[19] = 'Q';
	b[20] = 'H';
	CU_ASSERT_EQUAL_FATAL(decode_exact(b, sizeof(b), &m), 0);
	check_header(&m, 'h', 13, 10, 6);
	STOCK_EQ(m.operational_halt.stock, "TSLA    ");
	CU_ASSERT_EQUAL(m.operational_halt.market_code, 'Q');
	CU_ASSERT_EQUAL(m.operational_halt.operational_halt_action, 'H');
}

static void test_decode_add_order_A(void)
{
	uint8_t b[36];
	struct fg_itch_msg m;

	header(b, 'A', 14, 11, 7);
	put64(b, 11, 0x8000000000000001ull);
	b[19] = 'B';
	put32(b, 20, 4294967295u);
	putstr(b, 24, "QQQ", 8);
	put32(b, 32, 3715100);
	CU_ASSERT_EQUAL_FATAL(decode_exact(b, sizeof(b), &m), 0);
	check_header(&m, 'A', 14, 11, 7);
	CU_ASSERT_EQUAL(m.add.order_reference_number, 0x8000000000000001ull);
	CU_ASSERT_EQUAL(m.add.buy_sell, 'B');
	CU_ASSERT_EQUAL(m.add.shares, 4294967295u);
	STOCK_EQ(m.add.stock, "QQQ     ");
	CU_ASSERT_EQUAL(m.add.price, 3715100);
}

static void test_decode_add_order_mpid_F(void)
{
	uint8_t b[40];
	struct fg_itch_msg m;

	header(b, 'F', 15, 12, 8);
	put64(b, 11, 123456789);
	b[19] = 'S';
	put32(b, 20, 300);
	putstr(b, 24, "SPY", 8);
	put32(b, 32, 4400000);
	putstr(b, 36, "VIRT", 4);
	CU_ASSERT_EQUAL_FATAL(decode_exact(b, sizeof(b), &m), 0);
	check_header(&m, 'F', 15, 12, 8);
	CU_ASSERT_EQUAL(m.add_mpid.order_reference_number, 123456789);
	CU_ASSERT_EQUAL(m.add_mpid.buy_sell, 'S');
	CU_ASSERT_EQUAL(m.add_mpid.shares, 300);
	STOCK_EQ(m.add_mpid.stock, "SPY     ");
	CU_ASSERT_EQUAL(m.add_mpid.price, 4400000);
	CU_ASSERT_EQUAL(memcmp(m.add_mpid.attribution, "VIRT", 4), 0);
	/* The A view of an F reads the same leading fields. */
	CU_ASSERT_EQUAL(m.add.order_reference_number, 123456789);
	CU_ASSERT_EQUAL(m.add.shares, 300);
	CU_ASSERT_EQUAL(m.add.price, 4400000);
}

static void test_decode_order_executed_E(void)
{
	uint8_t b[31];
	struct fg_itch_msg m;

	header(b, 'E', 16, 13, 9);
	put64(b, 11, 42);
	put32(b, 19, 25);
	put64(b, 23, 0x0000000100000002ull);
	CU_ASSERT_EQUAL_FATAL(decode_exact(b, sizeof(b), &m), 0);
	check_header(&m, 'E', 16, 13, 9);
	CU_ASSERT_EQUAL(m.executed.order_reference_number, 42);
	CU_ASSERT_EQUAL(m.executed.executed_shares, 25);
	CU_ASSERT_EQUAL(m.executed.match_number, 0x0000000100000002ull);
}

static void test_decode_order_executed_with_price_C(void)
{
	uint8_t b[36];
	struct fg_itch_msg m;

	header(b, 'C', 17, 14, 10);
	put64(b, 11, 43);
	put32(b, 19, 26);
	put64(b, 23, 99887766);
	b[31] = 'Y';
	put32(b, 32, 1234567);
	CU_ASSERT_EQUAL_FATAL(decode_exact(b, sizeof(b), &m), 0);
	check_header(&m, 'C', 17, 14, 10);
	CU_ASSERT_EQUAL(m.executed_with_price.order_reference_number, 43);
	CU_ASSERT_EQUAL(m.executed_with_price.executed_shares, 26);
	CU_ASSERT_EQUAL(m.executed_with_price.match_number, 99887766);
	CU_ASSERT_EQUAL(m.executed_with_price.printable, 'Y');
	CU_ASSERT_EQUAL(m.executed_with_price.execution_price, 1234567);
	CU_ASSERT_EQUAL(m.executed.executed_shares, 26);
}

static void test_decode_order_cancel_X(void)
{
	uint8_t b[23];
	struct fg_itch_msg m;

	header(b, 'X', 18, 15, 11);
	put64(b, 11, 44);
	put32(b, 19, 27);
	CU_ASSERT_EQUAL_FATAL(decode_exact(b, sizeof(b), &m), 0);
	check_header(&m, 'X', 18, 15, 11);
	CU_ASSERT_EQUAL(m.cancel.order_reference_number, 44);
	CU_ASSERT_EQUAL(m.cancel.cancelled_shares, 27);
}

static void test_decode_order_delete_D(void)
{
	uint8_t b[19];
	struct fg_itch_msg m;

	header(b, 'D', 19, 16, 12);
	put64(b, 11, 0xffffffffffffffffull);
	CU_ASSERT_EQUAL_FATAL(decode_exact(b, sizeof(b), &m), 0);
	check_header(&m, 'D', 19, 16, 12);
	CU_ASSERT_EQUAL(m.del.order_reference_number, 0xffffffffffffffffull);
}

static void test_decode_order_replace_U(void)
{
	uint8_t b[35];
	struct fg_itch_msg m;

	header(b, 'U', 20, 17, 13);
	put64(b, 11, 1000);
	put64(b, 19, 2000);
	put32(b, 27, 500);
	put32(b, 31, 101500);
	CU_ASSERT_EQUAL_FATAL(decode_exact(b, sizeof(b), &m), 0);
	check_header(&m, 'U', 20, 17, 13);
	CU_ASSERT_EQUAL(m.replace.original_order_reference_number, 1000);
	CU_ASSERT_EQUAL(m.replace.new_order_reference_number, 2000);
	CU_ASSERT_EQUAL(m.replace.shares, 500);
	CU_ASSERT_EQUAL(m.replace.price, 101500);
}

static void test_decode_trade_P(void)
{
	uint8_t b[44];
	struct fg_itch_msg m;

	header(b, 'P', 21, 18, 14);
	put64(b, 11, 0);
	b[19] = 'B';
	put32(b, 20, 100);
	putstr(b, 24, "NVDA", 8);
	put32(b, 32, 4500000);
	put64(b, 36, 555);
	CU_ASSERT_EQUAL_FATAL(decode_exact(b, sizeof(b), &m), 0);
	check_header(&m, 'P', 21, 18, 14);
	CU_ASSERT_EQUAL(m.trade.order_reference_number, 0);
	CU_ASSERT_EQUAL(m.trade.buy_sell, 'B');
	CU_ASSERT_EQUAL(m.trade.shares, 100);
	STOCK_EQ(m.trade.stock, "NVDA    ");
	CU_ASSERT_EQUAL(m.trade.price, 4500000);
	CU_ASSERT_EQUAL(m.trade.match_number, 555);
}

static void test_decode_cross_trade_Q(void)
{
	uint8_t b[40];
	struct fg_itch_msg m;

	header(b, 'Q', 22, 19, 15);
	put64(b, 11, 5000000000ull); /* u64 shares, more than a u32 holds */
	putstr(b, 19, "IBM", 8);
	put32(b, 27, 1400000);
	put64(b, 31, 777);
	b[39] = 'O';
	CU_ASSERT_EQUAL_FATAL(decode_exact(b, sizeof(b), &m), 0);
	check_header(&m, 'Q', 22, 19, 15);
	CU_ASSERT_EQUAL(m.cross_trade.shares, 5000000000ull);
	STOCK_EQ(m.cross_trade.stock, "IBM     ");
	CU_ASSERT_EQUAL(m.cross_trade.cross_price, 1400000);
	CU_ASSERT_EQUAL(m.cross_trade.match_number, 777);
	CU_ASSERT_EQUAL(m.cross_trade.cross_type, 'O');
}

static void test_decode_broken_trade_B(void)
{
	uint8_t b[19];
	struct fg_itch_msg m;

	header(b, 'B', 23, 20, 16);
	put64(b, 11, 778);
	CU_ASSERT_EQUAL_FATAL(decode_exact(b, sizeof(b), &m), 0);
	check_header(&m, 'B', 23, 20, 16);
	CU_ASSERT_EQUAL(m.broken_trade.match_number, 778);
}

static void test_decode_noii_I(void)
{
	uint8_t b[50];
	struct fg_itch_msg m;

	header(b, 'I', 24, 21, 17);
	put64(b, 11, 1111);
	put64(b, 19, 2222);
	b[27] = 'B';
	putstr(b, 28, "AMD", 8);
	put32(b, 36, 3333);
	put32(b, 40, 4444);
	put32(b, 44, 5555);
	b[48] = 'C';
	b[49] = 'L';
	CU_ASSERT_EQUAL_FATAL(decode_exact(b, sizeof(b), &m), 0);
	check_header(&m, 'I', 24, 21, 17);
	CU_ASSERT_EQUAL(m.noii.paired_shares, 1111);
	CU_ASSERT_EQUAL(m.noii.imbalance_shares, 2222);
	CU_ASSERT_EQUAL(m.noii.imbalance_direction, 'B');
	STOCK_EQ(m.noii.stock, "AMD     ");
	CU_ASSERT_EQUAL(m.noii.far_price, 3333);
	CU_ASSERT_EQUAL(m.noii.near_price, 4444);
	CU_ASSERT_EQUAL(m.noii.current_reference_price, 5555);
	CU_ASSERT_EQUAL(m.noii.cross_type, 'C');
	CU_ASSERT_EQUAL(m.noii.price_variation_indicator, 'L');
}

static void test_decode_rpii_N(void)
{
	uint8_t b[20];
	struct fg_itch_msg m;

	header(b, 'N', 25, 22, 18);
	putstr(b, 11, "INTC", 8);
	b[19] = 'A';
	CU_ASSERT_EQUAL_FATAL(decode_exact(b, sizeof(b), &m), 0);
	check_header(&m, 'N', 25, 22, 18);
	STOCK_EQ(m.rpii.stock, "INTC    ");
	CU_ASSERT_EQUAL(m.rpii.interest_flag, 'A');
}

static void test_decode_dlcr_price_discovery_O(void)
{
	uint8_t b[48];
	struct fg_itch_msg m;

	header(b, 'O', 26, 23, 19);
	putstr(b, 11, "DLCR", 8);
	b[19] = 'Y';
	put32(b, 20, 100000);
	put32(b, 24, 200000);
	put32(b, 28, 150000);
	put64(b, 32, 36000000000000ull);
	put32(b, 40, 140000);
	put32(b, 44, 160000);
	CU_ASSERT_EQUAL_FATAL(decode_exact(b, sizeof(b), &m), 0);
	check_header(&m, 'O', 26, 23, 19);
	STOCK_EQ(m.dlcr.stock, "DLCR    ");
	CU_ASSERT_EQUAL(m.dlcr.open_eligibility_status, 'Y');
	CU_ASSERT_EQUAL(m.dlcr.minimum_allowable_price, 100000);
	CU_ASSERT_EQUAL(m.dlcr.maximum_allowable_price, 200000);
	CU_ASSERT_EQUAL(m.dlcr.near_execution_price, 150000);
	CU_ASSERT_EQUAL(m.dlcr.near_execution_time, 36000000000000ull);
	CU_ASSERT_EQUAL(m.dlcr.lower_price_range_collar, 140000);
	CU_ASSERT_EQUAL(m.dlcr.upper_price_range_collar, 160000);
}

/* --- lengths, truncation, unknown types ---------------------------------------------------- */

static const struct {
	char type;
	size_t len;
} spec_lengths[] = {
	{ 'S', 12 }, { 'R', 39 }, { 'H', 25 }, { 'Y', 20 }, { 'L', 26 }, { 'V', 35 },
	{ 'W', 12 }, { 'K', 28 }, { 'J', 35 }, { 'h', 21 }, { 'A', 36 }, { 'F', 40 },
	{ 'E', 31 }, { 'C', 36 }, { 'X', 23 }, { 'D', 19 }, { 'U', 35 }, { 'P', 44 },
	{ 'Q', 40 }, { 'B', 19 }, { 'I', 50 }, { 'N', 20 }, { 'O', 48 },
};

static void test_lengths_match_the_spec_table(void)
{
	unsigned int known = 0;

	CU_ASSERT_EQUAL(sizeof(spec_lengths) / sizeof(spec_lengths[0]), FG_ITCH_NTYPES);
	for (size_t i = 0; i < FG_ITCH_NTYPES; i++) {
		CU_ASSERT_EQUAL(fg_itch_msg_len((uint8_t)spec_lengths[i].type),
				spec_lengths[i].len);
		CU_ASSERT_EQUAL(fg_itch_type_index((uint8_t)spec_lengths[i].type), (int)i);
		CU_ASSERT_STRING_NOT_EQUAL(fg_itch_type_name((uint8_t)spec_lengths[i].type),
					   "unknown");
	}
	for (int t = 0; t < 256; t++)
		known += fg_itch_msg_len((uint8_t)t) != 0;
	CU_ASSERT_EQUAL(known, FG_ITCH_NTYPES);
}

static void test_truncation_at_every_byte_is_rejected(void)
{
	uint8_t b[64];
	struct fg_itch_msg m;

	for (size_t i = 0; i < FG_ITCH_NTYPES; i++) {
		size_t l = spec_lengths[i].len;

		for (size_t j = 0; j < sizeof(b); j++)
			b[j] = (uint8_t)(j * 37 + 1);
		b[0] = (uint8_t)spec_lengths[i].type;
		CU_ASSERT_EQUAL(decode_exact(b, 0, &m), -EINVAL);
		for (size_t cut = 1; cut < l; cut++)
			CU_ASSERT_EQUAL(decode_exact(b, cut, &m), -EPROTO);
		CU_ASSERT_EQUAL(decode_exact(b, l, &m), 0);
		CU_ASSERT_EQUAL(decode_exact(b, l + 1, &m), -EPROTO);
	}
}

static void test_unknown_types_are_skipped_and_counted(void)
{
	struct fg_itch_stats *st = calloc(1, sizeof(*st));
	uint8_t b[40] = { 0 };
	struct fg_itch_msg m;
	unsigned int unknown = 0;

	for (int t = 0; t < 256; t++) {
		if (fg_itch_msg_len((uint8_t)t))
			continue;
		b[0] = (uint8_t)t;
		CU_ASSERT_EQUAL(fg_itch_decode_count(b, sizeof(b), &m, st), -EINVAL);
		CU_ASSERT_EQUAL(fg_itch_type_index((uint8_t)t), -1);
		CU_ASSERT_STRING_EQUAL(fg_itch_type_name((uint8_t)t), "unknown");
		unknown++;
	}
	CU_ASSERT_EQUAL(unknown, 256 - FG_ITCH_NTYPES);
	CU_ASSERT_EQUAL(st->unknown['Z'], 1);
	CU_ASSERT_EQUAL(st->unknown['a'], 1);
	CU_ASSERT_EQUAL(st->decoded['Z'], 0);

	/* A known type of the wrong length counts as a length mismatch, not unknown. */
	b[0] = 'A';
	CU_ASSERT_EQUAL(fg_itch_decode_count(b, 35, &m, st), -EPROTO);
	CU_ASSERT_EQUAL(fg_itch_decode_count(b, 37, &m, st), -EPROTO);
	CU_ASSERT_EQUAL(st->length_mismatch['A'], 2);
	CU_ASSERT_EQUAL(st->unknown['A'], 0);
	CU_ASSERT_EQUAL(fg_itch_decode_count(b, 36, &m, st), 0);
	CU_ASSERT_EQUAL(st->decoded['A'], 1);
	free(st);
}

/* A stream of length-prefixed messages with junk in it: the good ones all decode. */
static void test_stream_skips_bad_messages_by_length_prefix(void)
{
	uint8_t buf[256], *p = buf;
	struct fg_itch_stats *st = calloc(1, sizeof(*st));
	struct fg_itch_msg m;
	unsigned int ok = 0;
	size_t off = 0;

	/* D (good), 'z' x7 (unknown), A with 30 bytes (mismatch), S (good) */
	put16(p, 0, 19);
	header(p + 2, 'D', 1, 0, 5);
	put64(p + 2, 11, 9);
	p += 21;
	put16(p, 0, 7);
	memset(p + 2, 'z', 7);
	p += 9;
	put16(p, 0, 30);
	memset(p + 2, 0, 30);
	p[2] = 'A';
	p += 32;
	put16(p, 0, 12);
	header(p + 2, 'S', 0, 0, 6);
	p[13] = 'E';
	p += 14;
	while (off + 2 <= (size_t)(p - buf)) {
		uint16_t l = (uint16_t)(buf[off] << 8 | buf[off + 1]);

		if (!fg_itch_decode_count(buf + off + 2, l, &m, st))
			ok++;
		off += 2 + l;
	}
	CU_ASSERT_EQUAL(ok, 2);
	CU_ASSERT_EQUAL(m.type, 'S');
	CU_ASSERT_EQUAL(m.system_event.event_code, 'E');
	CU_ASSERT_EQUAL(st->unknown['z'], 1);
	CU_ASSERT_EQUAL(st->length_mismatch['A'], 1);
	CU_ASSERT_EQUAL(st->decoded['D'], 1);
	free(st);
}

static void test_be_loads_are_unaligned_and_exact(void)
{
	uint8_t b[16];

	for (int i = 0; i < 16; i++)
		b[i] = (uint8_t)(0x10 + i);
	CU_ASSERT_EQUAL(fg_load_be16(b + 1), 0x1112);
	CU_ASSERT_EQUAL(fg_load_be32(b + 3), 0x13141516u);
	CU_ASSERT_EQUAL(fg_load_be48(b + 5), 0x15161718191aull);
	CU_ASSERT_EQUAL(fg_load_be64(b + 7), 0x1718191a1b1c1d1eull);
}

/* --- JSON ---------------------------------------------------------------------------------- */

static void test_json_add_order(void)
{
	uint8_t b[36];
	struct fg_itch_msg m;
	char out[FG_ITCH_JSON_MAX];
	int n;

	header(b, 'A', 14, 2, 28800000000000ull);
	put64(b, 11, 5000);
	b[19] = 'S';
	put32(b, 20, 100);
	putstr(b, 24, "AAPL", 8);
	put32(b, 32, 1895000);
	CU_ASSERT_EQUAL_FATAL(fg_itch_decode(b, sizeof(b), &m), 0);
	n = fg_itch_to_json(&m, 77, out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, "{\"seq\":77,\"type\":\"A\",\"stock_locate\":14,"
				    "\"tracking_number\":2,\"timestamp\":28800000000000,"
				    "\"order_reference_number\":5000,\"buy_sell\":\"S\","
				    "\"shares\":100,\"stock\":\"AAPL\",\"price\":1895000}");
	CU_ASSERT_EQUAL(n, (int)strlen(out));
}

static void test_json_escapes_and_bounds(void)
{
	uint8_t b[40];
	struct fg_itch_msg m;
	char out[FG_ITCH_JSON_MAX];
	int n;

	header(b, 'F', 1, 0, 0);
	put64(b, 11, 1);
	b[19] = '"';
	put32(b, 20, 1);
	memcpy(b + 24, "A\\B\x01\xff   ", 8);
	put32(b, 32, 1);
	putstr(b, 36, "AB", 4);
	CU_ASSERT_EQUAL_FATAL(fg_itch_decode(b, sizeof(b), &m), 0);
	n = fg_itch_to_json(&m, 0, out, sizeof(out));
	CU_ASSERT(n > 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"buy_sell\":\"\\\"\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"stock\":\"A\\\\B\\u0001\\u00ff\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"attribution\":\"AB\"}"));
	/* Every buffer shorter than the output fails cleanly, the exact size works. */
	for (int cap = 0; cap <= n; cap++) {
		char *small = malloc((size_t)cap + 1);

		CU_ASSERT_EQUAL(fg_itch_to_json(&m, 0, small, (size_t)cap), -ENOSPC);
		free(small);
	}
	CU_ASSERT_EQUAL(fg_itch_to_json(&m, 0, out, (size_t)n + 1), n);
}

static void test_json_every_type_fits_the_max(void)
{
	uint8_t b[64];
	struct fg_itch_msg m;
	char out[FG_ITCH_JSON_MAX];

	for (size_t i = 0; i < FG_ITCH_NTYPES; i++) {
		/* Worst case: every byte 0xff (escaped alpha, longest numbers). */
		memset(b, 0xff, sizeof(b));
		b[0] = (uint8_t)spec_lengths[i].type;
		CU_ASSERT_EQUAL_FATAL(fg_itch_decode(b, spec_lengths[i].len, &m), 0);
		CU_ASSERT(fg_itch_to_json(&m, UINT64_MAX, out, sizeof(out)) > 0);
		CU_ASSERT_EQUAL(out[0], '{');
		CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"timestamp\":281474976710655"));
	}
}

static const struct fg_test tests[] = {
	FG_TEST(test_decode_system_event_S),
	FG_TEST(test_decode_stock_directory_R),
	FG_TEST(test_decode_stock_trading_action_H),
	FG_TEST(test_decode_reg_sho_restriction_Y),
	FG_TEST(test_decode_market_participant_position_L),
	FG_TEST(test_decode_mwcb_decline_level_V),
	FG_TEST(test_decode_mwcb_status_W),
	FG_TEST(test_decode_ipo_quoting_period_update_K),
	FG_TEST(test_decode_luld_auction_collar_J),
	FG_TEST(test_decode_operational_halt_h),
	FG_TEST(test_decode_add_order_A),
	FG_TEST(test_decode_add_order_mpid_F),
	FG_TEST(test_decode_order_executed_E),
	FG_TEST(test_decode_order_executed_with_price_C),
	FG_TEST(test_decode_order_cancel_X),
	FG_TEST(test_decode_order_delete_D),
	FG_TEST(test_decode_order_replace_U),
	FG_TEST(test_decode_trade_P),
	FG_TEST(test_decode_cross_trade_Q),
	FG_TEST(test_decode_broken_trade_B),
	FG_TEST(test_decode_noii_I),
	FG_TEST(test_decode_rpii_N),
	FG_TEST(test_decode_dlcr_price_discovery_O),
	FG_TEST(test_lengths_match_the_spec_table),
	FG_TEST(test_truncation_at_every_byte_is_rejected),
	FG_TEST(test_unknown_types_are_skipped_and_counted),
	FG_TEST(test_stream_skips_bad_messages_by_length_prefix),
	FG_TEST(test_be_loads_are_unaligned_and_exact),
	FG_TEST(test_json_add_order),
	FG_TEST(test_json_escapes_and_bounds),
	FG_TEST(test_json_every_type_fits_the_max),
};

FG_TEST_MAIN("itch", tests, NULL, NULL)
