/* SPDX-License-Identifier: MIT */
/*
 * Included first when bench/book.mk compiles an earlier revision of
 * user/lib/fg_book.c for bench/book_diff.c: every public name of the book
 * gets an old_ prefix, so that both implementations link into one program.
 * The current header comes first, under the real names: its prototypes are
 * the current API (fg_books_new() returns 0 or -errno since), which the old
 * definitions, renamed, need not match.
 */
#include "feedgate/book.h"

#define fg_books old_fg_books
#define fg_books_new old_fg_books_new
#define fg_books_free old_fg_books_free
#define fg_books_memory old_fg_books_memory
#define fg_books_get_stats old_fg_books_get_stats
#define fg_books_apply old_fg_books_apply
#define fg_books_apply_batch old_fg_books_apply_batch
#define fg_books_prefetch old_fg_books_prefetch
#define fg_books_top old_fg_books_top
#define fg_books_bbo old_fg_books_bbo
#define fg_books_locate_of old_fg_books_locate_of
#define fg_books_symbol old_fg_books_symbol
#define fg_books_order old_fg_books_order
#define fg_books_level_orders old_fg_books_level_orders

/* Called by the old code before its definition: declared again, under the old name. */
struct fg_books;
void fg_books_free(struct fg_books *b);
