// SPDX-License-Identifier: MIT
/*
 * Line-atomic, checked output shared by threads (see fg_out.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "fg_out.h"

#define FG_OUT_MAX_STREAMS 128

struct stream {
	struct fg_out *o;
	char *pend; /* a line begun but not ended */
	size_t npend, cap;
};

struct fg_out {
	pthread_mutex_t lock;
	char *path;
	int fd;
	bool own_fd; /* opened here: closed here */
	bool regular; /* can be cut back to its last whole line */
	off_t off; /* where the next byte goes (regular files) */
	uint64_t lines, lost, bytes;
	int err; /* atomic: set once */
	unsigned int nstreams;
	FILE *streams[FG_OUT_MAX_STREAMS];
};

static uint64_t count_lines(const char *b, size_t n)
{
	uint64_t k = 0;

	for (const char *p = b; (p = memchr(p, '\n', n - (size_t)(p - b))); p++)
		k++;
	return k;
}

/* Write a block of whole lines; on failure cut back and stop. Under o->lock. */
static void out_block(struct fg_out *o, const char *b, size_t n)
{
	size_t done = 0;
	uint64_t nl = count_lines(b, n);

	if (o->err) {
		o->lost += nl;
		return;
	}
	while (done < n) {
		ssize_t w = write(o->fd, b + done, n - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			/* Nothing more goes out. Of this block, the lines that got
			 * out whole count; a cut one is taken back off the file. */
			const char *last = done ? memrchr(b, '\n', done) : NULL;
			size_t whole = last ? (size_t)(last - b) + 1 : 0;
			uint64_t ok = count_lines(b, whole);

			__atomic_store_n(&o->err, w < 0 ? errno : ENOSPC, __ATOMIC_RELEASE);
			/* A cut line is taken back off a file; if even that fails,
			 * the lost count still says the truth. */
			if (o->regular && whole < done)
				(void)!ftruncate(o->fd, o->off + (off_t)whole);
			o->off += (off_t)whole;
			o->lines += ok;
			o->bytes += whole;
			o->lost += nl - ok;
			return;
		}
		done += (size_t)w;
	}
	o->off += (off_t)n;
	o->lines += nl;
	o->bytes += n;
}

static ssize_t stream_write(void *cookie, const char *buf, size_t size)
{
	struct stream *s = cookie;
	struct fg_out *o = s->o;
	const char *last = memrchr(buf, '\n', size);
	size_t head;

	if (!last) {
		/* no line ends here: keep it for the next call */
		if (s->npend + size > s->cap) {
			size_t cap = (s->npend + size) * 2;
			char *p = realloc(s->pend, cap);

			if (!p)
				return -1;
			s->pend = p;
			s->cap = cap;
		}
		memcpy(s->pend + s->npend, buf, size);
		s->npend += size;
		return (ssize_t)size;
	}
	head = (size_t)(last - buf) + 1;
	pthread_mutex_lock(&o->lock);
	if (s->npend) {
		/* the line begun earlier ends in this buffer: one block with it */
		char *p = s->npend + head > s->cap ? realloc(s->pend, s->npend + head) : s->pend;

		if (!p) {
			pthread_mutex_unlock(&o->lock);
			return -1;
		}
		if (p != s->pend)
			s->cap = s->npend + head;
		s->pend = p;
		memcpy(s->pend + s->npend, buf, head);
		out_block(o, s->pend, s->npend + head);
		s->npend = 0;
	} else {
		out_block(o, buf, head);
	}
	pthread_mutex_unlock(&o->lock);
	if (head < size) {
		if (size - head > s->cap) {
			char *p = realloc(s->pend, size - head);

			if (!p)
				return -1;
			s->pend = p;
			s->cap = size - head;
		}
		memcpy(s->pend, buf + head, size - head);
		s->npend = size - head;
	}
	/* Always taken: a failure is the output's, counted, not stdio's. */
	return (ssize_t)size;
}

static int stream_close(void *cookie)
{
	struct stream *s = cookie;

	if (s->npend) {
		/* a last line without its newline: never written half */
		pthread_mutex_lock(&s->o->lock);
		s->o->lost++;
		pthread_mutex_unlock(&s->o->lock);
	}
	free(s->pend);
	free(s);
	return 0;
}

int fg_out_open(const char *path, struct fg_out **out, char *err, size_t errlen)
{
	struct fg_out *o = calloc(1, sizeof(*o));
	struct stat st;

	*out = NULL;
	if (!o || !(o->path = strdup(path))) {
		free(o);
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	pthread_mutex_init(&o->lock, NULL);
	if (!strcmp(path, "-")) {
		fflush(stdout);
		o->fd = STDOUT_FILENO;
	} else {
		o->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (o->fd < 0) {
			int e = errno;

			snprintf(err, errlen, "Couldn't open '%s': %s", path, strerror(e));
			free(o->path);
			free(o);
			return -e;
		}
		o->own_fd = true;
	}
	if (!fstat(o->fd, &st) && S_ISREG(st.st_mode)) {
		o->regular = true;
		o->off = lseek(o->fd, 0, SEEK_CUR);
		if (o->off < 0)
			o->off = 0;
	}
	*out = o;
	return 0;
}

FILE *fg_out_stream(struct fg_out *o)
{
	cookie_io_functions_t io = { .write = stream_write, .close = stream_close };
	struct stream *s;
	FILE *f;

	if (o->nstreams == FG_OUT_MAX_STREAMS)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->o = o;
	f = fopencookie(s, "w", io);
	if (!f) {
		free(s);
		return NULL;
	}
	/* Whole 64 KiB blocks: few system calls, and lines never split by
	 * stdio across two of them without the output knowing. */
	setvbuf(f, NULL, _IOFBF, 1 << 16);
	o->streams[o->nstreams++] = f;
	return f;
}

void fg_out_close(struct fg_out *o)
{
	if (!o)
		return;
	for (unsigned int i = 0; i < o->nstreams; i++)
		fclose(o->streams[i]);
	o->nstreams = 0;
	if (o->own_fd) {
		if (!o->err && close(o->fd))
			__atomic_store_n(&o->err, errno, __ATOMIC_RELEASE);
		else if (o->err)
			close(o->fd);
		o->own_fd = false;
	}
	o->fd = -1;
}

bool fg_out_failed(const struct fg_out *o)
{
	return __atomic_load_n(&o->err, __ATOMIC_ACQUIRE) != 0;
}

void fg_out_result(const struct fg_out *o, struct fg_out_result *r)
{
	pthread_mutex_lock((pthread_mutex_t *)&o->lock);
	r->path = o->path;
	r->lines = o->lines;
	r->lost = o->lost;
	r->bytes = o->bytes;
	r->err = o->err;
	pthread_mutex_unlock((pthread_mutex_t *)&o->lock);
}

void fg_out_free(struct fg_out *o)
{
	if (!o)
		return;
	fg_out_close(o);
	pthread_mutex_destroy(&o->lock);
	free(o->path);
	free(o);
}

void fg_out_describe(const struct fg_out_result *r, char *buf, size_t len)
{
	const char *name = strcmp(r->path, "-") ? r->path : "standard output";

	if (!r->err)
		snprintf(buf, len, "%s: %llu lines written", name, (unsigned long long)r->lines);
	else if (r->err == EPIPE)
		snprintf(buf, len,
			 "%s: closed by its reader after %llu whole lines (%llu not written)", name,
			 (unsigned long long)r->lines, (unsigned long long)r->lost);
	else
		snprintf(buf, len, "%s: write failed: %s: %llu lines written whole, %llu lost",
			 name, strerror(r->err), (unsigned long long)r->lines,
			 (unsigned long long)r->lost);
}
