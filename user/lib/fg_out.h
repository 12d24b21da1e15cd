/* SPDX-License-Identifier: MIT */
/*
 * A line-oriented output that several threads share without tearing a line
 * and that never claims more than it holds (`run --decode`, `replay
 * --decode`, JSON on standard output).
 *
 * Each thread writes through a stdio FILE of its own (fg_out_stream); the
 * FILE hands its buffer to the output in whole lines only, and the output
 * writes each block of whole lines with one write() under a mutex (the
 * blocks go out in one system call each anyway; the mutex only orders the
 * threads). Every write is checked. On a failure (ENOSPC, EIO, EFBIG, EPIPE,
 * a short write) the output stops: a regular file is cut back to its last
 * whole line, the lines not written are counted as lost from then on, the
 * FILEs keep accepting (so the run's other work goes on), and
 * fg_out_result() says which file, how many lines went out whole, how many
 * were lost and why. Standard output closed by its reader (EPIPE, with
 * SIGPIPE ignored) is reported as closed, which `feedgate run` takes as the
 * end of the run.
 */
#ifndef FG_OUT_H
#define FG_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct fg_out;

struct fg_out_result {
	const char *path; /* as given; "-" is standard output */
	uint64_t lines; /* written whole */
	uint64_t lost; /* not written (after a failure) */
	uint64_t bytes;
	int err; /* 0, or the errno of the failure (EPIPE: the reader went away) */
};

/* path "-": standard output. 0, or -errno with a line in err (nothing opened). */
int fg_out_open(const char *path, struct fg_out **out, char *err, size_t errlen);
/* A FILE for one thread (fclose it, or fg_out_close does); NULL on ENOMEM. */
FILE *fg_out_stream(struct fg_out *o);
/* Flush and close every stream, then the file (standard output is flushed, not closed). */
void fg_out_close(struct fg_out *o);
/* Has a write failed? (any thread) */
bool fg_out_failed(const struct fg_out *o);
/* The counts so far (any thread; final after fg_out_close, until fg_out_free). */
void fg_out_result(const struct fg_out *o, struct fg_out_result *r);
void fg_out_free(struct fg_out *o);
/* One line for people: "F: 1234 lines written whole, 56 lost: No space left on device". */
void fg_out_describe(const struct fg_out_result *r, char *buf, size_t len);

#endif /* FG_OUT_H */
