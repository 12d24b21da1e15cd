// SPDX-License-Identifier: MIT
/*
 * What several subcommands check the same way (commands.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "fg_log.h"

int cli_symbols_check(const char *cmd, const char *v)
{
	char upper[128];
	size_t n = strlen(v), k = 0;
	const char *s = v;

	if (!n || strspn(v, " ,\t") == n) {
		pr_warn("%s: --symbols '%s': no symbol given (leave the option out to take every "
			"symbol)\n",
			cmd, v);
		return -1;
	}
	for (;;) {
		const char *e = strchr(s, ',');
		size_t len = e ? (size_t)(e - s) : strlen(s);

		while (len && (*s == ' ' || *s == '\t')) {
			s++;
			len--;
		}
		while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
			len--;
		if (!len || len > 8) {
			pr_warn("%s: --symbols '%s': want symbols of 1 to 8 characters, separated "
				"by "
				"commas\n",
				cmd, v);
			return -1;
		}
		for (size_t i = 0; i < len; i++) {
			if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] > '~') {
				pr_warn("%s: --symbols: byte 0x%02x is not a symbol character\n",
					cmd, (unsigned char)s[i]);
				return -1;
			}
		}
		if (!e)
			break;
		s = e + 1;
	}
	for (s = v; *s && k + 1 < sizeof(upper); s++)
		upper[k++] = (char)toupper((unsigned char)*s);
	upper[k] = '\0';
	if (strcmp(upper, v)) {
		/* ITCH writes every symbol in capitals: "meta" would select nothing. */
		pr_warn("%s: --symbols '%s': ITCH symbols are upper case (did you mean '%s'?)\n",
			cmd, v, upper);
		return -1;
	}
	return 0;
}

int cli_symbols_opt(const struct cli_cmd *cmd, const struct cli_opt *o, const char *v)
{
	(void)o;
	return cli_symbols_check(cmd->name, v);
}

const char *cli_input_flag(enum fg_input in)
{
	switch (in) {
	case FG_INPUT_SRC:
		return "--src";
	case FG_INPUT_ACTION:
		return "--action";
	case FG_INPUT_FEED:
		return "--feed";
	case FG_INPUT_XDP_MODE:
		return "--mode";
	case FG_INPUT_STAMP:
		return "--stamp";
	case FG_INPUT_ZEROCOPY:
		return "--zero-copy";
	case FG_INPUT_NONE:
	case FG_INPUT_GROUP:
	case FG_INPUT_FEEDS:
		break;
	}
	return NULL;
}

/* What a user can do about a refusal the library blames on an input. */
static const char *cli_input_advice(enum fg_input in)
{
	switch (in) {
	case FG_INPUT_XDP_MODE:
		return "; try '--mode skb'";
	case FG_INPUT_STAMP:
		return "; use --stamp auto, head or none";
	case FG_INPUT_ZEROCOPY:
		return " (use --zero-copy auto or off)";
	case FG_INPUT_FEEDS:
		return ": add rules with --action pass (feedgate rule add)";
	default:
		return "";
	}
}

void cli_warn_blame(const struct fg_blame *b)
{
	if (b->input != FG_INPUT_NONE)
		pr_warn("%s%s\n", b->msg, cli_input_advice(b->input));
}
