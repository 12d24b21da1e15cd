// SPDX-License-Identifier: MIT
/*
 * feedgate attach | detach | rule add/del/list | stats: the filter's command
 * line (docs/design.md is the contract). Each do_<cmd> parses its options
 * through a table into a config struct, checks privileges, and calls the
 * loader library; library functions print their own one-line errors.
 * Exit status: 0 ok, 1 failed, 2 usage error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/libbpf.h>

#include "commands.h"
#include "fg_json.h"
#include "fg_loader.h"
#include "fg_log.h"
#include "fg_rule.h"

/* --- option tables: cli_opt.h --------------------------------------------------------- */

static const char *const iface_name[] = { "IFACE" };
static const char *const iface_group_names[] = { "IFACE", "GROUP:PORT" };

/* --- JSON and table helpers -------------------------------------------------------- */

/* Feed names written by hand with bpftool may hold anything. */
static void printable(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || (unsigned char)*s > '~')
			*s = '?';
}

static const char *policy_name(__u8 p)
{
	return p == FG_ACTION_DROP ? "drop" : "pass";
}

struct rule_text {
	char key[FG_KEY_STR_LEN];
	char addr[FG_ADDR_STR_LEN];
	char src[FG_PREFIX_STR_LEN]; /* "" when any source */
	char feed[FG_FEED_NAME_LEN + 1];
};

static void rule_text(const struct fg_rule_key *k, const struct fg_rule *r, struct rule_text *t)
{
	struct fg_prefix p;
	char *colon;

	fg_rule_key_format(k, t->key, sizeof(t->key));
	/* The address alone: the key without ":port" and brackets. */
	snprintf(t->addr, sizeof(t->addr), "%s", t->key + (t->key[0] == '['));
	colon = strrchr(t->addr, ':');
	if (colon)
		*colon = '\0';
	if (t->key[0] == '[' && colon && colon > t->addr && colon[-1] == ']')
		colon[-1] = '\0';
	t->src[0] = '\0';
	if (r->src_prefix_len) {
		fg_rule_src(k, r, &p);
		fg_prefix_format(&p, t->src, sizeof(t->src));
	}
	fg_rule_feed_name(r, t->feed);
}

static void json_rule(FILE *f, const struct fg_rule_key *k, const struct fg_rule *r)
{
	struct rule_text t;

	rule_text(k, r, &t);
	fprintf(f, "{\"rule_id\":%u,\"rule\":", r->rule_id);
	fg_json_str(f, t.key);
	fprintf(f, ",\"family\":\"%s\",\"group\":", k->family == FG_FAMILY_IPV4 ? "ipv4" : "ipv6");
	fg_json_str(f, t.addr);
	fprintf(f, ",\"port\":%u,\"wildcard\":%s,\"src\":", ntohs(k->dport),
		fg_rule_key_is_wildcard(k) ? "true" : "false");
	if (t.src[0])
		fg_json_str(f, t.src);
	else
		fputs("null", f);
	fprintf(f, ",\"action\":\"%s\",\"feed\":", fg_action_name(r->action));
	if (t.feed[0])
		fg_json_str(f, t.feed);
	else
		fputs("null", f);
	fprintf(f, ",\"feed_id\":%u", r->feed_id);
}

/* Column widths of the rule and src columns for a set of rules. */
static void rule_widths(const struct fg_rule_entry *v, size_t n, int *wk, int *ws)
{
	*wk = 4;
	*ws = 3;
	for (size_t i = 0; i < n; i++) {
		struct rule_text t;
		int a, b;

		rule_text(&v[i].key, &v[i].rule, &t);
		a = (int)strlen(t.key);
		b = t.src[0] ? (int)strlen(t.src) : 1;
		if (a > *wk)
			*wk = a;
		if (b > *ws)
			*ws = b;
	}
}

static void table_rule(const struct fg_rule_entry *e, int wk, int ws)
{
	struct rule_text t;

	rule_text(&e->key, &e->rule, &t);
	printable(t.feed);
	printf("%5u  %-*s  %-*s  %-8s  %-15s %7u", e->rule.rule_id, wk, t.key, ws,
	       t.src[0] ? t.src : "-", fg_action_name(e->rule.action), t.feed[0] ? t.feed : "-",
	       e->rule.feed_id);
}

/* --- attach / detach ------------------------------------------------------------- */

struct attach_cfg {
	int mode;
	int policy;
	int stamp;
};

static const struct cli_enum mode_vals[] = {
	{ "native", FG_MODE_NATIVE },
	{ "skb", FG_MODE_SKB },
	{ NULL, 0 },
};
static const struct cli_enum policy_vals[] = {
	{ "drop", FG_ACTION_DROP },
	{ "pass", FG_ACTION_PASS },
	{ NULL, 0 },
};
static const struct cli_enum stamp_vals[] = {
	{ "auto", FG_STAMP_AUTO },
	{ "meta", FG_STAMP_META },
	{ "head", FG_STAMP_HEAD },
	{ "none", FG_STAMP_NONE },
	{ NULL, 0 },
};
static const struct cli_opt attach_opts[] = {
	{ .name = "--mode",
	  .type = CLI_ENUM,
	  CLI_AT(struct attach_cfg, mode),
	  .vals = mode_vals,
	  .def = "native",
	  .help = "native (driver) XDP, or generic XDP for any driver" },
	{ .name = "--policy",
	  .type = CLI_ENUM,
	  CLI_AT(struct attach_cfg, policy),
	  .vals = policy_vals,
	  .def = "pass",
	  .help = "what becomes of packets no rule matches" },
	{ .name = "--stamp",
	  .type = CLI_ENUM,
	  CLI_AT(struct attach_cfg, stamp),
	  .vals = stamp_vals,
	  .def = "auto",
	  .help = "where the receive stamp goes (auto: meta where the kernel allows it, else "
		  "head); on an attached interface, changes the mode live" },
	{ .name = NULL },
};
const struct cli_cmd cli_cmd_attach = {
	.name = "attach",
	.pos = "IFACE",
	.pos_names = iface_name,
	.npos = 1,
	.opts = attach_opts,
	.summary = "attach the XDP filter to IFACE and pin its maps",
};

const struct cli_cmd cli_cmd_detach = {
	.name = "detach",
	.pos = "IFACE",
	.pos_names = iface_name,
	.npos = 1,
	.summary = "detach the filter from IFACE and remove its pins",
};

/* Why the stamp mode in force is what it is, for people. */
static const char *stamp_why(const struct fg_config *c)
{
	if (c->stamp_mode == FG_STAMP_HEAD && !c->meta_ok)
		return " (the kernel refuses bpf_xdp_adjust_meta)";
	return "";
}

/* attach on an interface feedgate is attached to already: only --stamp
 * may change there (live, no reload); anything else is refused. */
static int attach_again(const char *ifname, const struct attach_cfg *cfg)
{
	struct fg_filter_handle h;
	struct fg_blame blame;
	struct fg_config c;
	__u8 mode;
	int ret;

	if (fg_filter_open(ifname, &h))
		return 1;
	ret = fg_stamp_set(&h, (__u8)cfg->stamp, &mode, &blame);
	if (ret)
		cli_warn_blame(&blame);
	if (!ret)
		ret = fg_config_read(&h, &c);
	if (!ret)
		printf("feedgate already attached to %s (prog id %u): stamp mode now %s%s\n",
		       h.ifname, h.prog_id, fg_stamp_name(mode), stamp_why(&c));
	fg_filter_close(&h);
	return ret ? 1 : 0;
}

int do_attach(int argc, char **argv)
{
	struct attach_cfg cfg = {};
	struct fg_attach_opts o = {};
	struct fg_filter_handle h;
	struct fg_blame blame;
	struct fg_config c;
	const char *pos[1];
	cli_given_t given;
	int ret;

	ret = cli_parse(&cli_cmd_attach, argc - 1, argv + 1, &cfg, pos, &given);
	if (ret)
		return ret > 0 ? 0 : EXIT_USAGE;
	if (fg_require_root("attach"))
		return 1;
	/* `attach IFACE --stamp MODE` on our own program: a live change. */
	if (cli_was_given(&cli_cmd_attach, given, "--stamp") &&
	    !cli_was_given(&cli_cmd_attach, given, "--mode") &&
	    !cli_was_given(&cli_cmd_attach, given, "--policy") &&
	    fg_filter_is_attached(pos[0]) == 1)
		return attach_again(pos[0], &cfg);
	o.mode = (enum fg_xdp_mode)cfg.mode;
	o.miss_policy = (__u8)cfg.policy;
	o.frag_policy = FG_ACTION_PASS;
	o.stamp = (__u8)cfg.stamp;
	ret = fg_filter_attach(pos[0], &o, &h, &blame);
	if (ret) {
		cli_warn_blame(&blame);
		return 1;
	}
	memset(&c, 0, sizeof(c));
	fg_config_read(&h, &c);
	printf("feedgate attached to %s in %s mode (prog id %u, miss policy %s, stamp %s%s); maps "
	       "pinned in %s/%s\n",
	       h.ifname, fg_mode_name(h.mode), h.prog_id, policy_name(o.miss_policy),
	       fg_stamp_name(c.stamp_mode), stamp_why(&c), FG_PIN_ROOT, h.ifname);
	fg_filter_close(&h);
	return 0;
}

int do_detach(int argc, char **argv)
{
	const char *pos[1];
	int ret;

	ret = cli_parse(&cli_cmd_detach, argc - 1, argv + 1, NULL, pos, NULL);
	if (ret)
		return ret > 0 ? 0 : EXIT_USAGE;
	if (fg_require_root("detach"))
		return 1;
	ret = fg_filter_detach(pos[0]);
	if (ret)
		return 1;
	printf("feedgate detached from %s\n", pos[0]);
	return 0;
}

/* --- rule add / del / list ---------------------------------------------------------- */

struct rule_cfg {
	const char *src;
	const char *action;
	const char *feed;
	int json;
};

static const struct cli_opt rule_add_opts[] = {
	{ .name = "--src",
	  .type = CLI_STRING,
	  CLI_AT(struct rule_cfg, src),
	  .arg = "PREFIX",
	  .help = "match only this source prefix (any source when left out)" },
	{ .name = "--action",
	  .type = CLI_STRING,
	  CLI_AT(struct rule_cfg, action),
	  .arg = "redirect|pass|drop",
	  .help = "redirect to the AF_XDP consumer (default), pass to the stack, or drop" },
	{ .name = "--feed",
	  .type = CLI_STRING,
	  CLI_AT(struct rule_cfg, feed),
	  .arg = "NAME",
	  .help = "the feed the rule belongs to (rules of one feed are its A and B lines)" },
	{ .name = NULL },
};
static const struct cli_opt rule_list_opts[] = {
	{ .name = "--json",
	  .type = CLI_FLAG,
	  CLI_AT(struct rule_cfg, json),
	  .help = "one JSON object instead of a table" },
	{ .name = NULL },
};

const struct cli_cmd cli_cmd_rule_add = {
	.name = "rule add",
	.pos = "IFACE GROUP:PORT",
	.pos_names = iface_group_names,
	.npos = 2,
	.opts = rule_add_opts,
	.summary = "add a rule for a multicast group and port",
};
const struct cli_cmd cli_cmd_rule_del = {
	.name = "rule del",
	.pos = "IFACE GROUP:PORT",
	.pos_names = iface_group_names,
	.npos = 2,
	.summary = "delete the rule for a group and port",
};
const struct cli_cmd cli_cmd_rule_list = {
	.name = "rule list",
	.pos = "IFACE",
	.pos_names = iface_name,
	.npos = 1,
	.opts = rule_list_opts,
	.summary = "list the rules with their ids and feeds",
};

static int rule_add(int argc, char **argv)
{
	struct rule_cfg cfg = {};
	struct fg_filter_handle h;
	char err[FG_ERR_LEN];
	enum fg_input bad;
	struct fg_rule_key k;
	struct rule_text t;
	struct fg_rule r;
	const char *pos[2];
	int ret;

	ret = cli_parse(&cli_cmd_rule_add, argc, argv, &cfg, pos, NULL);
	if (ret)
		return ret > 0 ? 0 : EXIT_USAGE;
	if (fg_rule_parse(pos[1], cfg.src, cfg.action, cfg.feed, &k, &r, &bad, err, sizeof(err))) {
		const char *flag = cli_input_flag(bad);

		pr_warn("rule add: %s%s%s\n", flag ? flag : "", flag ? " " : "", err);
		return EXIT_USAGE;
	}
	if (fg_require_root("rule add"))
		return 1;
	if (fg_filter_open(pos[0], &h))
		return 1;
	ret = fg_rule_insert(&h, &k, &r);
	fg_filter_close(&h);
	if (ret)
		return 1;
	rule_text(&k, &r, &t);
	printf("rule %u added on %s: %s src %s action %s feed %s (feed id %u)\n", r.rule_id, pos[0],
	       t.key, t.src[0] ? t.src : "any", fg_action_name(r.action), t.feed[0] ? t.feed : "-",
	       r.feed_id);
	return 0;
}

static int rule_del(int argc, char **argv)
{
	struct fg_filter_handle h;
	char err[FG_ERR_LEN], ks[FG_KEY_STR_LEN];
	struct fg_rule_key k;
	struct fg_rule r;
	const char *pos[2];
	int ret, have;

	ret = cli_parse(&cli_cmd_rule_del, argc, argv, NULL, pos, NULL);
	if (ret)
		return ret > 0 ? 0 : EXIT_USAGE;
	if (fg_rule_key_parse(pos[1], &k, err, sizeof(err))) {
		pr_warn("rule del: '%s': %s\n", pos[1], err);
		return EXIT_USAGE;
	}
	if (fg_require_root("rule del"))
		return 1;
	if (fg_filter_open(pos[0], &h))
		return 1;
	have = !fg_rule_lookup(&h, &k, &r);
	ret = fg_rule_remove(&h, &k);
	fg_filter_close(&h);
	if (ret)
		return 1;
	fg_rule_key_format(&k, ks, sizeof(ks));
	if (have)
		printf("rule %u deleted from %s: %s\n", r.rule_id, pos[0], ks);
	else
		printf("rule deleted from %s: %s\n", pos[0], ks);
	return 0;
}

static int rule_list(int argc, char **argv)
{
	struct rule_cfg cfg = {};
	struct fg_filter_handle h;
	struct fg_rule_entry *v;
	const char *pos[1];
	size_t n;
	int ret, wk, ws;

	ret = cli_parse(&cli_cmd_rule_list, argc, argv, &cfg, pos, NULL);
	if (ret)
		return ret > 0 ? 0 : EXIT_USAGE;
	if (fg_require_root("rule list"))
		return 1;
	if (fg_filter_open(pos[0], &h))
		return 1;
	ret = fg_rule_list(&h, &v, &n);
	fg_filter_close(&h);
	if (ret)
		return 1;
	if (cfg.json) {
		printf("{\"interface\":");
		fg_json_str(stdout, pos[0]);
		printf(",\"rules\":[");
		for (size_t i = 0; i < n; i++) {
			if (i)
				putchar(',');
			json_rule(stdout, &v[i].key, &v[i].rule);
			putchar('}');
		}
		printf("]}\n");
	} else if (!n) {
		printf("no rules on %s\n", pos[0]);
	} else {
		rule_widths(v, n, &wk, &ws);
		printf("%5s  %-*s  %-*s  %-8s  %-15s %7s\n", "id", wk, "rule", ws, "src", "action",
		       "feed", "feed_id");
		for (size_t i = 0; i < n; i++) {
			table_rule(&v[i], wk, ws);
			putchar('\n');
		}
	}
	free(v);
	return 0;
}

int do_rule(int argc, char **argv)
{
	if (argc < 2) {
		pr_warn("rule: missing subcommand: add, del or list (see 'feedgate --help')\n");
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "add"))
		return rule_add(argc - 2, argv + 2);
	if (!strcmp(argv[1], "del"))
		return rule_del(argc - 2, argv + 2);
	if (!strcmp(argv[1], "list"))
		return rule_list(argc - 2, argv + 2);
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		cli_help(stdout, &cli_cmd_rule_add);
		putchar('\n');
		cli_help(stdout, &cli_cmd_rule_del);
		putchar('\n');
		cli_help(stdout, &cli_cmd_rule_list);
		return 0;
	}
	pr_warn("rule: unknown subcommand '%s': use add, del or list\n", argv[1]);
	return EXIT_USAGE;
}

/* --- stats --------------------------------------------------------------------------- */

struct stats_cfg {
	int json;
	double watch;
};

static const struct cli_opt stats_opts[] = {
	{ .name = "--json",
	  .type = CLI_FLAG,
	  CLI_AT(struct stats_cfg, json),
	  .help = "one JSON object (one a reading with --watch) instead of tables" },
	{ .name = "--watch",
	  .type = CLI_SECONDS,
	  CLI_AT(struct stats_cfg, watch),
	  .arg = "SECONDS",
	  .hi = 86400,
	  .want = "a number of seconds (0 < N <= 86400)",
	  .help = "print again every SECONDS with rates since the last reading, until "
		  "SIGINT or SIGTERM" },
	{ .name = NULL },
};
const struct cli_cmd cli_cmd_stats = {
	.name = "stats",
	.pos = "IFACE",
	.pos_names = iface_name,
	.npos = 1,
	.opts = stats_opts,
	.summary = "the filter's counters: per rule, global and per queue",
};

/* The global counters by name, in struct fg_filter_stats order. */
#define FG_STAT(f)                                      \
	{                                               \
#f, offsetof(struct fg_filter_stats, f) \
	}
static const struct {
	const char *name;
	size_t off;
} global_counters[] = {
	FG_STAT(rx_packets),	FG_STAT(rx_bytes),	     FG_STAT(redirected),
	FG_STAT(pass_rule),	FG_STAT(pass_no_rule),	     FG_STAT(pass_control),
	FG_STAT(pass_frag),	FG_STAT(pass_fallback),	     FG_STAT(drop_rule),
	FG_STAT(drop_no_rule),	FG_STAT(drop_malformed),     FG_STAT(drop_frag),
	FG_STAT(drop_fallback), FG_STAT(redirect_fallback),  FG_STAT(stamp_meta),
	FG_STAT(stamp_head),	FG_STAT(stamp_meta_refused), FG_STAT(stamp_failed),
};
#define N_GLOBAL (sizeof(global_counters) / sizeof(global_counters[0]))

static __u64 counter(const struct fg_filter_stats *s, size_t i)
{
	return *(const __u64 *)((const char *)s + global_counters[i].off);
}

/* One reading of everything stats shows. */
struct snapshot {
	struct fg_config cfg;
	struct fg_filter_stats global;
	struct fg_rule_entry *rules;
	size_t nrules;
	struct fg_queue_stats *queues;
	int nqueues;
	double t; /* CLOCK_MONOTONIC seconds */
};

static void snapshot_free(struct snapshot *s)
{
	free(s->rules);
	free(s->queues);
	memset(s, 0, sizeof(*s));
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int snapshot_take(struct fg_filter_handle *h, struct snapshot *s)
{
	int nq = fg_iface_rx_queues(h->ifname);

	memset(s, 0, sizeof(*s));
	if (nq > FG_MAX_QUEUES)
		nq = FG_MAX_QUEUES;
	s->t = now_s();
	if (fg_config_read(h, &s->cfg) || fg_filter_stats_read(h, &s->global) ||
	    fg_rule_list(h, &s->rules, &s->nrules))
		goto fail;
	s->queues = calloc(FG_MAX_QUEUES, sizeof(*s->queues));
	if (!s->queues) {
		pr_warn("%s: out of memory\n", h->ifname);
		goto fail;
	}
	/* Queues the interface has, plus any beyond that counted something
	 * (channels can be reduced after packets arrived). */
	s->nqueues = nq;
	for (int q = 0; q < FG_MAX_QUEUES; q++) {
		if (fg_queue_stats_read(h, (__u32)q, &s->queues[q]))
			goto fail;
		if ((s->queues[q].redirected || s->queues[q].no_socket) && q + 1 > s->nqueues)
			s->nqueues = q + 1;
	}
	return 0;
fail:
	snapshot_free(s);
	return -1;
}

/* Rate of a counter between two snapshots, per second. */
static __u64 rate(__u64 cur, __u64 old, double dt)
{
	return cur >= old && dt > 0 ? (__u64)((double)(cur - old) / dt + 0.5) : 0;
}

/* The previous reading of the same rule (same key and id), or NULL. */
static const struct fg_rule_entry *prev_rule(const struct snapshot *prev,
					     const struct fg_rule_entry *e)
{
	for (size_t i = 0; prev && i < prev->nrules; i++)
		if (prev->rules[i].rule.rule_id == e->rule.rule_id &&
		    !memcmp(&prev->rules[i].key, &e->key, sizeof(e->key)))
			return &prev->rules[i];
	return NULL;
}

static void stats_json(const struct fg_filter_handle *h, const struct snapshot *s,
		       const struct snapshot *prev)
{
	double dt = prev ? s->t - prev->t : 0;

	printf("{\"interface\":");
	fg_json_str(stdout, h->ifname);
	printf(",\"ifindex\":%d,\"prog_id\":%u,\"mode\":\"%s\",\"miss_policy\":\"%s\","
	       "\"frag_policy\":\"%s\",\"stamp\":\"%s\",\"meta_helper\":%s",
	       h->ifindex, h->prog_id, fg_mode_name(h->mode), policy_name(s->cfg.miss_policy),
	       policy_name(s->cfg.frag_policy), fg_stamp_name(s->cfg.stamp_mode),
	       s->cfg.meta_ok ? "true" : "false");
	if (prev)
		printf(",\"interval_ms\":%llu", (unsigned long long)(dt * 1000 + 0.5));
	printf(",\"rules\":[");
	for (size_t i = 0; i < s->nrules; i++) {
		const struct fg_rule_entry *e = &s->rules[i], *p = prev_rule(prev, e);

		if (i)
			putchar(',');
		json_rule(stdout, &e->key, &e->rule);
		printf(",\"packets\":%llu,\"bytes\":%llu", (unsigned long long)e->stats.packets,
		       (unsigned long long)e->stats.bytes);
		if (prev)
			printf(",\"packets_per_sec\":%llu,\"bits_per_sec\":%llu",
			       (unsigned long long)rate(e->stats.packets, p ? p->stats.packets : 0,
							dt),
			       (unsigned long long)(8 * rate(e->stats.bytes, p ? p->stats.bytes : 0,
							     dt)));
		putchar('}');
	}
	printf("],\"global\":{");
	for (size_t i = 0; i < N_GLOBAL; i++)
		printf("%s\"%s\":%llu", i ? "," : "", global_counters[i].name,
		       (unsigned long long)counter(&s->global, i));
	if (prev)
		for (size_t i = 0; i < N_GLOBAL; i++)
			printf(",\"%s_per_sec\":%llu", global_counters[i].name,
			       (unsigned long long)rate(counter(&s->global, i),
							counter(&prev->global, i), dt));
	printf("},\"queues\":[");
	for (int q = 0; q < s->nqueues; q++) {
		printf("%s{\"queue\":%d,\"redirected\":%llu,\"no_socket\":%llu", q ? "," : "", q,
		       (unsigned long long)s->queues[q].redirected,
		       (unsigned long long)s->queues[q].no_socket);
		if (prev)
			printf(",\"redirected_per_sec\":%llu,\"no_socket_per_sec\":%llu",
			       (unsigned long long)rate(s->queues[q].redirected,
							prev->queues[q].redirected, dt),
			       (unsigned long long)rate(s->queues[q].no_socket,
							prev->queues[q].no_socket, dt));
		putchar('}');
	}
	printf("]}\n");
}

static void stats_table(const struct fg_filter_handle *h, const struct snapshot *s,
			const struct snapshot *prev)
{
	double dt = prev ? s->t - prev->t : 0;
	int wk, ws;

	printf("%s: feedgate prog %u, %s mode, miss policy %s, fragment policy %s, stamp %s%s\n\n",
	       h->ifname, h->prog_id, fg_mode_name(h->mode), policy_name(s->cfg.miss_policy),
	       policy_name(s->cfg.frag_policy), fg_stamp_name(s->cfg.stamp_mode),
	       stamp_why(&s->cfg));
	if (!s->nrules) {
		printf("no rules (add one: feedgate rule add %s GROUP:PORT)\n", h->ifname);
	} else {
		rule_widths(s->rules, s->nrules, &wk, &ws);
		printf("%5s  %-*s  %-*s  %-8s  %-15s %7s %14s %16s", "id", wk, "rule", ws, "src",
		       "action", "feed", "feed_id", "packets", "bytes");
		if (prev)
			printf(" %11s %10s", "pkt/s", "Mbit/s");
		putchar('\n');
		for (size_t i = 0; i < s->nrules; i++) {
			const struct fg_rule_entry *e = &s->rules[i], *p = prev_rule(prev, e);

			table_rule(e, wk, ws);
			printf(" %14llu %16llu", (unsigned long long)e->stats.packets,
			       (unsigned long long)e->stats.bytes);
			if (prev)
				printf(" %11llu %10.3f",
				       (unsigned long long)rate(e->stats.packets,
								p ? p->stats.packets : 0, dt),
				       8e-6 * (double)rate(e->stats.bytes, p ? p->stats.bytes : 0,
							   dt));
			putchar('\n');
		}
	}
	printf("\n%-18s %16s", "counter", "value");
	if (prev)
		printf(" %11s", "per second");
	putchar('\n');
	for (size_t i = 0; i < N_GLOBAL; i++) {
		printf("%-18s %16llu", global_counters[i].name,
		       (unsigned long long)counter(&s->global, i));
		if (prev)
			printf(" %11llu", (unsigned long long)rate(counter(&s->global, i),
								   counter(&prev->global, i), dt));
		putchar('\n');
	}
	printf("\n%5s %16s %16s\n", "queue", "redirected", "no_socket");
	for (int q = 0; q < s->nqueues; q++)
		printf("%5d %16llu %16llu\n", q, (unsigned long long)s->queues[q].redirected,
		       (unsigned long long)s->queues[q].no_socket);
	/* The program sees the redirect, not what the socket then does with it. */
	printf("(redirected: handed to the queue's AF_XDP socket; a frame its ring had no room "
	       "for is still counted here, and by the consumer as rx_ring_full)\n");
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int do_stats(int argc, char **argv)
{
	struct stats_cfg cfg = {};
	struct snapshot cur, prev;
	struct fg_filter_handle h;
	const char *pos[1];
	int ret, have_prev = 0, tty;
	__u32 id;

	ret = cli_parse(&cli_cmd_stats, argc - 1, argv + 1, &cfg, pos, NULL);
	if (ret)
		return ret > 0 ? 0 : EXIT_USAGE;
	if (fg_require_root("stats"))
		return 1;
	if (fg_filter_open(pos[0], &h))
		return 1;
	if (snapshot_take(&h, &cur)) {
		fg_filter_close(&h);
		return 1;
	}
	if (!cfg.watch) {
		if (cfg.json)
			stats_json(&h, &cur, NULL);
		else
			stats_table(&h, &cur, NULL);
		snapshot_free(&cur);
		fg_filter_close(&h);
		return 0;
	}

	/* --watch: print now, then every N seconds with rates since the last
	 * reading, until SIGINT/SIGTERM (exit 0) or the filter goes away. */
	{
		struct sigaction sa = {};

		sa.sa_handler = on_signal; /* no SA_RESTART: the sleep must end */
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
	}
	tty = isatty(STDOUT_FILENO);
	ret = 0;
	memset(&prev, 0, sizeof(prev));
	for (;;) {
		if (cfg.json) {
			stats_json(&h, &cur, have_prev ? &prev : NULL);
		} else {
			if (tty)
				fputs("\033[H\033[2J", stdout);
			else if (have_prev)
				putchar('\n');
			stats_table(&h, &cur, have_prev ? &prev : NULL);
		}
		fflush(stdout);
		snapshot_free(&prev);
		prev = cur;
		have_prev = 1;
		{
			struct timespec ts;

			ts.tv_sec = (time_t)cfg.watch;
			ts.tv_nsec = (long)((cfg.watch - (double)ts.tv_sec) * 1e9);
			while (!stop && nanosleep(&ts, &ts) && errno == EINTR)
				;
		}
		if (stop)
			break;
		/* The maps we hold outlive a detach: stop rather than show
		 * counters that no longer move. */
		if (bpf_xdp_query_id(h.ifindex, 0, &id) || id != h.prog_id) {
			pr_warn("%s: feedgate program %u is no longer attached\n", h.ifname,
				h.prog_id);
			ret = 1;
			break;
		}
		if (snapshot_take(&h, &cur)) {
			ret = 1;
			break;
		}
	}
	snapshot_free(&prev);
	fg_filter_close(&h);
	return ret;
}
