// SPDX-License-Identifier: MIT
/*
 * The real NASDAQ captures (tests/data/itch-real) through pcap reader +
 * fg_net + MoldUDP64 + ITCH decode, with values read by hand from hex dumps
 * against the spec; then the pipeline: the same captures end to end, feeds,
 * arbitration between two lines, gap events in the decode output, symbol
 * filtering with the directory learned inside a batch, malformed counting,
 * the raw (BinaryFILE) entry, batches larger than the gather arrays, books.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fg_cunit.h"
#include "feedgate/book.h"
#include "feedgate/capfile.h"
#include "feedgate/itch.h"
#include "feedgate/mold.h"
#include "feedgate/pipeline.h"
#include "fg_net.h"

#define DIR1 FG_ITCH_REAL "/Nasdaq.Equities.TotalView.Itch.v5.0/"
#define DIR2 FG_ITCH_REAL "/Nasdaq.Equities.TotalView.Itch.v5.0.20230822/"

/* --- the real captures, layer by layer ----------------------------------------------------- */

struct rec {
	struct fg_itch_msg m;
	uint64_t seq;
	char session[10];
	struct fg_flow flow;
	uint16_t count; /* messages in its packet */
};

/* Every message of a capture, decoded; -1 if the file is missing. */
static int load(const char *path, struct rec *out, int max, int *frames)
{
	struct fg_capfile *c;
	struct fg_cap_record r;
	int n = 0;

	*frames = 0;
	if (fg_capfile_open(path, &c))
		return -1;
	while (fg_capfile_next(c, &r) == 1) {
		struct fg_frame f;
		struct fg_flow flow;
		struct fg_mold_packet pkt;
		struct fg_mold_iter it;
		const uint8_t *pl, *msg;
		uint32_t plen;
		uint16_t len;
		int bad, k = 0;

		(*frames)++;
		CU_ASSERT_EQUAL_FATAL(fg_capfile_frame(&r, &f), 0);
		CU_ASSERT_EQUAL_FATAL(fg_net_parse(&f, &flow, &pl, &plen), FG_NET_UDP);
		CU_ASSERT_EQUAL_FATAL(fg_mold_parse(pl, plen, &pkt, &bad), 0);
		fg_mold_iter_init(&it, &pkt);
		while (fg_mold_iter_next(&it, &msg, &len) && n < max) {
			CU_ASSERT_EQUAL_FATAL(fg_itch_decode(msg, len, &out[n].m), 0);
			out[n].seq = pkt.h.seq + (uint64_t)k++;
			memcpy(out[n].session, pkt.h.session, 10);
			out[n].flow = flow;
			out[n].count = pkt.h.count;
			n++;
		}
	}
	CU_ASSERT_EQUAL(fg_capfile_truncated(c), 0);
	fg_capfile_close(c);
	return n;
}

#define LOAD(path, recs, want_frames, want_msgs)            \
	do {                                                \
		int frames_;                                \
		n = load(path, recs, 64, &frames_);         \
		if (n < 0)                                  \
			FG_SKIP("real captures not found"); \
		CU_ASSERT_EQUAL_FATAL(n, want_msgs);        \
		CU_ASSERT_EQUAL(frames_, want_frames);      \
	} while (0)

/* The original framing: VLAN 141, 206.200.127.138 -> 233.54.12.111:26477, session 000010059B. */
static void check_original_framing(const struct rec *r)
{
	CU_ASSERT_EQUAL(r->flow.family, AF_INET);
	CU_ASSERT_EQUAL(r->flow.nvlan, 1);
	CU_ASSERT_EQUAL(r->flow.vlan[0], 141);
	CU_ASSERT_EQUAL(memcmp(r->flow.src, "\xce\xc8\x7f\x8a", 4), 0);
	CU_ASSERT_EQUAL(memcmp(r->flow.dst, "\xe9\x36\x0c\x6f", 4), 0);
	CU_ASSERT_EQUAL(r->flow.sport, 49653);
	CU_ASSERT_EQUAL(r->flow.dport, 26477);
	CU_ASSERT_EQUAL(memcmp(r->session, "000010059B", 10), 0);
}

static void test_real_add_order_no_mpid(void)
{
	struct rec r[64];
	int n;

	LOAD(DIR1 "AddOrderNoMpidAttributionMessage.pcap", r, 1, 1);
	check_original_framing(&r[0]);
	/* 41 1598 0000 1f1aced85306 000000000166b53e 42 00000640 "IVOO    " 000d55ac */
	CU_ASSERT_EQUAL(r[0].seq, 14757721);
	CU_ASSERT_EQUAL(r[0].m.type, 'A');
	CU_ASSERT_EQUAL(r[0].m.stock_locate, 5528);
	CU_ASSERT_EQUAL(r[0].m.tracking_number, 0);
	CU_ASSERT_EQUAL(r[0].m.timestamp, 34199999894278ull); /* 09:29:59.999894278 */
	CU_ASSERT_EQUAL(r[0].m.add.order_reference_number, 23508286);
	CU_ASSERT_EQUAL(r[0].m.add.buy_sell, 'B');
	CU_ASSERT_EQUAL(r[0].m.add.shares, 1600);
	CU_ASSERT_EQUAL(memcmp(r[0].m.add.stock, "IVOO    ", 8), 0);
	CU_ASSERT_EQUAL(r[0].m.add.price, 873900); /* $87.39 */
}

static void test_real_market_participant_position(void)
{
	struct rec r[64];
	int n;

	LOAD(DIR1 "MarketParticipantPositionMessage.pcap", r, 1, 1);
	check_original_framing(&r[0]);
	CU_ASSERT_EQUAL(r[0].seq, 17861990);
	CU_ASSERT_EQUAL(r[0].m.type, 'L');
	CU_ASSERT_EQUAL(r[0].m.stock_locate, 3731);
	CU_ASSERT_EQUAL(r[0].m.timestamp, 34224494802989ull);
	CU_ASSERT_EQUAL(memcmp(r[0].m.market_participant.mpid, "MAXM", 4), 0);
	CU_ASSERT_EQUAL(memcmp(r[0].m.market_participant.stock, "FGMC    ", 8), 0);
	CU_ASSERT_EQUAL(r[0].m.market_participant.primary_market_maker, 'Y');
	CU_ASSERT_EQUAL(r[0].m.market_participant.market_maker_mode, 'N');
	CU_ASSERT_EQUAL(r[0].m.market_participant.market_participant_state, 'A');
}

static void test_real_multiple_packets(void)
{
	struct rec r[64];
	int n, adds = 0, buys = 0;

	LOAD(DIR1 "Multiple.Packets.pcap", r, 2, 39);
	/* Packet 1: one Order Delete. */
	check_original_framing(&r[0]);
	CU_ASSERT_EQUAL(r[0].count, 1);
	CU_ASSERT_EQUAL(r[0].seq, 14764496);
	CU_ASSERT_EQUAL(r[0].m.type, 'D');
	CU_ASSERT_EQUAL(r[0].m.stock_locate, 2737);
	CU_ASSERT_EQUAL(r[0].m.timestamp, 34200007495351ull);
	CU_ASSERT_EQUAL(r[0].m.del.order_reference_number, 23485802);
	/* Packet 2: a full 1472-byte payload of 38 messages (36 A and 2 F), all META. */
	check_original_framing(&r[1]);
	CU_ASSERT_EQUAL(r[1].count, 38);
	CU_ASSERT_EQUAL(r[1].seq, 19009117);
	CU_ASSERT_EQUAL(r[38].seq, 19009117 + 37);
	for (int i = 1; i < 39; i++) {
		CU_ASSERT_EQUAL(r[i].m.stock_locate, 6514);
		CU_ASSERT_EQUAL(r[i].m.timestamp, 34238952381153ull); /* one timestamp for all */
		CU_ASSERT_EQUAL(memcmp(r[i].m.add.stock, "META    ", 8), 0);
		adds += r[i].m.type == 'A';
		buys += r[i].m.add.buy_sell == 'B';
	}
	CU_ASSERT_EQUAL(adds, 36);
	CU_ASSERT_EQUAL(buys, 19);
	/* [0] A 7942047 B 1 @ 80.5200 */
	CU_ASSERT_EQUAL(r[1].m.add.order_reference_number, 7942047);
	CU_ASSERT_EQUAL(r[1].m.add.buy_sell, 'B');
	CU_ASSERT_EQUAL(r[1].m.add.shares, 1);
	CU_ASSERT_EQUAL(r[1].m.add.price, 805200);
	/* [8] F 9752743 B 5 @ 80.1100 UBSS */
	CU_ASSERT_EQUAL(r[9].m.type, 'F');
	CU_ASSERT_EQUAL(r[9].m.add_mpid.order_reference_number, 9752743);
	CU_ASSERT_EQUAL(r[9].m.add_mpid.shares, 5);
	CU_ASSERT_EQUAL(r[9].m.add_mpid.price, 801100);
	CU_ASSERT_EQUAL(memcmp(r[9].m.add_mpid.attribution, "UBSS", 4), 0);
	/* [13] F 10250271 S 112 @ 357.8900 UBSS */
	CU_ASSERT_EQUAL(r[14].m.type, 'F');
	CU_ASSERT_EQUAL(r[14].m.add_mpid.order_reference_number, 10250271);
	CU_ASSERT_EQUAL(r[14].m.add_mpid.buy_sell, 'S');
	CU_ASSERT_EQUAL(r[14].m.add_mpid.shares, 112);
	CU_ASSERT_EQUAL(r[14].m.add_mpid.price, 3578900);
	/* [37] A 5325319 S 1 @ 358.0000 */
	CU_ASSERT_EQUAL(r[38].m.type, 'A');
	CU_ASSERT_EQUAL(r[38].m.add.order_reference_number, 5325319);
	CU_ASSERT_EQUAL(r[38].m.add.buy_sell, 'S');
	CU_ASSERT_EQUAL(r[38].m.add.price, 3580000);
}

static void test_real_noii_delete_executed_replace_action(void)
{
	struct rec r[64];
	int n;

	LOAD(DIR1 "NetOrderImbalanceIndicatorMessage.pcap", r, 1, 1);
	check_original_framing(&r[0]);
	CU_ASSERT_EQUAL(r[0].seq, 14757919);
	CU_ASSERT_EQUAL(r[0].m.type, 'I');
	CU_ASSERT_EQUAL(r[0].m.stock_locate, 6462);
	CU_ASSERT_EQUAL(r[0].m.timestamp, 34200000268978ull);
	CU_ASSERT_EQUAL(r[0].m.noii.paired_shares, 1);
	CU_ASSERT_EQUAL(r[0].m.noii.imbalance_shares, 0);
	CU_ASSERT_EQUAL(r[0].m.noii.imbalance_direction, 'N');
	CU_ASSERT_EQUAL(memcmp(r[0].m.noii.stock, "MDC     ", 8), 0);
	CU_ASSERT_EQUAL(r[0].m.noii.far_price, 464400);
	CU_ASSERT_EQUAL(r[0].m.noii.near_price, 464400);
	CU_ASSERT_EQUAL(r[0].m.noii.current_reference_price, 464400);
	CU_ASSERT_EQUAL(r[0].m.noii.cross_type, 'O');
	CU_ASSERT_EQUAL(r[0].m.noii.price_variation_indicator, 'L');

	LOAD(DIR1 "OrderDeleteMessage.pcap", r, 1, 1);
	CU_ASSERT_EQUAL(r[0].seq, 14757722);
	CU_ASSERT_EQUAL(r[0].m.type, 'D');
	CU_ASSERT_EQUAL(r[0].m.stock_locate, 3517);
	CU_ASSERT_EQUAL(r[0].m.del.order_reference_number, 23497686);

	LOAD(DIR1 "OrderExecutedMessage.pcap", r, 1, 1);
	CU_ASSERT_EQUAL(r[0].seq, 14757745);
	CU_ASSERT_EQUAL(r[0].m.type, 'E');
	CU_ASSERT_EQUAL(r[0].m.stock_locate, 2345);
	CU_ASSERT_EQUAL(r[0].m.tracking_number, 2);
	CU_ASSERT_EQUAL(r[0].m.executed.order_reference_number, 23499418);
	CU_ASSERT_EQUAL(r[0].m.executed.executed_shares, 25);
	CU_ASSERT_EQUAL(r[0].m.executed.match_number, 255547);

	LOAD(DIR1 "OrderReplaceMessage.pcap", r, 1, 1);
	CU_ASSERT_EQUAL(r[0].seq, 14757701);
	CU_ASSERT_EQUAL(r[0].m.type, 'U');
	CU_ASSERT_EQUAL(r[0].m.stock_locate, 7603);
	CU_ASSERT_EQUAL(r[0].m.replace.original_order_reference_number, 15108479);
	CU_ASSERT_EQUAL(r[0].m.replace.new_order_reference_number, 21361351);
	CU_ASSERT_EQUAL(r[0].m.replace.shares, 100);
	CU_ASSERT_EQUAL(r[0].m.replace.price, 1062600);

	LOAD(DIR1 "StockTradingActionMessage.pcap", r, 1, 1);
	check_original_framing(&r[0]);
	CU_ASSERT_EQUAL(r[0].seq, 34147961);
	CU_ASSERT_EQUAL(r[0].m.type, 'H');
	CU_ASSERT_EQUAL(r[0].m.stock_locate, 464);
	CU_ASSERT_EQUAL(r[0].m.timestamp, 34763322465824ull);
	CU_ASSERT_EQUAL(memcmp(r[0].m.stock_trading_action.stock, "AMC     ", 8), 0);
	CU_ASSERT_EQUAL(r[0].m.stock_trading_action.trading_state, 'T');
	CU_ASSERT_EQUAL(r[0].m.stock_trading_action.reserved, ' ');
	CU_ASSERT_EQUAL(memcmp(r[0].m.stock_trading_action.reason, "    ", 4), 0);
}

/* The 20230822 files: addresses, ports, session and sequence zeroed; 5 packets of 1 message. */
static void check_zeroed_framing(const struct rec *r, int n)
{
	for (int i = 0; i < n; i++) {
		CU_ASSERT_EQUAL(r[i].flow.nvlan, 1);
		CU_ASSERT_EQUAL(r[i].flow.vlan[0], 141);
		CU_ASSERT_EQUAL(r[i].flow.dport, 0);
		CU_ASSERT_EQUAL(memcmp(r[i].flow.dst, "\0\0\0\0", 4), 0);
		CU_ASSERT_EQUAL(r[i].seq, (uint64_t)0);
		CU_ASSERT_EQUAL(r[i].count, 1);
		CU_ASSERT_EQUAL(memcmp(r[i].session, "\0\0\0\0\0\0\0\0\0\0", 10), 0);
	}
}

static void test_real_20230822_orders(void)
{
	struct rec r[64];
	int n;

	LOAD(DIR2 "AddOrderNoMPID.pcap", r, 5, 5);
	check_zeroed_framing(r, n);
	/* [3] A 34103812 S 4000 XLF @ 33.9500, locate 11112 */
	CU_ASSERT_EQUAL(r[3].m.type, 'A');
	CU_ASSERT_EQUAL(r[3].m.stock_locate, 11112);
	CU_ASSERT_EQUAL(r[3].m.add.order_reference_number, 34103812);
	CU_ASSERT_EQUAL(r[3].m.add.buy_sell, 'S');
	CU_ASSERT_EQUAL(r[3].m.add.shares, 4000);
	CU_ASSERT_EQUAL(memcmp(r[3].m.add.stock, "XLF     ", 8), 0);
	CU_ASSERT_EQUAL(r[3].m.add.price, 339500);

	LOAD(DIR2 "AddOrderWithMPID.pcap", r, 5, 5);
	check_zeroed_framing(r, n);
	/* [4] F 34103964 S 100 VCYT @ 29.6400 FLTU, locate 10536 */
	CU_ASSERT_EQUAL(r[4].m.type, 'F');
	CU_ASSERT_EQUAL(r[4].m.stock_locate, 10536);
	CU_ASSERT_EQUAL(r[4].m.add_mpid.order_reference_number, 34103964);
	CU_ASSERT_EQUAL(r[4].m.add_mpid.buy_sell, 'S');
	CU_ASSERT_EQUAL(r[4].m.add_mpid.shares, 100);
	CU_ASSERT_EQUAL(memcmp(r[4].m.add_mpid.stock, "VCYT    ", 8), 0);
	CU_ASSERT_EQUAL(r[4].m.add_mpid.price, 296400);
	CU_ASSERT_EQUAL(memcmp(r[4].m.add_mpid.attribution, "FLTU", 4), 0);

	LOAD(DIR2 "OrderCancel.pcap", r, 5, 5);
	CU_ASSERT_EQUAL(r[0].m.type, 'X');
	CU_ASSERT_EQUAL(r[0].m.stock_locate, 9413);
	CU_ASSERT_EQUAL(r[0].m.cancel.order_reference_number, 33823232);
	CU_ASSERT_EQUAL(r[0].m.cancel.cancelled_shares, 100);
	CU_ASSERT_EQUAL(r[3].m.cancel.order_reference_number, 21259975);
	CU_ASSERT_EQUAL(r[3].m.cancel.cancelled_shares, 2000);

	LOAD(DIR2 "OrderDelete.pcap", r, 5, 5);
	CU_ASSERT_EQUAL(r[4].m.type, 'D');
	CU_ASSERT_EQUAL(r[4].m.stock_locate, 7499);
	CU_ASSERT_EQUAL(r[4].m.del.order_reference_number, 21358375);

	LOAD(DIR2 "OrderExecuted.pcap", r, 5, 5);
	CU_ASSERT_EQUAL(r[4].m.type, 'E');
	CU_ASSERT_EQUAL(r[4].m.stock_locate, 11214);
	CU_ASSERT_EQUAL(r[4].m.executed.order_reference_number, 26890664);
	CU_ASSERT_EQUAL(r[4].m.executed.executed_shares, 699);
	CU_ASSERT_EQUAL(r[4].m.executed.match_number, 255552);

	LOAD(DIR2 "OrderExecutedWithPrice.pcap", r, 5, 5);
	/* [0] C 19993566 4926 match 255581 non-printable @ 22.4800 */
	CU_ASSERT_EQUAL(r[0].m.type, 'C');
	CU_ASSERT_EQUAL(r[0].m.stock_locate, 5092);
	CU_ASSERT_EQUAL(r[0].m.executed_with_price.order_reference_number, 19993566);
	CU_ASSERT_EQUAL(r[0].m.executed_with_price.executed_shares, 4926);
	CU_ASSERT_EQUAL(r[0].m.executed_with_price.match_number, 255581);
	CU_ASSERT_EQUAL(r[0].m.executed_with_price.printable, 'N');
	CU_ASSERT_EQUAL(r[0].m.executed_with_price.execution_price, 224800);
	CU_ASSERT_EQUAL(r[4].m.executed_with_price.printable, 'Y');
	CU_ASSERT_EQUAL(r[4].m.executed_with_price.execution_price, 48500);
	CU_ASSERT_EQUAL(r[4].m.executed_with_price.executed_shares, 72);

	LOAD(DIR2 "OrderReplace.pcap", r, 5, 5);
	CU_ASSERT_EQUAL(r[3].m.type, 'U');
	CU_ASSERT_EQUAL(r[3].m.stock_locate, 3709);
	CU_ASSERT_EQUAL(r[3].m.replace.original_order_reference_number, 22987054);
	CU_ASSERT_EQUAL(r[3].m.replace.new_order_reference_number, 23508278);
	CU_ASSERT_EQUAL(r[3].m.replace.shares, 100);
	CU_ASSERT_EQUAL(r[3].m.replace.price, 1614000);
}

static void test_real_20230822_trades_and_events(void)
{
	struct rec r[64];
	int n;

	LOAD(DIR2 "CrossTrade.pcap", r, 5, 5);
	check_zeroed_framing(r, n);
	/* [0] Q: 0 shares of "BAC-Q" at 0, match 255550, opening cross */
	CU_ASSERT_EQUAL(r[0].m.type, 'Q');
	CU_ASSERT_EQUAL(r[0].m.stock_locate, 983);
	CU_ASSERT_EQUAL(r[0].m.tracking_number, 1);
	CU_ASSERT_EQUAL(r[0].m.cross_trade.shares, 0);
	CU_ASSERT_EQUAL(memcmp(r[0].m.cross_trade.stock, "BAC-Q   ", 8), 0);
	CU_ASSERT_EQUAL(r[0].m.cross_trade.match_number, 255550);
	CU_ASSERT_EQUAL(r[0].m.cross_trade.cross_type, 'O');
	/* [2] Q: 5577 shares of PTGX at 19.5600 */
	CU_ASSERT_EQUAL(r[2].m.cross_trade.shares, 5577);
	CU_ASSERT_EQUAL(memcmp(r[2].m.cross_trade.stock, "PTGX    ", 8), 0);
	CU_ASSERT_EQUAL(r[2].m.cross_trade.cross_price, 195600);
	CU_ASSERT_EQUAL(r[2].m.cross_trade.match_number, 255561);

	LOAD(DIR2 "NonCrossTrade.pcap", r, 5, 5);
	/* [0] P: order 0, B 100 GOOGL @ 128.4600, match 255554 */
	CU_ASSERT_EQUAL(r[0].m.type, 'P');
	CU_ASSERT_EQUAL(r[0].m.stock_locate, 4499);
	CU_ASSERT_EQUAL(r[0].m.tracking_number, 2);
	CU_ASSERT_EQUAL(r[0].m.trade.order_reference_number, 0);
	CU_ASSERT_EQUAL(r[0].m.trade.buy_sell, 'B');
	CU_ASSERT_EQUAL(r[0].m.trade.shares, 100);
	CU_ASSERT_EQUAL(memcmp(r[0].m.trade.stock, "GOOGL   ", 8), 0);
	CU_ASSERT_EQUAL(r[0].m.trade.price, 1284600);
	CU_ASSERT_EQUAL(r[0].m.trade.match_number, 255554);
	/* [4] P: ASML 4 @ 679.5200, tracking 4, 09:30:00.000997052 */
	CU_ASSERT_EQUAL(r[4].m.tracking_number, 4);
	CU_ASSERT_EQUAL(r[4].m.timestamp, 34200000997052ull);
	CU_ASSERT_EQUAL(memcmp(r[4].m.trade.stock, "ASML    ", 8), 0);
	CU_ASSERT_EQUAL(r[4].m.trade.price, 6795200);
	CU_ASSERT_EQUAL(r[4].m.trade.match_number, 255574);

	LOAD(DIR2 "LULDAuctionCollar.pcap", r, 5, 5);
	CU_ASSERT_EQUAL(r[0].m.type, 'J');
	CU_ASSERT_EQUAL(r[0].m.stock_locate, 11325);
	CU_ASSERT_EQUAL(r[0].m.timestamp, 34215592415125ull);
	CU_ASSERT_EQUAL(memcmp(r[0].m.luld_auction_collar.stock, "ZXZZT   ", 8), 0);
	CU_ASSERT_EQUAL(r[0].m.luld_auction_collar.auction_collar_reference_price, 133400);
	CU_ASSERT_EQUAL(r[0].m.luld_auction_collar.upper_auction_collar_price, 140100);
	CU_ASSERT_EQUAL(r[0].m.luld_auction_collar.lower_auction_collar_price, 109200);
	CU_ASSERT_EQUAL(r[0].m.luld_auction_collar.auction_collar_extension, 0);
	CU_ASSERT_EQUAL(r[4].m.luld_auction_collar.auction_collar_extension, 1);
	CU_ASSERT_EQUAL(memcmp(r[4].m.luld_auction_collar.stock, "ZVZZT   ", 8), 0);

	LOAD(DIR2 "MarketParticipantPosition.pcap", r, 5, 5);
	CU_ASSERT_EQUAL(r[3].m.type, 'L');
	CU_ASSERT_EQUAL(r[3].m.stock_locate, 9768);
	CU_ASSERT_EQUAL(memcmp(r[3].m.market_participant.mpid, "NITE", 4), 0);
	CU_ASSERT_EQUAL(memcmp(r[3].m.market_participant.stock, "TAN     ", 8), 0);
	CU_ASSERT_EQUAL(r[3].m.market_participant.market_participant_state, 'E');

	LOAD(DIR2 "NetOrderImbalanceIndicator.pcap", r, 5, 5);
	CU_ASSERT_EQUAL(r[0].m.type, 'I');
	CU_ASSERT_EQUAL(memcmp(r[0].m.noii.stock, "PFTAW   ", 8), 0);
	CU_ASSERT_EQUAL(r[0].m.noii.imbalance_direction, 'O');
	CU_ASSERT_EQUAL(r[0].m.noii.price_variation_indicator, ' ');
	CU_ASSERT_EQUAL(memcmp(r[4].m.noii.stock, "SKOR    ", 8), 0);
	CU_ASSERT_EQUAL(r[4].m.noii.far_price, 462700);

	LOAD(DIR2 "RegSHORestriction.pcap", r, 5, 5);
	CU_ASSERT_EQUAL(r[4].m.type, 'Y');
	CU_ASSERT_EQUAL(r[4].m.stock_locate, 11203);
	CU_ASSERT_EQUAL(r[4].m.timestamp, 34200161634344ull);
	CU_ASSERT_EQUAL(memcmp(r[4].m.reg_sho_restriction.stock, "YCBD-A  ", 8), 0);
	CU_ASSERT_EQUAL(r[4].m.reg_sho_restriction.reg_sho_action, '1');

	LOAD(DIR2 "StockTradingAction.pcap", r, 5, 5);
	CU_ASSERT_EQUAL(r[0].m.type, 'H');
	CU_ASSERT_EQUAL(memcmp(r[0].m.stock_trading_action.stock, "ZXZZT   ", 8), 0);
	CU_ASSERT_EQUAL(r[0].m.stock_trading_action.trading_state, 'P');
	CU_ASSERT_EQUAL(memcmp(r[0].m.stock_trading_action.reason, "LUDP", 4), 0);
	CU_ASSERT_EQUAL(r[4].m.stock_trading_action.trading_state, 'H');
	CU_ASSERT_EQUAL(memcmp(r[4].m.stock_trading_action.stock, "CSMD    ", 8), 0);

	LOAD(DIR2 "SystemEvent.pcap", r, 1, 1);
	CU_ASSERT_EQUAL(r[0].m.type, 'S');
	CU_ASSERT_EQUAL(r[0].m.stock_locate, 0);
	CU_ASSERT_EQUAL(r[0].m.timestamp, 34200000070384ull); /* 09:30:00.000070384 */
	CU_ASSERT_EQUAL(r[0].m.system_event.event_code, 'Q'); /* start of market hours */
}

/* --- the pipeline over the real captures --------------------------------------------------- */

static const char *const real_files[] = {
	DIR1 "AddOrderNoMpidAttributionMessage.pcap",
	DIR1 "MarketParticipantPositionMessage.pcap",
	DIR1 "Multiple.Packets.pcap",
	DIR1 "NetOrderImbalanceIndicatorMessage.pcap",
	DIR1 "OrderDeleteMessage.pcap",
	DIR1 "OrderExecutedMessage.pcap",
	DIR1 "OrderReplaceMessage.pcap",
	DIR1 "StockTradingActionMessage.pcap",
	DIR2 "AddOrderNoMPID.pcap",
	DIR2 "AddOrderWithMPID.pcap",
	DIR2 "CrossTrade.pcap",
	DIR2 "LULDAuctionCollar.pcap",
	DIR2 "MarketParticipantPosition.pcap",
	DIR2 "NetOrderImbalanceIndicator.pcap",
	DIR2 "NonCrossTrade.pcap",
	DIR2 "OrderCancel.pcap",
	DIR2 "OrderDelete.pcap",
	DIR2 "OrderExecuted.pcap",
	DIR2 "OrderExecutedWithPrice.pcap",
	DIR2 "OrderReplace.pcap",
	DIR2 "RegSHORestriction.pcap",
	DIR2 "StockTradingAction.pcap",
	DIR2 "SystemEvent.pcap",
};

struct seen {
	unsigned int n;
	unsigned int per_type[256];
	uint64_t last_seq;
	unsigned int gaps;
	struct fg_seqr_gap gap[8];
	char gap_feed[8][64];
	uint16_t feed[64];
	uint64_t seqs[64];
	struct sess_seen *sess;
};

static void on_msg(void *ctx, const struct fg_pipeline_msg_info *info, const struct fg_itch_msg *m)
{
	struct seen *s = ctx;

	if (s->n < 64) {
		s->feed[s->n] = info->feed;
		s->seqs[s->n] = info->seq;
	}
	s->n++;
	s->per_type[m->type]++;
	s->last_seq = info->seq;
}

static void on_gap(void *ctx, const char *feed, const struct fg_seqr_gap *g)
{
	struct seen *s = ctx;

	if (s->gaps < 8) {
		s->gap[s->gaps] = *g;
		snprintf(s->gap_feed[s->gaps], sizeof(s->gap_feed[0]), "%s", feed);
	}
	s->gaps++;
}

static int replay_file(struct fg_pipeline *p, const char *path)
{
	struct fg_capfile *c;
	struct fg_cap_record r;
	struct fg_frame f[64];
	unsigned int n = 0;

	if (fg_capfile_open(path, &c))
		return -1;
	while (fg_capfile_next(c, &r) == 1)
		if (!fg_capfile_frame(&r, &f[n]) && ++n == 64) {
			fg_pipeline_frames(p, f, n);
			n = 0;
		}
	fg_pipeline_frames(p, f, n);
	fg_capfile_close(c);
	return 0;
}

/* Each capture replayed on its own (they are slices of different moments, as `replay` sees
 * them): 117 messages of 15 types in all. */
static void test_pipeline_all_real_captures(void)
{
	struct seen *s = calloc(1, sizeof(*s));
	uint64_t frames = 0, messages = 0;
	unsigned int types = 0;

	for (size_t i = 0; i < sizeof(real_files) / sizeof(real_files[0]); i++) {
		struct fg_pipeline_config cfg = { .on_message = on_msg, .on_gap = on_gap };
		const struct fg_pipeline_stats *st;
		struct fg_pipeline_seq_totals t;
		struct fg_pipeline *p;
		int original = i < 8;

		cfg.ctx = s;
		CU_ASSERT_EQUAL_FATAL(fg_pipeline_new(&cfg, &p), 0);
		if (replay_file(p, real_files[i])) {
			fg_pipeline_free(p);
			free(s);
			FG_SKIP("real captures not found");
		}
		fg_pipeline_finish(p);
		st = fg_pipeline_stats(p);
		fg_pipeline_seq_totals(p, &t);
		frames += st->frames;
		messages += st->messages;
		CU_ASSERT_EQUAL(st->decoded, st->messages);
		CU_ASSERT_EQUAL(st->packets, st->frames);
		CU_ASSERT_EQUAL(t.duplicate_messages, 0);
		CU_ASSERT_EQUAL_FATAL(fg_pipeline_nfeeds(p), 1);
		if (original) {
			CU_ASSERT_STRING_EQUAL(fg_pipeline_feed_name(p, 0), "233.54.12.111:26477");
			CU_ASSERT_EQUAL(memcmp(fg_seqr_session(fg_pipeline_feed_seq(p, 0)),
					       "000010059B", 10),
					0);
			CU_ASSERT_EQUAL(t.unsequenced_packets, 0);
		} else {
			/* zeroed addresses, port, session, sequence: passed unsequenced */
			CU_ASSERT_STRING_EQUAL(fg_pipeline_feed_name(p, 0), "0.0.0.0:0");
			CU_ASSERT_EQUAL(t.unsequenced_packets, st->packets);
			CU_ASSERT_EQUAL(t.gaps, 0);
		}
		fg_pipeline_free(p);
	}
	CU_ASSERT_EQUAL(frames, 9 + 71);
	CU_ASSERT_EQUAL(messages, 117);
	CU_ASSERT_EQUAL(s->n, 117);
	for (int c = 0; c < 256; c++)
		types += s->per_type[c] != 0;
	CU_ASSERT_EQUAL(types, 15);
	CU_ASSERT_EQUAL(s->per_type['A'], 42);
	CU_ASSERT_EQUAL(s->per_type['F'], 7);
	CU_ASSERT_EQUAL(s->per_type['D'], 7);
	CU_ASSERT_EQUAL(s->per_type['L'], 6);
	CU_ASSERT_EQUAL(s->per_type['I'], 6);
	CU_ASSERT_EQUAL(s->per_type['E'], 6);
	CU_ASSERT_EQUAL(s->per_type['U'], 6);
	CU_ASSERT_EQUAL(s->per_type['H'], 6);
	CU_ASSERT_EQUAL(s->per_type['Q'], 5);
	CU_ASSERT_EQUAL(s->per_type['J'], 5);
	CU_ASSERT_EQUAL(s->per_type['P'], 5);
	CU_ASSERT_EQUAL(s->per_type['X'], 5);
	CU_ASSERT_EQUAL(s->per_type['C'], 5);
	CU_ASSERT_EQUAL(s->per_type['Y'], 5);
	CU_ASSERT_EQUAL(s->per_type['S'], 1);
	/* The one gap: Multiple.Packets.pcap holds sequence 14764496, then 19009117. */
	CU_ASSERT_EQUAL_FATAL(s->gaps, 1);
	CU_ASSERT_EQUAL(s->gap[0].first, 14764497);
	CU_ASSERT_EQUAL(s->gap[0].last, 19009116);
	CU_ASSERT_STRING_EQUAL(s->gap_feed[0], "233.54.12.111:26477");
	free(s);
}

/* --- the pipeline over built frames -------------------------------------------------------- */

struct pb {
	uint8_t b[9000];
	size_t len;
	size_t ip, udp, mold;
	int nmsg;
};

/* Ethernet + IPv4 + UDP to dst:port + MoldUDP64 header; messages are appended after. */
static void pb_start(struct pb *p, const char *dst4, uint16_t port, const char *session,
		     uint64_t seq)
{
	memset(p, 0, sizeof(*p));
	memcpy(p->b, "\x01\x00\x5e\x01\x01\x01\x02\x00\x00\x00\x00\x01\x08\x00", 14);
	p->ip = 14;
	p->b[14] = 0x45;
	p->b[22] = 64;
	p->b[23] = 17;
	memcpy(p->b + 26, "\x0a\x00\x00\x01", 4);
	memcpy(p->b + 30, dst4, 4);
	p->udp = 34;
	p->b[34] = 0x13;
	p->b[35] = 0x88;
	p->b[36] = (uint8_t)(port >> 8);
	p->b[37] = (uint8_t)port;
	p->mold = 42;
	p->len = 42 + fg_mold_write_header(p->b + 42, session, seq, 0);
}

static void pb_msg(struct pb *p, const uint8_t *m, uint16_t len)
{
	p->b[p->len] = (uint8_t)(len >> 8);
	p->b[p->len + 1] = (uint8_t)len;
	memcpy(p->b + p->len + 2, m, len);
	p->len += 2 + (size_t)len;
	p->nmsg++;
}

/* Fix up count and the IP/UDP lengths. */
static void pb_end(struct pb *p, int count_override)
{
	uint16_t ulen = (uint16_t)(p->len - p->udp), tot = (uint16_t)(p->len - p->ip);
	int count = count_override >= 0 ? count_override : p->nmsg;

	p->b[p->mold + 18] = (uint8_t)(count >> 8);
	p->b[p->mold + 19] = (uint8_t)count;
	p->b[p->ip + 2] = (uint8_t)(tot >> 8);
	p->b[p->ip + 3] = (uint8_t)tot;
	p->b[p->udp + 4] = (uint8_t)(ulen >> 8);
	p->b[p->udp + 5] = (uint8_t)ulen;
}

static void frame_of(struct fg_frame *f, const struct pb *p, uint64_t t)
{
	memset(f, 0, sizeof(*f));
	f->data = p->b;
	f->len = (uint32_t)p->len;
	f->take_ns = t;
	f->rule_id = FG_RULE_NONE;
}

/* Message builders (big-endian fields at the spec offsets). */
static void put(uint8_t *b, int off, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		b[off + i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static uint16_t msg_add(uint8_t *b, uint16_t locate, uint64_t ref, char side, uint32_t shares,
			const char *stock, uint32_t price)
{
	memset(b, 0, 36);
	b[0] = 'A';
	put(b, 1, locate, 2);
	put(b, 5, 1000 + ref, 6);
	put(b, 11, ref, 8);
	b[19] = (uint8_t)side;
	put(b, 20, shares, 4);
	memset(b + 24, ' ', 8);
	memcpy(b + 24, stock, strlen(stock));
	put(b, 32, price, 4);
	return 36;
}

static uint16_t msg_exec(uint8_t *b, uint16_t locate, uint64_t ref, uint32_t shares)
{
	memset(b, 0, 31);
	b[0] = 'E';
	put(b, 1, locate, 2);
	put(b, 11, ref, 8);
	put(b, 19, shares, 4);
	put(b, 23, 777, 8);
	return 31;
}

static uint16_t msg_dir(uint8_t *b, uint16_t locate, const char *stock)
{
	memset(b, ' ', 39);
	b[0] = 'R';
	put(b, 1, locate, 2);
	put(b, 3, 0, 2);
	put(b, 5, 1, 6);
	memcpy(b + 11, stock, strlen(stock));
	put(b, 21, 100, 4);
	put(b, 34, 0, 4);
	return 39;
}

static void test_pipeline_arbitration_pair(void)
{
	static const char *const pairs[] = { "239.1.1.1:5000=239.2.1.1:5000" };
	struct fg_pipeline_config cfg = { .on_message = on_msg, .on_gap = on_gap };
	struct fg_pipeline *p;
	struct seen *s = calloc(1, sizeof(*s));
	struct pb *a = malloc(sizeof(*a) * 4);
	struct fg_frame f[4];
	uint8_t m[64] = { 0 };
	struct fg_pipeline_seq_totals t;
	char *out = NULL;
	size_t outlen = 0;

	cfg.ctx = s;
	cfg.arbitrate = pairs;
	cfg.narbitrate = 1;
	cfg.gap_window_ns = 1000;
	cfg.decode = open_memstream(&out, &outlen);
	CU_ASSERT_EQUAL_FATAL(fg_pipeline_new(&cfg, &p), 0);

	/* Line A: 1..2 then 5..6 (3..4 lost); line B: 1..2, 3..4, 5..6. */
	pb_start(&a[0], "\xef\x01\x01\x01", 5000, "SESSION001", 1);
	pb_msg(&a[0], m, msg_add(m, 1, 1, 'B', 100, "AAPL", 1000000));
	pb_msg(&a[0], m, msg_add(m, 1, 2, 'S', 100, "AAPL", 1010000));
	pb_end(&a[0], -1);
	pb_start(&a[1], "\xef\x01\x01\x01", 5000, "SESSION001", 5);
	pb_msg(&a[1], m, msg_exec(m, 1, 1, 10));
	pb_msg(&a[1], m, msg_exec(m, 1, 2, 10));
	pb_end(&a[1], -1);
	pb_start(&a[2], "\xef\x02\x01\x01", 5000, "SESSION001", 1);
	pb_msg(&a[2], m, msg_add(m, 1, 1, 'B', 100, "AAPL", 1000000));
	pb_msg(&a[2], m, msg_add(m, 1, 2, 'S', 100, "AAPL", 1010000));
	pb_end(&a[2], -1);
	pb_start(&a[3], "\xef\x02\x01\x01", 5000, "SESSION001", 3);
	pb_msg(&a[3], m, msg_add(m, 1, 3, 'B', 50, "AAPL", 990000));
	pb_msg(&a[3], m, msg_add(m, 1, 4, 'S', 50, "AAPL", 1020000));
	pb_end(&a[3], -1);
	frame_of(&f[0], &a[0], 100);
	frame_of(&f[1], &a[1], 110);
	frame_of(&f[2], &a[2], 120);
	frame_of(&f[3], &a[3], 130); /* fills 3..4 within the window */
	fg_pipeline_frames(p, f, 4);
	fg_pipeline_finish(p);
	fg_pipeline_seq_totals(p, &t);
	CU_ASSERT_EQUAL(s->n, 6);
	CU_ASSERT_EQUAL(s->gaps, 0);
	CU_ASSERT_EQUAL(t.duplicate_messages, 2);
	CU_ASSERT_EQUAL(t.held_messages, 4); /* 5..6 waited for 3..4, which joined them */
	CU_ASSERT_EQUAL(fg_pipeline_nfeeds(p), 2);
	CU_ASSERT_EQUAL(fg_pipeline_feed_seq(p, 0), fg_pipeline_feed_seq(p, 1));
	/* in sequence order, each once: 1 2 3 4 5 6 */
	for (unsigned int i = 0; i < 6; i++)
		CU_ASSERT_EQUAL(s->seqs[i], i + 1);

	/* Now 7..8 lost on both: one gap after the window, with its range, in the decode
	 * output before the message that follows it. */
	pb_start(&a[0], "\xef\x01\x01\x01", 5000, "SESSION001", 9);
	pb_msg(&a[0], m, msg_exec(m, 1, 3, 1));
	pb_end(&a[0], -1);
	pb_start(&a[1], "\xef\x02\x01\x01", 5000, "SESSION001", 9);
	pb_msg(&a[1], m, msg_exec(m, 1, 3, 1));
	pb_end(&a[1], -1);
	frame_of(&f[0], &a[0], 200);
	frame_of(&f[1], &a[1], 210);
	fg_pipeline_frames(p, f, 2);
	CU_ASSERT_EQUAL(s->gaps, 0);
	fg_pipeline_idle(p, 1199);
	CU_ASSERT_EQUAL(s->gaps, 0);
	fg_pipeline_idle(p, 1200);
	CU_ASSERT_EQUAL_FATAL(s->gaps, 1);
	CU_ASSERT_EQUAL(s->gap[0].first, 7);
	CU_ASSERT_EQUAL(s->gap[0].last, 8);
	CU_ASSERT_STRING_EQUAL(s->gap_feed[0], "239.1.1.1:5000=239.2.1.1:5000");
	fclose(cfg.decode);
	CU_ASSERT_PTR_NOT_NULL(
		strstr(out, "{\"event\":\"gap\",\"feed\":\"239.1.1.1:5000=239.2.1.1:5000\","
			    "\"session\":\"SESSION001\",\"first\":7,\"last\":8,\"count\":2,"
			    "\"state\":\"unrecovered\",\"reason\":\"no server\"}\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, ",\"seq\":9,\"type\":\"E\""));
	fg_pipeline_free(p);
	free(out);
	free(a);
	free(s);
}

/* A feed's rule deleted and added again under a new id while frames flow: the feed
 * goes on in its stream (the messages it missed are a gap, nothing is counted twice),
 * a frame whose new rule id the pipeline has not been told yet still finds its
 * stream by destination, a new rule makes a new stream, and a bad set keeps the
 * mapping in force. */
static void test_pipeline_set_lines_follows_rule_changes(void)
{
	const struct fg_pipeline_line first[] = {
		{ .rule_id = 0, .feed_id = 1, .feed = "F1", .group = "239.1.1.1:5000" },
	};
	const struct fg_pipeline_line again[] = {
		{ .rule_id = 7, .feed_id = 2, .feed = "F1", .group = "239.1.1.1:5000" },
		{ .rule_id = 8, .feed_id = 3, .feed = "F2", .group = "239.1.1.2:5000" },
	};
	const struct fg_pipeline_line twice[] = {
		{ .rule_id = 9, .feed_id = 4, .feed = "F3", .group = "239.1.1.3:5000" },
		{ .rule_id = 9, .feed_id = 4, .feed = "F3", .group = "239.1.1.3:5000" },
	};
	struct fg_pipeline_config cfg = { .on_message = on_msg, .on_gap = on_gap };
	struct fg_pipeline *p, *plain;
	struct seen *s = calloc(1, sizeof(*s));
	struct pb *a = malloc(sizeof(*a) * 5);
	struct fg_frame f[5];
	uint8_t m[64] = { 0 };

	cfg.ctx = s;
	cfg.lines = first;
	cfg.nlines = 1;
	cfg.gap_window_ns = 1000;
	CU_ASSERT_EQUAL_FATAL(fg_pipeline_new(&cfg, &p), 0);
	CU_ASSERT_EQUAL(fg_pipeline_nstreams(p), 1);

	pb_start(&a[0], "\xef\x01\x01\x01", 5000, "SESSION001", 1);
	pb_msg(&a[0], m, msg_add(m, 1, 1, 'B', 100, "AAPL", 1000000));
	pb_msg(&a[0], m, msg_add(m, 1, 2, 'S', 100, "AAPL", 1010000));
	pb_end(&a[0], -1);
	frame_of(&f[0], &a[0], 100);
	f[0].rule_id = 0;
	fg_pipeline_frames(p, f, 1);
	CU_ASSERT_EQUAL(s->n, 2);

	/* deleted (3..4 filtered out meanwhile), added again as rule 7; F2 new as rule 8 */
	CU_ASSERT_EQUAL(fg_pipeline_set_lines(p, again, 2), 0);
	CU_ASSERT_EQUAL(fg_pipeline_nstreams(p), 2);
	pb_start(&a[1], "\xef\x01\x01\x01", 5000, "SESSION001", 5);
	pb_msg(&a[1], m, msg_exec(m, 1, 1, 10));
	pb_end(&a[1], -1);
	/* rule 11: added again once more, not told yet: found by destination */
	pb_start(&a[2], "\xef\x01\x01\x01", 5000, "SESSION001", 6);
	pb_msg(&a[2], m, msg_exec(m, 1, 2, 10));
	pb_end(&a[2], -1);
	pb_start(&a[3], "\xef\x01\x01\x02", 5000, "SESSION002", 1);
	pb_msg(&a[3], m, msg_add(m, 1, 3, 'B', 100, "AAPL", 1000000));
	pb_end(&a[3], -1);
	/* rule 12 to a destination no line has: unmatched */
	pb_start(&a[4], "\xef\x09\x09\x09", 5000, "SESSION009", 1);
	pb_msg(&a[4], m, msg_add(m, 1, 4, 'B', 100, "AAPL", 1000000));
	pb_end(&a[4], -1);
	frame_of(&f[0], &a[1], 200);
	f[0].rule_id = 7;
	frame_of(&f[1], &a[2], 210);
	f[1].rule_id = 11;
	frame_of(&f[2], &a[3], 220);
	f[2].rule_id = 8;
	frame_of(&f[3], &a[4], 230);
	f[3].rule_id = 12;
	fg_pipeline_frames(p, f, 2);
	fg_pipeline_idle(p, 5000);
	CU_ASSERT_EQUAL_FATAL(s->gaps, 1);
	CU_ASSERT_STRING_EQUAL(s->gap_feed[0], "F1");
	CU_ASSERT_EQUAL(s->gap[0].first, 3);
	CU_ASSERT_EQUAL(s->gap[0].last, 4);
	CU_ASSERT_EQUAL_FATAL(s->n, 4);
	CU_ASSERT_EQUAL(s->seqs[2], 5);
	CU_ASSERT_EQUAL(s->seqs[3], 6);
	CU_ASSERT_EQUAL(s->feed[2], s->feed[0]);
	CU_ASSERT_EQUAL(s->feed[3], s->feed[0]);
	fg_pipeline_frames(p, f + 2, 2);
	CU_ASSERT_EQUAL(fg_pipeline_stats(p)->unmatched, 1);
	CU_ASSERT_EQUAL_FATAL(s->n, 5);
	CU_ASSERT_NOT_EQUAL(s->feed[4], s->feed[0]);

	/* a rule id twice: refused, rule 7 still leads to F1 */
	CU_ASSERT_EQUAL(fg_pipeline_set_lines(p, twice, 2), -EINVAL);
	pb_start(&a[0], "\xef\x01\x01\x01", 5000, "SESSION001", 7);
	pb_msg(&a[0], m, msg_exec(m, 1, 1, 1));
	pb_end(&a[0], -1);
	frame_of(&f[0], &a[0], 6000);
	f[0].rule_id = 7;
	fg_pipeline_frames(p, f, 1);
	CU_ASSERT_EQUAL_FATAL(s->n, 6);
	CU_ASSERT_EQUAL(s->seqs[5], 7);
	CU_ASSERT_EQUAL(fg_pipeline_stats(p)->unmatched, 1);
	CU_ASSERT_EQUAL(s->feed[5], s->feed[0]);
	CU_ASSERT_EQUAL(s->gaps, 1);

	/* a pipeline by destination has no lines to change */
	cfg.lines = NULL;
	cfg.nlines = 0;
	CU_ASSERT_EQUAL_FATAL(fg_pipeline_new(&cfg, &plain), 0);
	CU_ASSERT_EQUAL(fg_pipeline_set_lines(plain, again, 2), -EINVAL);
	fg_pipeline_free(plain);
	fg_pipeline_free(p);
	free(a);
	free(s);
}

/* A gap is reported at its place in the stream: after what came before it, before
 * what follows (held until the gap is given up: here, at the end of input). */
static void test_pipeline_gap_order_in_decode_output(void)
{
	struct fg_pipeline_config cfg = { 0 };
	struct fg_pipeline *p;
	struct pb *a = malloc(sizeof(*a) * 2);
	struct fg_frame f[2];
	uint8_t m[64] = { 0 };
	char *out = NULL, *g, *e1, *e2;
	size_t outlen = 0;

	cfg.decode = open_memstream(&out, &outlen);
	CU_ASSERT_EQUAL_FATAL(fg_pipeline_new(&cfg, &p), 0);
	pb_start(&a[0], "\xef\x01\x01\x01", 5000, "SESSION001", 1);
	pb_msg(&a[0], m, msg_exec(m, 1, 11, 1));
	pb_end(&a[0], -1);
	pb_start(&a[1], "\xef\x01\x01\x01", 5000, "SESSION001", 4);
	pb_msg(&a[1], m, msg_exec(m, 1, 44, 1));
	pb_end(&a[1], -1);
	frame_of(&f[0], &a[0], 1);
	frame_of(&f[1], &a[1], 2);
	fg_pipeline_frames(p, f, 2); /* one batch: the gap must land between the two */
	fg_pipeline_finish(p);
	fclose(cfg.decode);
	e1 = strstr(out, "\"order_reference_number\":11");
	g = strstr(out, "\"event\":\"gap\"");
	e2 = strstr(out, "\"order_reference_number\":44");
	CU_ASSERT_PTR_NOT_NULL_FATAL(e1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e2);
	CU_ASSERT(e1 < g && g < e2);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"first\":2,\"last\":3,\"count\":2"));
	fg_pipeline_free(p);
	free(out);
	free(a);
}

/* A subscription filters by locate, learning R messages inside the same batch. */
static void test_pipeline_symbol_filter_learns_within_batch(void)
{
	struct fg_pipeline_config cfg = { .on_message = on_msg, .symbols = "MSFT" };
	struct fg_pipeline *p;
	struct seen *s = calloc(1, sizeof(*s));
	struct pb *a = malloc(sizeof(*a));
	struct fg_frame f;
	uint8_t m[64] = { 0 };

	cfg.ctx = s;
	CU_ASSERT_EQUAL_FATAL(fg_pipeline_new(&cfg, &p), 0);
	pb_start(a, "\xef\x01\x01\x01", 5000, "SESSION001", 1);
	pb_msg(a, m, msg_dir(m, 7, "AAPL"));
	pb_msg(a, m, msg_dir(m, 9, "MSFT"));
	pb_msg(a, m, msg_add(m, 7, 1, 'B', 100, "AAPL", 100));
	pb_msg(a, m, msg_add(m, 9, 2, 'B', 100, "MSFT", 100));
	pb_msg(a, m, msg_exec(m, 7, 1, 5)); /* AAPL by locate only: dropped */
	pb_msg(a, m, msg_exec(m, 9, 2, 5)); /* MSFT by locate only: kept */
	pb_end(a, -1);
	frame_of(&f, a, 1);
	fg_pipeline_frames(p, &f, 1);
	CU_ASSERT_EQUAL(fg_pipeline_stats(p)->messages, 6);
	CU_ASSERT_EQUAL(fg_pipeline_stats(p)->selected, 4); /* R, R, A MSFT, E MSFT */
	CU_ASSERT_EQUAL(fg_pipeline_stats(p)->decoded, 4);
	CU_ASSERT_EQUAL(s->per_type['R'], 1); /* the AAPL directory entry is not delivered */
	CU_ASSERT_EQUAL(s->per_type['A'], 1);
	CU_ASSERT_EQUAL(s->per_type['E'], 1);
	CU_ASSERT_EQUAL(s->last_seq, 6);
	fg_pipeline_free(p);
	free(a);
	free(s);
}

static void test_pipeline_counts_malformed_and_other_traffic(void)
{
	static const char *const feeds[] = { "239.1.1.1:5000" };
	struct fg_pipeline_config cfg = { .feeds = feeds, .nfeeds = 1 };
	struct fg_pipeline *p;
	struct pb *a = malloc(sizeof(*a) * 6);
	struct fg_frame f[7];
	uint8_t m[64] = { 0 }, arp[60] = { 0 };
	const struct fg_pipeline_stats *st;

	CU_ASSERT_EQUAL_FATAL(fg_pipeline_new(&cfg, &p), 0);
	/* 0: good; 1: count says 3, two blocks; 2: block overrun; 3: short header;
	 * 4: another group (unmatched); 5: unknown type + wrong length inside a good packet */
	pb_start(&a[0], "\xef\x01\x01\x01", 5000, "SESSION001", 1);
	pb_msg(&a[0], m, msg_exec(m, 1, 1, 1));
	pb_end(&a[0], -1);
	pb_start(&a[1], "\xef\x01\x01\x01", 5000, "SESSION001", 2);
	pb_msg(&a[1], m, msg_exec(m, 1, 1, 1));
	pb_msg(&a[1], m, msg_exec(m, 1, 1, 1));
	pb_end(&a[1], 3);
	pb_start(&a[2], "\xef\x01\x01\x01", 5000, "SESSION001", 2);
	pb_msg(&a[2], m, msg_exec(m, 1, 1, 1));
	a[2].len -= 3;
	pb_end(&a[2], -1);
	pb_start(&a[3], "\xef\x01\x01\x01", 5000, "SESSION001", 2);
	a[3].len -= 5;
	pb_end(&a[3], 0);
	pb_start(&a[4], "\xef\x09\x09\x09", 5000, "SESSION001", 2);
	pb_msg(&a[4], m, msg_exec(m, 1, 1, 1));
	pb_end(&a[4], -1);
	pb_start(&a[5], "\xef\x01\x01\x01", 5000, "SESSION001", 2);
	m[0] = 'z';
	pb_msg(&a[5], m, 5);
	m[0] = 'E';
	pb_msg(&a[5], m, 30);
	pb_msg(&a[5], m, msg_exec(m, 1, 1, 1));
	pb_end(&a[5], -1);
	for (int i = 0; i < 6; i++)
		frame_of(&f[i], &a[i], (uint64_t)i);
	memcpy(arp + 12, "\x08\x06", 2);
	f[6] = f[0];
	f[6].data = arp;
	f[6].len = sizeof(arp);
	fg_pipeline_frames(p, f, 7);
	fg_pipeline_finish(p);
	st = fg_pipeline_stats(p);
	CU_ASSERT_EQUAL(st->frames, 7);
	CU_ASSERT_EQUAL(st->net[FG_NET_NOT_IP], 1);
	CU_ASSERT_EQUAL(st->net[FG_NET_UDP], 6);
	CU_ASSERT_EQUAL(st->unmatched, 1);
	CU_ASSERT_EQUAL(st->mold_bad[FG_MOLD_BAD_COUNT_MISMATCH], 1);
	CU_ASSERT_EQUAL(st->mold_bad[FG_MOLD_BAD_BLOCK_OVERRUN], 1);
	CU_ASSERT_EQUAL(st->mold_bad[FG_MOLD_BAD_SHORT_HEADER], 1);
	CU_ASSERT_EQUAL(st->packets, 2);
	CU_ASSERT_EQUAL(st->messages, 4);
	CU_ASSERT_EQUAL(st->unknown_type, 1);
	CU_ASSERT_EQUAL(st->length_mismatch, 1);
	CU_ASSERT_EQUAL(st->decoded, 2);
	CU_ASSERT_EQUAL(st->itch.unknown['z'], 1);
	CU_ASSERT_EQUAL(st->itch.length_mismatch['E'], 1);
	fg_pipeline_free(p);
	free(a);
}

/* Bare messages (BinaryFILE) numbered across calls; batches larger than the arrays split. */
static void test_pipeline_raw_entry_and_large_batches(void)
{
	struct fg_pipeline_config cfg = { .on_message = on_msg };
	struct fg_pipeline *p;
	struct seen *s = calloc(1, sizeof(*s));
	unsigned int n = FG_PIPELINE_BATCH_MSGS * 2 + 100;
	uint8_t *buf = malloc((size_t)n * 19);
	const uint8_t **msgs = malloc(n * sizeof(*msgs));
	uint16_t *lens = malloc(n * sizeof(*lens));

	cfg.ctx = s;
	CU_ASSERT_EQUAL_FATAL(fg_pipeline_new(&cfg, &p), 0);
	for (unsigned int i = 0; i < n; i++) {
		uint8_t *b = buf + (size_t)i * 19;

		memset(b, 0, 19);
		b[0] = 'D';
		put(b, 11, i + 1, 8);
		msgs[i] = b;
		lens[i] = 19;
	}
	lens[5] = 0; /* an empty record: counted, skipped, still numbered */
	fg_pipeline_raw(p, msgs, lens, 10);
	fg_pipeline_raw(p, msgs + 10, lens + 10, n - 10);
	fg_pipeline_finish(p);
	CU_ASSERT_EQUAL(fg_pipeline_stats(p)->empty_messages, 1);
	CU_ASSERT_EQUAL(fg_pipeline_stats(p)->decoded, n - 1);
	CU_ASSERT_EQUAL(s->n, n - 1);
	CU_ASSERT_EQUAL(s->seqs[4], 5);
	CU_ASSERT_EQUAL(s->seqs[5], 7);
	CU_ASSERT_EQUAL(s->last_seq, n);
	CU_ASSERT(fg_pipeline_stats(p)->batches >= 3);
	fg_pipeline_free(p);
	free(lens);
	free(msgs);
	free(buf);
	free(s);
}

/* One jumbo packet with more blocks than the gather arrays hold. */
static void test_pipeline_packet_larger_than_batch(void)
{
	struct fg_pipeline_config cfg = { .on_message = on_msg };
	struct fg_pipeline *p;
	struct seen *s = calloc(1, sizeof(*s));
	size_t nblk = FG_PIPELINE_BATCH_MSGS + 50, len = 42 + 20 + nblk * 3;
	uint8_t *b = calloc(1, len);
	struct fg_frame f = { 0 };
	struct pb *hdr = malloc(sizeof(*hdr));

	cfg.ctx = s;
	CU_ASSERT_EQUAL_FATAL(fg_pipeline_new(&cfg, &p), 0);
	pb_start(hdr, "\xef\x01\x01\x01", 5000, "SESSION001", 1);
	memcpy(b, hdr->b, 62);
	for (size_t i = 0; i < nblk; i++) {
		b[62 + i * 3 + 1] = 1; /* length 1 */
		b[62 + i * 3 + 2] = 'z'; /* an unknown type */
	}
	put(b, 42 + 18, nblk, 2);
	put(b, 14 + 2, len - 14, 2);
	put(b, 34 + 4, len - 34, 2);
	f.data = b;
	f.len = (uint32_t)len;
	fg_pipeline_frames(p, &f, 1);
	CU_ASSERT_EQUAL(fg_pipeline_stats(p)->messages, nblk);
	CU_ASSERT_EQUAL(fg_pipeline_stats(p)->unknown_type, nblk);
	CU_ASSERT_EQUAL(fg_pipeline_stats(p)->batches, 2);
	CU_ASSERT_EQUAL(fg_seqr_next(fg_pipeline_feed_seq(p, 0)), 1 + nblk);
	fg_pipeline_free(p);
	free(hdr);
	free(b);
	free(s);
}

static void test_pipeline_rejects_bad_config(void)
{
	static const char *const bad_feed[] = { "239.1.1.1:99999" };
	static const char *const bad_pair[] = { "239.1.1.1:5000" };
	static const char *const same_pair[] = { "239.1.1.1:5000=239.1.1.1:5000" };
	static const char *const shared_line[] = { "239.1.1.1:5000=239.2.1.1:5000",
						   "239.3.1.1:5000=239.2.1.1:5000" };
	static const char *const ok_feeds[] = { "239.2.1.1:5000", "[ff15::1]:5000" };
	struct fg_pipeline_config cfg = { 0 };
	struct fg_pipeline *p = NULL;

	cfg.symbols = "TOOLONGSYMBOL";
	CU_ASSERT_EQUAL(fg_pipeline_new(&cfg, &p), -EINVAL);
	cfg.symbols = NULL;
	cfg.feeds = bad_feed;
	cfg.nfeeds = 1;
	CU_ASSERT_EQUAL(fg_pipeline_new(&cfg, &p), -EINVAL);
	cfg.nfeeds = 0;
	cfg.arbitrate = bad_pair;
	cfg.narbitrate = 1;
	CU_ASSERT_EQUAL(fg_pipeline_new(&cfg, &p), -EINVAL);
	cfg.arbitrate = same_pair;
	CU_ASSERT_EQUAL(fg_pipeline_new(&cfg, &p), -EINVAL);
	cfg.arbitrate = shared_line;
	cfg.narbitrate = 2;
	CU_ASSERT_EQUAL(fg_pipeline_new(&cfg, &p), -EINVAL);
	cfg.narbitrate = 1; /* one pair, plus one of its lines listed again as a feed: fine */
	cfg.feeds = ok_feeds;
	cfg.nfeeds = 2;
	CU_ASSERT_EQUAL_FATAL(fg_pipeline_new(&cfg, &p), 0);
	CU_ASSERT_EQUAL(fg_pipeline_nfeeds(p), 3);
	CU_ASSERT_EQUAL(fg_pipeline_feed_seq(p, 0), fg_pipeline_feed_seq(p, 1));
	CU_ASSERT_NOT_EQUAL(fg_pipeline_feed_seq(p, 2), fg_pipeline_feed_seq(p, 0));
	CU_ASSERT_STRING_EQUAL(fg_pipeline_feed_name(p, 2), "[ff15::1]:5000");
	fg_pipeline_free(p);
}

/* Summaries: the JSON one holds the counters by name. */
static void test_pipeline_summary_json(void)
{
	struct fg_pipeline_config cfg = { 0 };
	struct fg_pipeline *p;
	struct pb *a = malloc(sizeof(*a));
	struct fg_frame f[2];
	uint8_t m[64] = { 0 };
	char *out = NULL;
	size_t outlen = 0;
	FILE *mf;

	CU_ASSERT_EQUAL_FATAL(fg_pipeline_new(&cfg, &p), 0);
	pb_start(a, "\xef\x01\x01\x01", 5000, "SESSION001", 1);
	pb_msg(a, m, msg_exec(m, 1, 1, 1));
	pb_end(a, -1);
	frame_of(&f[0], a, 1);
	frame_of(&f[1], a, 2); /* the same packet twice: one duplicate */
	fg_pipeline_frames(p, f, 2);
	mf = open_memstream(&out, &outlen);
	fg_pipeline_summary_json(p, mf);
	fclose(mf);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"frames\":2,"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"messages\":1,\"messages_per_type\":{\"E\":1}"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"duplicates\":1,"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"name\":\"239.1.1.1:5000\",\"session\":\"SESSION001\","
					   "\"next_seq\":2"));
	CU_ASSERT_EQUAL(out[outlen - 1], '\n');
	free(out);
	out = NULL;
	mf = open_memstream(&out, &outlen);
	fg_pipeline_summary_print(p, mf);
	fclose(mf);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "duplicates 1"));
	free(out);
	fg_pipeline_free(p);
	free(a);
}

/* Books fed by the pipeline: the real META packet builds a two-sided book. */
static void test_pipeline_feeds_the_books(void)
{
	struct fg_pipeline_config cfg = { .books = 1 };
	struct fg_pipeline *p;
	struct fg_level bids[10], asks[10];
	unsigned int nb, na;
	uint64_t orders = 0;

	CU_ASSERT_EQUAL_FATAL(fg_pipeline_new(&cfg, &p), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fg_pipeline_books(p));
	if (replay_file(p, DIR1 "Multiple.Packets.pcap")) {
		fg_pipeline_free(p);
		FG_SKIP("real captures not found");
	}
	fg_pipeline_finish(p);
	nb = fg_books_top(fg_pipeline_books(p), 6514, 'B', bids, 10);
	na = fg_books_top(fg_pipeline_books(p), 6514, 'S', asks, 10);
	CU_ASSERT(nb > 0 && na > 0);
	/* The highest buy price in the packet is 80.5200 (block 0, 0x000c4950, 1 share); the
	 * lowest sell 357.3300 (block 1, 0x00368634, 100 shares). 19 buys, 19 sells. */
	CU_ASSERT_EQUAL(bids[0].price, 805200);
	CU_ASSERT_EQUAL(bids[0].shares, 1);
	CU_ASSERT_EQUAL(asks[0].price, 3573300);
	CU_ASSERT_EQUAL(asks[0].shares, 100);
	CU_ASSERT_EQUAL(asks[0].orders, 1);
	for (unsigned int i = 0; i < na; i++)
		orders += asks[i].orders;
	CU_ASSERT(orders <= 19);
	fg_pipeline_free(p);
}

/* --- session changes ---------------------------------------------------------------------- */

static uint16_t msg_del(uint8_t *b, uint16_t locate, uint64_t ref)
{
	memset(b, 0, 19);
	b[0] = 'D';
	put(b, 1, locate, 2);
	put(b, 11, ref, 8);
	return 19;
}

struct sess_seen {
	unsigned int n;
	enum fg_pipeline_session_state state[4];
	char feed[4][64];
	char prev[4][FG_MOLD_SESSION_LEN + 1];
	char cur[4][FG_MOLD_SESSION_LEN + 1];
};

static void on_sess(void *ctx, const char *feed, const char *previous, const char *session,
		    enum fg_pipeline_session_state state)
{
	struct sess_seen *s = ((struct seen *)ctx)->sess;

	if (s->n < 4) {
		s->state[s->n] = state;
		snprintf(s->feed[s->n], sizeof(s->feed[0]), "%s", feed);
		memcpy(s->prev[s->n], previous, FG_MOLD_SESSION_LEN);
		memcpy(s->cur[s->n], session, FG_MOLD_SESSION_LEN);
	}
	s->n++;
}

/*
 * One stream, session A: locate 1 is AAPL, 2 is MSFT. Session B: locate 1 is
 * MSFT, 2 not announced (yet). The subscription is MSFT. The new session's
 * messages must be judged by the new directory only, and its Delete of an
 * old-session reference must not find the old day's order.
 */
static void test_pipeline_session_change_resets_state(void)
{
	struct fg_pipeline_config cfg = { .on_message = on_msg,
					  .on_session_change = on_sess,
					  .symbols = "MSFT",
					  .books = 1,
					  .order_capacity = 1024 };
	struct fg_pipeline *p;
	struct seen *s = calloc(1, sizeof(*s));
	struct sess_seen *ss = calloc(1, sizeof(*ss));
	struct pb *a = malloc(sizeof(*a) * 3);
	struct fg_frame f[3];
	uint8_t m[64] = { 0 };
	struct fg_pipeline_seq_totals t;
	struct fg_books_stats b;
	struct fg_order o;
	char sym[9], *out = NULL, *sum = NULL, *ev, *d1, *e2;
	size_t outlen = 0, sumlen = 0;
	FILE *mf;

	s->sess = ss;
	cfg.ctx = s;
	cfg.decode = open_memstream(&out, &outlen);
	CU_ASSERT_EQUAL_FATAL(fg_pipeline_new(&cfg, &p), 0);
	pb_start(&a[0], "\xef\x01\x01\x01", 5000, "SESSIONAAA", 1);
	pb_msg(&a[0], m, msg_dir(m, 1, "AAPL"));
	pb_msg(&a[0], m, msg_dir(m, 2, "MSFT"));
	pb_msg(&a[0], m, msg_add(m, 1, 1, 'B', 100, "AAPL", 1000));
	pb_msg(&a[0], m, msg_add(m, 2, 2, 'B', 100, "MSFT", 2000));
	pb_msg(&a[0], m, msg_exec(m, 1, 1, 5)); /* AAPL: not selected */
	pb_msg(&a[0], m, msg_exec(m, 2, 2, 5)); /* MSFT: selected */
	pb_end(&a[0], -1);
	pb_start(&a[1], "\xef\x01\x01\x01", 5000, "SESSIONBBB", 1);
	pb_msg(&a[1], m, msg_exec(m, 2, 2, 1)); /* locate 2 unknown today: not selected */
	pb_msg(&a[1], m, msg_dir(m, 1, "MSFT"));
	pb_msg(&a[1], m, msg_add(m, 1, 1, 'S', 100, "MSFT", 3000));
	pb_msg(&a[1], m, msg_exec(m, 1, 1, 10)); /* locate 1 is MSFT now: selected */
	pb_msg(&a[1], m, msg_del(m, 1, 2)); /* yesterday's reference: unknown */
	pb_end(&a[1], -1);
	frame_of(&f[0], &a[0], 1);
	frame_of(&f[1], &a[1], 2); /* same batch: session A must be done with its own state */
	fg_pipeline_frames(p, f, 2);

	CU_ASSERT_EQUAL(fg_pipeline_stats(p)->session_resets, 1);
	CU_ASSERT_EQUAL(fg_pipeline_stats(p)->session_resets_skipped, 0);
	fg_pipeline_seq_totals(p, &t);
	CU_ASSERT_EQUAL(t.session_changes, 1);
	/* Session A: R MSFT, A ref 2, E ref 2; session B: R MSFT, A ref 1, E ref 1, D ref 2. */
	CU_ASSERT_EQUAL(s->per_type['R'], 2);
	CU_ASSERT_EQUAL(s->per_type['A'], 2);
	CU_ASSERT_EQUAL(s->per_type['E'], 2);
	CU_ASSERT_EQUAL(s->per_type['D'], 1);
	CU_ASSERT_EQUAL(fg_pipeline_stats(p)->selected, 4 + 4); /* every R is selected */
	CU_ASSERT_EQUAL(fg_books_symbol(fg_pipeline_books(p), 1, sym), 0);
	CU_ASSERT_STRING_EQUAL(sym, "MSFT");
	CU_ASSERT_EQUAL(fg_books_symbol(fg_pipeline_books(p), 2, sym), -ENOENT);
	CU_ASSERT_EQUAL(fg_books_order(fg_pipeline_books(p), 2, &o), -ENOENT);
	CU_ASSERT_EQUAL_FATAL(fg_books_order(fg_pipeline_books(p), 1, &o), 0);
	CU_ASSERT_EQUAL(o.locate, 1);
	CU_ASSERT_EQUAL(o.side, 'S');
	CU_ASSERT_EQUAL(o.shares, 90);
	fg_books_get_stats(fg_pipeline_books(p), &b);
	CU_ASSERT_EQUAL(b.unknown_refs, 1);
	CU_ASSERT_EQUAL(b.deletes, 0);
	CU_ASSERT_EQUAL(b.orders_live, 1);
	CU_ASSERT_EQUAL_FATAL(ss->n, 1);
	CU_ASSERT_EQUAL(ss->state[0], FG_PIPELINE_SESSION_RESET);
	CU_ASSERT_STRING_EQUAL(ss->feed[0], "239.1.1.1:5000");
	CU_ASSERT_STRING_EQUAL(ss->prev[0], "SESSIONAAA");
	CU_ASSERT_STRING_EQUAL(ss->cur[0], "SESSIONBBB");

	/* A heartbeat of a new session is a change too. */
	pb_start(&a[2], "\xef\x01\x01\x01", 5000, "SESSIONCCC", 1);
	pb_end(&a[2], 0);
	frame_of(&f[2], &a[2], 3);
	fg_pipeline_frames(p, &f[2], 1);
	CU_ASSERT_EQUAL(fg_pipeline_stats(p)->session_resets, 2);
	CU_ASSERT_EQUAL(fg_books_order(fg_pipeline_books(p), 1, &o), -ENOENT);
	CU_ASSERT_EQUAL(ss->n, 2);

	/* Decode output: the event sits between the two sessions' messages. */
	fclose(cfg.decode);
	ev = strstr(
		out,
		"{\"event\":\"session_change\",\"feed\":\"239.1.1.1:5000\","
		"\"previous\":\"SESSIONAAA\",\"session\":\"SESSIONBBB\",\"state\":\"reset\"}\n");
	e2 = strstr(out, ",\"seq\":6,\"type\":\"E\"");
	d1 = strstr(out, ",\"seq\":5,\"type\":\"D\"");
	CU_ASSERT_PTR_NOT_NULL_FATAL(ev);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d1);
	CU_ASSERT(e2 < ev && ev < d1);
	CU_ASSERT_PTR_NOT_NULL(
		strstr(out, "\"previous\":\"SESSIONBBB\",\"session\":\"SESSIONCCC\""));

	/* Summaries: the counters, and the book counters over both dropped books. */
	mf = open_memstream(&sum, &sumlen);
	fg_pipeline_summary_json(p, mf);
	fclose(mf);
	CU_ASSERT_PTR_NOT_NULL(strstr(sum, "\"session_changes\":2,"));
	CU_ASSERT_PTR_NOT_NULL(strstr(sum, "\"session_resets\":2,\"session_resets_skipped\":0,"));
	CU_ASSERT_PTR_NOT_NULL(strstr(sum, "\"orders_live\":0,\"orders_peak\":1,"));
	CU_ASSERT_PTR_NOT_NULL(strstr(sum, "\"unknown_refs\":1}"));
	free(sum);
	sum = NULL;
	mf = open_memstream(&sum, &sumlen);
	fg_pipeline_summary_print(p, mf);
	fclose(mf);
	CU_ASSERT_PTR_NOT_NULL(strstr(sum, "session changes 2 (state reset 2, kept 0)"));
	free(sum);
	fg_pipeline_free(p);
	free(out);
	free(a);
	free(ss);
	free(s);
}

/*
 * Two streams on one pipeline share the directory and the books: a session
 * change on one must not wipe the other's state, so it is kept and counted.
 * A configured feed that never carried a message does not count as sharing.
 */
static void test_pipeline_session_change_other_stream_survives(void)
{
	static const char *const feeds[] = { "239.1.1.1:5000", "239.1.1.2:5000" };
	struct fg_pipeline_config cfg = { .on_message = on_msg,
					  .on_session_change = on_sess,
					  .feeds = feeds,
					  .nfeeds = 2,
					  .symbols = "MSFT,IBM",
					  .books = 1,
					  .order_capacity = 1024 };
	struct fg_pipeline *p;
	struct seen *s = calloc(1, sizeof(*s));
	struct sess_seen *ss = calloc(1, sizeof(*ss));
	struct pb *a = malloc(sizeof(*a) * 4);
	struct fg_frame f[4];
	uint8_t m[64] = { 0 };
	struct fg_books_stats b;
	struct fg_order o;
	char sym[9], *out = NULL;
	size_t outlen = 0;

	s->sess = ss;
	cfg.ctx = s;
	cfg.decode = open_memstream(&out, &outlen);

	/* Only stream 1 has traffic: its change resets. */
	CU_ASSERT_EQUAL_FATAL(fg_pipeline_new(&cfg, &p), 0);
	pb_start(&a[0], "\xef\x01\x01\x01", 5000, "SESSIONAAA", 1);
	pb_msg(&a[0], m, msg_dir(m, 1, "MSFT"));
	pb_msg(&a[0], m, msg_add(m, 1, 1, 'B', 100, "MSFT", 1000));
	pb_end(&a[0], -1);
	pb_start(&a[1], "\xef\x01\x01\x01", 5000, "SESSIONBBB", 1);
	pb_msg(&a[1], m, msg_exec(m, 1, 1, 1));
	pb_end(&a[1], -1);
	frame_of(&f[0], &a[0], 1);
	frame_of(&f[1], &a[1], 2);
	fg_pipeline_frames(p, f, 2);
	CU_ASSERT_EQUAL(fg_pipeline_stats(p)->session_resets, 1);
	CU_ASSERT_EQUAL(fg_books_order(fg_pipeline_books(p), 1, &o), -ENOENT);
	CU_ASSERT_EQUAL(s->per_type['E'], 0); /* locate 1 not announced in session B */
	fg_pipeline_free(p);

	/* Both streams have traffic: stream 1's change keeps stream 2's state. */
	memset(s, 0, sizeof(*s));
	memset(ss, 0, sizeof(*ss));
	s->sess = ss;
	CU_ASSERT_EQUAL_FATAL(fg_pipeline_new(&cfg, &p), 0);
	pb_start(&a[2], "\xef\x01\x01\x02", 5000, "OTHERSESS1", 1);
	pb_msg(&a[2], m, msg_dir(m, 7, "IBM"));
	pb_msg(&a[2], m, msg_add(m, 7, 70, 'S', 300, "IBM", 5000));
	pb_end(&a[2], -1);
	frame_of(&f[0], &a[0], 1);
	frame_of(&f[1], &a[2], 2);
	frame_of(&f[2], &a[1], 3);
	fg_pipeline_frames(p, f, 3);
	CU_ASSERT_EQUAL(fg_pipeline_stats(p)->session_resets, 0);
	CU_ASSERT_EQUAL(fg_pipeline_stats(p)->session_resets_skipped, 1);
	CU_ASSERT_EQUAL_FATAL(ss->n, 1);
	CU_ASSERT_EQUAL(ss->state[0], FG_PIPELINE_SESSION_KEPT_SHARED);
	CU_ASSERT_EQUAL(fg_books_symbol(fg_pipeline_books(p), 7, sym), 0);
	CU_ASSERT_STRING_EQUAL(sym, "IBM");
	CU_ASSERT_EQUAL_FATAL(fg_books_order(fg_pipeline_books(p), 70, &o), 0);
	CU_ASSERT_EQUAL(o.shares, 300);
	/* Stream 2 goes on with its state: an execution by locate matches its order. */
	pb_start(&a[3], "\xef\x01\x01\x02", 5000, "OTHERSESS1", 3);
	pb_msg(&a[3], m, msg_exec(m, 7, 70, 100));
	pb_end(&a[3], -1);
	frame_of(&f[3], &a[3], 4);
	fg_pipeline_frames(p, &f[3], 1);
	CU_ASSERT_EQUAL_FATAL(fg_books_order(fg_pipeline_books(p), 70, &o), 0);
	CU_ASSERT_EQUAL(o.shares, 200);
	fg_books_get_stats(fg_pipeline_books(p), &b);
	CU_ASSERT_EQUAL(b.executions, 2); /* stream 1's E on the kept order, stream 2's E */
	fclose(cfg.decode);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"previous\":\"SESSIONAAA\",\"session\":\"SESSIONBBB\","
					   "\"state\":\"kept_shared\"}\n"));
	fg_pipeline_free(p);
	free(out);
	free(a);
	free(ss);
	free(s);
}

static const struct fg_test tests[] = {
	FG_TEST(test_real_add_order_no_mpid),
	FG_TEST(test_real_market_participant_position),
	FG_TEST(test_real_multiple_packets),
	FG_TEST(test_real_noii_delete_executed_replace_action),
	FG_TEST(test_real_20230822_orders),
	FG_TEST(test_real_20230822_trades_and_events),
	FG_TEST(test_pipeline_all_real_captures),
	FG_TEST(test_pipeline_arbitration_pair),
	FG_TEST(test_pipeline_set_lines_follows_rule_changes),
	FG_TEST(test_pipeline_gap_order_in_decode_output),
	FG_TEST(test_pipeline_symbol_filter_learns_within_batch),
	FG_TEST(test_pipeline_counts_malformed_and_other_traffic),
	FG_TEST(test_pipeline_raw_entry_and_large_batches),
	FG_TEST(test_pipeline_packet_larger_than_batch),
	FG_TEST(test_pipeline_rejects_bad_config),
	FG_TEST(test_pipeline_summary_json),
	FG_TEST(test_pipeline_feeds_the_books),
	FG_TEST(test_pipeline_session_change_resets_state),
	FG_TEST(test_pipeline_session_change_other_stream_survives),
};

FG_TEST_MAIN("pipeline", tests, NULL, NULL)
