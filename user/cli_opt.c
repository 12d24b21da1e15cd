// SPDX-License-Identifier: MIT
/*
 * One option parser for the subcommands, driven by their tables
 * (cli_opt.h), and the usage, --help and man page text made from the
 * same tables.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_opt.h"
#include "fg_log.h"

#define CLI_HINT_MAX 100 /* a usage longer than this is not repeated in errors */

const struct cli_opt *cli_find(const struct cli_cmd *cmd, const char *name, size_t len)
{
	for (const struct cli_opt *o = cmd->opts; o && o->name; o++)
		if (strlen(o->name) == len && !strncmp(o->name, name, len))
			return o;
	return NULL;
}

int cli_was_given(const struct cli_cmd *cmd, cli_given_t given, const char *name)
{
	const struct cli_opt *o = cli_find(cmd, name, strlen(name));

	return o && (given >> (o - cmd->opts) & 1);
}

int cli_applies(const struct cli_opt *o, const char *be)
{
	const char *list = o->backends, *hit;
	size_t bl = strlen(be);

	if (!list)
		return 1;
	for (hit = strstr(list, be); hit; hit = strstr(hit + 1, be))
		if ((hit == list || hit[-1] == ' ') && (!hit[bl] || hit[bl] == ' '))
			return 1;
	return 0;
}

void cli_arg_text(const struct cli_opt *o, char *buf, size_t len)
{
	size_t k = 0;

	buf[0] = '\0';
	if (o->type == CLI_FLAG)
		return;
	if (o->type != CLI_ENUM || o->arg) {
		snprintf(buf, len, "%s", o->arg ? o->arg : "VALUE");
		return;
	}
	for (const struct cli_enum *e = o->vals; e->name && k + 1 < len; e++) {
		int n = snprintf(buf + k, len - k, "%s%s", k ? "|" : "", e->name);

		if (n < 0 || (size_t)n >= len - k)
			break;
		k += (size_t)n;
	}
}

/* The usage in one line, to repeat it in an error; NULL when too long
 * (then the error points at --help instead). */
static char *usage_line(const struct cli_cmd *cmd)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	cli_usage(f, cmd, 1 << 20, 0);
	fclose(f);
	if (buf && (strchr(buf, '\n') || len > CLI_HINT_MAX)) {
		free(buf);
		buf = NULL;
	}
	return buf;
}

/* "CMD: " + fmt + " (usage: feedgate USAGE)" or "; see 'feedgate CMD --help'". */
static void warn_hint(const struct cli_cmd *cmd, const char *what, const char *quoted, int qlen)
{
	char *u = usage_line(cmd);
	char word[64];

	snprintf(word, sizeof(word), "%.*s", (int)strcspn(cmd->name, " "), cmd->name);
	if (u)
		pr_warn("%s: %s '%.*s' (usage: feedgate %s)\n", cmd->name, what, qlen, quoted, u);
	else
		pr_warn("%s: %s '%.*s'; see 'feedgate %s --help'\n", cmd->name, what, qlen, quoted,
			word);
	free(u);
}

/* As warn_hint, for a message with nothing quoted. */
static void warn_hint_plain(const struct cli_cmd *cmd, const char *msg)
{
	char *u = usage_line(cmd);
	char word[64];

	snprintf(word, sizeof(word), "%.*s", (int)strcspn(cmd->name, " "), cmd->name);
	if (u)
		pr_warn("%s: %s (usage: feedgate %s)\n", cmd->name, msg, u);
	else
		pr_warn("%s: %s; see 'feedgate %s --help'\n", cmd->name, msg, word);
	free(u);
}

/* cmd->unknown with the word (an option up to its '=', or an argument). */
static void warn_unknown(const struct cli_cmd *cmd, const char *a, size_t len)
{
	char word[256], msg[512];

	snprintf(word, sizeof(word), "%.*s", (int)len, a);
	snprintf(msg, sizeof(msg), cmd->unknown, word);
	pr_warn("%s: %s\n", cmd->name, msg);
}

static void store_uint(void *p, size_t size, unsigned long long x)
{
	if (size == sizeof(uint64_t)) {
		uint64_t v = x;

		memcpy(p, &v, sizeof(v));
	} else {
		uint32_t v = (uint32_t)x;

		memcpy(p, &v, sizeof(v));
	}
}

/* A whole number in decimal, no sign: 0, or -1. */
static int whole(const char *v, unsigned long *out, char **end)
{
	errno = 0;
	*out = strtoul(v, end, 10);
	return errno || *end == v || v[0] == '-' || v[0] == '+' || v[0] == ' ' ? -1 : 0;
}

static int is_pow2(unsigned long x)
{
	return x && !(x & (x - 1));
}

static void warn_range(const struct cli_cmd *cmd, const struct cli_opt *o, const char *v)
{
	if (o->want)
		pr_warn("%s: %s%s%s '%s': want %s\n", cmd->name, o->name, o->unit ? " " : "",
			o->unit ? o->unit : "", v, o->want);
	else
		pr_warn("%s: %s%s%s '%s': want a whole number from %lu to %lu\n", cmd->name,
			o->name, o->unit ? " " : "", o->unit ? o->unit : "", v, o->lo, o->hi);
}

/* --hold style: a count of units, or bytes with a suffix, scale bytes a unit. */
static int parse_size(const struct cli_opt *o, const char *v, unsigned long *out)
{
	static const struct {
		const char *suffix;
		unsigned long mult;
	} units[] = {
		{ "B", 1 }, { "KiB", 1024 }, { "MiB", 1024 * 1024 }, { "GiB", 1024ul << 20 }
	};
	unsigned long x, n;
	char *end;

	if (whole(v, &x, &end))
		return -1;
	n = x;
	if (*end) {
		size_t k;

		for (k = 0; k < sizeof(units) / sizeof(units[0]); k++)
			if (!strcmp(end, units[k].suffix))
				break;
		if (k == sizeof(units) / sizeof(units[0]) || x > (1ul << 40) / units[k].mult)
			return -1;
		n = x * units[k].mult / (o->scale ? o->scale : 1);
	}
	if (n < o->lo || n > o->hi || ((o->flags & CLI_POW2ONLY) && !is_pow2(n)))
		return -1;
	*out = n;
	return 0;
}

/* Put one value of o into cfg: 0, or -1 after one line. */
static int set_value(const struct cli_cmd *cmd, const struct cli_opt *o, const char *v, void *cfg)
{
	char *p = (char *)cfg + o->off, *end;
	unsigned long x;

	switch (o->type) {
	case CLI_FLAG:
		*(int *)p = 1;
		return 0;
	case CLI_STRING:
		if (o->check && o->check(cmd, o, v))
			return -1;
		*(const char **)p = v;
		return 0;
	case CLI_ENUM: {
		const struct cli_enum *e;
		char names[256] = "";

		for (e = o->vals; e->name; e++) {
			if (!strcmp(e->name, v)) {
				*(int *)p = e->value;
				return 0;
			}
		}
		for (e = o->vals; e->name; e++) {
			strncat(names, e->name, sizeof(names) - strlen(names) - 1);
			if (e[1].name)
				strncat(names, e[2].name ? ", " : " or ",
					sizeof(names) - strlen(names) - 1);
		}
		pr_warn("%s: %s '%s': use %s\n", cmd->name, o->name, v, names);
		return -1;
	}
	case CLI_UINT:
	case CLI_POW2:
		if (whole(v, &x, &end) || *end || x < o->lo || x > o->hi) {
			warn_range(cmd, o, v);
			return -1;
		}
		if (o->type == CLI_POW2 && !is_pow2(x)) {
			/* an option's own wording covers every refusal of it */
			if (o->want)
				warn_range(cmd, o, v);
			else
				pr_warn("%s: %s %s: must be a power of two (%lu-%lu)\n", cmd->name,
					o->name, v, o->lo, o->hi);
			return -1;
		}
		store_uint(p, o->size, (unsigned long long)x * (o->scale ? o->scale : 1));
		return 0;
	case CLI_SIZE:
		if (parse_size(o, v, &x)) {
			if (o->want)
				pr_warn("%s: %s '%s': want %s\n", cmd->name, o->name, v, o->want);
			else
				pr_warn("%s: %s '%s': want a number from %lu to %lu, or bytes with "
					"B, KiB, MiB, GiB (%lu bytes a unit)\n",
					cmd->name, o->name, v, o->lo, o->hi, o->scale);
			return -1;
		}
		store_uint(p, o->size, x);
		return 0;
	case CLI_SECONDS: {
		double d;

		errno = 0;
		d = strtod(v, &end);
		if (errno || end == v || *end || !(d > 0) || d > (double)o->hi) {
			if (o->want)
				pr_warn("%s: %s '%s': want %s\n", cmd->name, o->name, v, o->want);
			else
				pr_warn("%s: %s '%s': want a number of seconds above 0, at most "
					"%lu\n",
					cmd->name, o->name, v, o->hi);
			return -1;
		}
		memcpy(p, &d, sizeof(d));
		return 0;
	}
	case CLI_DOUBLE: {
		double d;

		/* strtod's syntax, as the options of this type have always taken */
		errno = 0;
		d = strtod(v, &end);
		if (errno || end == v || *end || !(d >= o->dlo) || d > o->dhi) {
			if (o->want)
				warn_range(cmd, o, v);
			else
				pr_warn("%s: %s%s%s '%s': want a number from %g to %g\n", cmd->name,
					o->name, o->unit ? " " : "", o->unit ? o->unit : "", v,
					o->dlo, o->dhi);
			return -1;
		}
		if ((o->flags & CLI_WHOLE) && d != floor(d)) {
			pr_warn("%s: %s '%s': want a whole number\n", cmd->name, o->name, v);
			return -1;
		}
		if (o->check && o->check(cmd, o, v))
			return -1;
		if (o->flags & CLI_AS_UINT)
			store_uint(p, o->size, (unsigned long long)d);
		else
			memcpy(p, &d, sizeof(d));
		return 0;
	}
	case CLI_LIST: {
		unsigned int *n = (unsigned int *)((char *)cfg + o->count_off);
		const char *eq = strchr(v, '=');

		if (*n >= o->max) {
			pr_warn("%s: at most %u %s %s\n", cmd->name, o->max, o->name,
				o->what ? o->what : "options");
			return -1;
		}
		if ((o->flags & CLI_PAIR) && (!eq || eq == v || !eq[1])) {
			pr_warn("%s: %s '%s': want %s\n", cmd->name, o->name, v, o->arg);
			return -1;
		}
		if (o->check && o->check(cmd, o, v))
			return -1;
		((const char **)p)[(*n)++] = v;
		return 0;
	}
	}
	return -1;
}

/* The backend the line picked (its name), or NULL when the command has none. */
static const char *chosen_backend(const struct cli_cmd *cmd, const void *cfg)
{
	const struct cli_opt *o;
	int v;

	if (!cmd->backend_opt)
		return NULL;
	o = cli_find(cmd, cmd->backend_opt, strlen(cmd->backend_opt));
	if (!o || o->type != CLI_ENUM)
		return NULL;
	memcpy(&v, (const char *)cfg + o->off, sizeof(v));
	for (const struct cli_enum *e = o->vals; e->name; e++)
		if (e->value == v)
			return e->name;
	return NULL;
}

int cli_parse(const struct cli_cmd *cmd, int argc, char **argv, void *cfg, const char **pos,
	      cli_given_t *given)
{
	cli_given_t seen = 0;
	const char *be;
	int n = 0;

	for (const struct cli_opt *o = cmd->opts; o && o->name; o++)
		if (o->def && set_value(cmd, o, o->def, cfg))
			return -1;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *val = NULL;
		const struct cli_opt *o;
		size_t len, bit;

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			cli_help(stdout, cmd);
			return 1;
		}
		if (a[0] != '-' || !a[1]) {
			if (n == cmd->npos) {
				if (cmd->extra && n) {
					char msg[512];

					snprintf(msg, sizeof(msg), cmd->extra, pos[n - 1], a);
					pr_warn("%s: %s\n", cmd->name, msg);
				} else if (cmd->unknown) {
					warn_unknown(cmd, a, strlen(a));
				} else {
					warn_hint(cmd, "unexpected argument", a, (int)strlen(a));
				}
				return -1;
			}
			pos[n++] = a;
			continue;
		}
		len = a[1] == '-' ? strcspn(a, "=") : strlen(a);
		o = a[1] == '-' ? cli_find(cmd, a, len) : NULL;
		if (!o) {
			if (cmd->unknown)
				warn_unknown(cmd, a, len);
			else
				warn_hint(cmd, "unknown option", a, (int)len);
			return -1;
		}
		bit = (size_t)(o - cmd->opts);
		if ((o->flags & CLI_ONCE) && (seen >> bit & 1)) {
			pr_warn("%s: %s given twice\n", cmd->name, o->name);
			return -1;
		}
		seen |= (cli_given_t)1 << bit;
		if (o->type == CLI_FLAG) {
			if (a[len] == '=') {
				pr_warn("%s: %s takes no value\n", cmd->name, o->name);
				return -1;
			}
			set_value(cmd, o, NULL, cfg);
			continue;
		}
		if (a[len] == '=')
			val = a + len + 1;
		else if (i + 1 < argc)
			val = argv[++i];
		if (!val) {
			char msg[96];

			snprintf(msg, sizeof(msg), "%s needs a value", o->name);
			warn_hint_plain(cmd, msg);
			return -1;
		}
		if (set_value(cmd, o, val, cfg))
			return -1;
	}
	if (n < cmd->npos) {
		if (cmd->missing) {
			pr_warn("%s: %s\n", cmd->name, cmd->missing);
		} else {
			char msg[96];

			snprintf(msg, sizeof(msg), "missing %s", cmd->pos_names[n]);
			warn_hint_plain(cmd, msg);
		}
		return -1;
	}
	for (const struct cli_opt *o = cmd->opts; o && o->name; o++) {
		char arg[160], msg[256];

		if (!(o->flags & CLI_REQUIRED) || (seen >> (o - cmd->opts) & 1))
			continue;
		if (cmd->missing) {
			pr_warn("%s: %s\n", cmd->name, cmd->missing);
			return -1;
		}
		cli_arg_text(o, arg, sizeof(arg));
		snprintf(msg, sizeof(msg), "missing %s%s%s", o->name, arg[0] ? " " : "", arg);
		warn_hint_plain(cmd, msg);
		return -1;
	}
	be = chosen_backend(cmd, cfg);
	for (const struct cli_opt *o = cmd->opts; be && o && o->name; o++) {
		if (!(seen >> (o - cmd->opts) & 1) || cli_applies(o, be))
			continue;
		pr_warn("%s: %s does not apply to %s %s (it is for %s)\n", cmd->name, o->name,
			cmd->backend_opt, be, o->backends);
		return -1;
	}
	if (given)
		*given = seen;
	return 0;
}

/* --- text ----------------------------------------------------------------------------------- */

struct wrap {
	FILE *f;
	int col, width, indent;
	int fresh; /* nothing on the line yet but the indent */
};

static void wrap_newline(struct wrap *w)
{
	fprintf(w->f, "\n%*s", w->indent, "");
	w->col = w->indent;
	w->fresh = 1;
}

static void wrap_word(struct wrap *w, const char *s, size_t len)
{
	if (!w->fresh && w->col + 1 + (int)len > w->width)
		wrap_newline(w);
	if (!w->fresh) {
		fputc(' ', w->f);
		w->col++;
	}
	fwrite(s, 1, len, w->f);
	w->col += (int)len;
	w->fresh = 0;
}

static void wrap_str(struct wrap *w, const char *s)
{
	wrap_word(w, s, strlen(s));
}

/* Words of text, filled to the width. */
static void wrap_text(struct wrap *w, const char *text)
{
	while (*text) {
		size_t n;

		text += strspn(text, " \n");
		n = strcspn(text, " \n");
		if (n)
			wrap_word(w, text, n);
		text += n;
	}
}

static void opt_token(const struct cli_opt *o, char *buf, size_t len)
{
	char arg[160];

	cli_arg_text(o, arg, sizeof(arg));
	if (o->flags & CLI_REQUIRED)
		snprintf(buf, len, "%s%s%s", o->name, arg[0] ? " " : "", arg);
	else
		snprintf(buf, len, "[%s%s%s]%s", o->name, arg[0] ? " " : "", arg,
			 o->type == CLI_LIST ? "..." : "");
}

void cli_usage(FILE *f, const struct cli_cmd *cmd, int width, int indent)
{
	struct wrap w = { f, 0, width, indent, 1 };
	char tok[256];

	wrap_str(&w, cmd->name);
	if (cmd->pos && cmd->pos[0])
		wrap_str(&w, cmd->pos);
	for (const struct cli_opt *o = cmd->opts; o && o->name; o++) {
		if (o->backends)
			continue;
		opt_token(o, tok, sizeof(tok));
		wrap_str(&w, tok);
	}
	/* Backend options: one line per set of backends, in table order. */
	for (const struct cli_opt *o = cmd->opts; o && o->name; o++) {
		const struct cli_opt *p;
		char head[128];
		size_t k = 0;

		if (!o->backends)
			continue;
		for (p = cmd->opts; p != o; p++)
			if (p->backends && !strcmp(p->backends, o->backends))
				break;
		if (p != o)
			continue; /* that set has its line already */
		for (const char *s = o->backends; *s && k + 3 < sizeof(head); s++) {
			if (*s == ' ') {
				head[k++] = ',';
				head[k++] = ' ';
			} else {
				head[k++] = *s;
			}
		}
		head[k++] = ':';
		head[k] = '\0';
		w.indent = indent;
		wrap_newline(&w);
		wrap_str(&w, head);
		w.indent = indent + 2;
		for (p = o; p->name; p++) {
			if (!p->backends || strcmp(p->backends, o->backends))
				continue;
			opt_token(p, tok, sizeof(tok));
			wrap_str(&w, tok);
		}
	}
}

/* The help of o with its default and backends, in one string. */
static void opt_help_text(const struct cli_opt *o, char *buf, size_t len)
{
	size_t k;

	snprintf(buf, len, "%s", o->help ? o->help : "");
	k = strlen(buf);
	if (o->def && !(o->flags & CLI_HIDDEN_DEFAULT) && k < len)
		k += (size_t)snprintf(buf + k, len - k, " (default %s)", o->def);
	if (o->backends && k < len) {
		k += (size_t)snprintf(buf + k, len - k, " [");
		for (const char *s = o->backends; *s && k + 3 < len; s++) {
			if (*s == ' ') {
				buf[k++] = ',';
				buf[k++] = ' ';
			} else {
				buf[k++] = *s;
			}
		}
		if (k + 2 < len) {
			buf[k++] = ']';
			buf[k] = '\0';
		}
	}
	if (o->type == CLI_LIST && k < len)
		snprintf(buf + k, len - k, " (repeatable, at most %u)", o->max);
}

/* The next paragraph of a command's notes (they are separated by blank
 * lines) into para; *p moves past it. False when none is left. */
static bool notes_next(const char **p, char *para, size_t len)
{
	const char *end;
	size_t n;

	if (!*p || !**p)
		return false;
	end = strstr(*p, "\n\n");
	n = end ? (size_t)(end - *p) : strlen(*p);
	snprintf(para, len, "%.*s", (int)n, *p);
	*p += n;
	*p += strspn(*p, "\n");
	return true;
}

void cli_help(FILE *f, const struct cli_cmd *cmd)
{
	char para[2048];

	fputs("usage: feedgate ", f);
	cli_usage(f, cmd, 96, 15);
	fputc('\n', f);
	if (!cmd->opts || !cmd->opts[0].name)
		return;
	fputs("\noptions:\n", f);
	for (const struct cli_opt *o = cmd->opts; o->name; o++) {
		struct wrap w = { f, 0, 96, 30, 1 };
		char arg[160], left[200], help[512];

		cli_arg_text(o, arg, sizeof(arg));
		snprintf(left, sizeof(left), "%s%s%s", o->name, arg[0] ? " " : "", arg);
		opt_help_text(o, help, sizeof(help));
		if (strlen(left) > 26)
			fprintf(f, "  %s\n%30s", left, "");
		else
			fprintf(f, "  %-26s  ", left);
		w.col = 30;
		wrap_text(&w, help);
		fputc('\n', f);
	}
	for (const char *p = cmd->notes; notes_next(&p, para, sizeof(para));) {
		struct wrap w = { f, 0, 96, 0, 1 };

		fputc('\n', f);
		wrap_text(&w, para);
		fputc('\n', f);
	}
}

void cli_man_text(FILE *f, const char *s)
{
	int bol = 1;

	for (; *s; s++) {
		if (bol && (*s == '.' || *s == '\''))
			fputs("\\&", f);
		if (*s == '\\')
			fputs("\\e", f);
		else if (*s == '-')
			fputs("\\-", f);
		else
			fputc(*s, f);
		bol = *s == '\n';
	}
}

void cli_man_opt(FILE *f, const struct cli_opt *o)
{
	char arg[160];

	cli_arg_text(o, arg, sizeof(arg));
	fputs("\\fB", f);
	cli_man_text(f, o->name);
	fputs("\\fR", f);
	if (arg[0]) {
		fputs(" \\fI", f);
		cli_man_text(f, arg);
		fputs("\\fR", f);
	}
}

void cli_man_options(FILE *f, const struct cli_cmd *cmd)
{
	for (const struct cli_opt *o = cmd->opts; o && o->name; o++) {
		char help[512];

		opt_help_text(o, help, sizeof(help));
		fputs(".TP\n", f);
		cli_man_opt(f, o);
		fputc('\n', f);
		cli_man_text(f, help);
		fputc('\n', f);
	}
}

void cli_man_notes(FILE *f, const struct cli_cmd *cmd)
{
	char para[2048];

	for (const char *p = cmd->notes; notes_next(&p, para, sizeof(para));) {
		fputs(".PP\n", f);
		cli_man_text(f, para);
		fputc('\n', f);
	}
}
