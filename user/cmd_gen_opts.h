/* SPDX-License-Identifier: MIT */
/*
 * feedgate gen's command line: its two forms as option tables (cli_opt.h)
 * and the checks that span several options. Apart from the sending code
 * so that the unit tests can parse gen lines without a network.
 */
#ifndef FG_CMD_GEN_OPTS_H
#define FG_CMD_GEN_OPTS_H

#include <stdbool.h>
#include <stdint.h>

#include "fg_gen.h"

#define GEN_PCAP_DEFAULT_COUNT 1000
/* BPF_PROG_RUN live frames: message pairs the template program can stamp. */
#define GEN_XDP_MAX_PAIRS 16

struct gen_srv;

struct gen_cfg {
	const char *pcap;
	const char *iface;
	enum fg_gen_tx tx; /* as asked; FG_GEN_TX_AUTO unless --tx says otherwise */
	double rate; /* 0 = as fast as the path goes */
	uint64_t count;
	double duration;
	uint32_t feeds;
	double noise;
	uint32_t mpp;
	const char *seed_arg; /* --seed as given (or its default) */
	uint64_t seed;
	int itch_stamps; /* ITCH timestamps = send time (always with --tx xdp) */
	int strict; /* a shortfall (device, rate) is exit status 1 */
	int pace_sleep; /* af_xdp, afpacket: wait by sleeping only (xdp always does) */
	double burst; /* factor; 0 = evenly paced */
	uint64_t burst_len_ns, burst_every_ns;
	const char *burst_len_arg, *burst_every_arg; /* as given, or the defaults */
	uint32_t lines; /* 1 or 2 */
	double loss[2], loss_both;
	const char *loss_arg; /* --loss as given, NULL = none */
	bool loss_both_set;
	/* lines, loss or a server: every packet counts per line and stays
	 * generated when unsent; the run ends with heartbeats */
	bool line_mode;
	const char *serve; /* --serve-rerequest ADDR:PORT, NULL = no server */
	uint32_t serve_history;
	int serve_mode; /* enum fg_rrsrv_mode */
	double serve_linger; /* seconds */
	double serve_delay_us; /* --serve-delay: replies held back this long */
	struct gen_srv *srv; /* the server once open (do_gen), else NULL */
};

/* gen --itch-file: a generated day as NASDAQ BinaryFILE. */
struct gen_file_cfg {
	const char *path;
	uint64_t count;
	uint64_t seed;
	uint32_t symbols;
	uint32_t max_live;
};

/* Is this line the --itch-file form? */
bool gen_is_file_form(int argc, char **argv);

/* argv[0] is "gen". 0, 1 (--help printed) or -1 (one line on stderr). */
int gen_parse(int argc, char **argv, struct gen_cfg *c);
int gen_file_parse(int argc, char **argv, struct gen_file_cfg *c);

#endif /* FG_CMD_GEN_OPTS_H */
