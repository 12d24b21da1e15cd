// SPDX-License-Identifier: MIT
/*
 * JSON strings from arbitrary bytes (see fg_json.h).
 */
#include <stdint.h>
#include <string.h>

#include "fg_json.h"

/* Length of the valid UTF-8 sequence at p (at most left bytes), 0 if none. */
static size_t utf8_len(const unsigned char *p, size_t left)
{
	size_t n;
	uint32_t cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (n > left)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	/* overlong forms, surrogates and beyond U+10FFFF are not valid UTF-8 */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

void fg_json_strn(FILE *f, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;

	fputc('"', f);
	while (p < end) {
		size_t l;

		if (*p == '"' || *p == '\\') {
			fputc('\\', f);
			fputc(*p++, f);
		} else if (*p < 0x20 || *p == 0x7f) {
			fprintf(f, "\\u%04x", *p++);
		} else if ((l = utf8_len(p, (size_t)(end - p)))) {
			fwrite(p, 1, l, f);
			p += l;
		} else {
			fprintf(f, "\\udc%02x", *p++);
		}
	}
	fputc('"', f);
}

void fg_json_str(FILE *f, const char *s)
{
	if (!s)
		fputs("null", f);
	else
		fg_json_strn(f, s, strlen(s));
}
