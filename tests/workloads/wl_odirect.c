// SPDX-License-Identifier: GPL-2.0
/*
 * O_DIRECT workloads: one synchronous pwrite (odirect-write) or pread
 * (odirect-read) of --pages pages between an anon buffer and --dev, opened
 * O_RDWR|O_DIRECT at offset 0.  Meant for a null_blk device created with
 * irqmode=2 completion_nsec=<ns>, so that the I/O stays in flight for a
 * known time.  6.12+: the block layer pins the buffer (iov_iter_extract_pages
 * -> pin_user_pages_fast; FOLL_WRITE only for reads) and unpins at
 * completion.  6.1: iov_iter_get_pages2 -> FOLL_GET references, no pins.
 *
 * A helper thread sleeps --hold-ms after the I/O was started and then
 * samples the counters, i.e. --hold-ms must be well below completion_nsec.
 *   workload=odirect-write|odirect-read mem=M pages=N pin=ro|rw longterm=0 hold_ms=T no_hold=0|1 dev=PATH kernel=R
 *   phase=hold  acquired= released= outstanding= in_io=1|0 at_ms=MS
 *               in_io=1: the I/O syscall had not returned yet when the
 *               sample was complete; at_ms: sample time after I/O start
 *   phase=after acquired= released= outstanding= io_ms=MS bytes=B
 *               io_ms: duration of the pwrite/pread
 *   --no-hold: the hold sample is taken after the I/O returned (in_io=0).
 *   --no-hold --repeat N (N > 1): the I/O N times (make bench: IOPS); hold
 *   and after describe the last one, then
 *   phase=loop repeat=N loop_ms=MS loop_cpu_ms=MS   all N I/Os
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "gwload.h"

struct io_ctx {
	const struct opts *o;
	volatile int done;
	double t0;
};

static void hold_sample(struct io_ctx *c)
{
	double at;

	out_begin("phase", "hold");
	out_pins();
	at = now_ms() - c->t0;
	out_kv("in_io", "%d", !c->done);
	out_kv("at_ms", "%.1f", at);
	out_end();
}

static void *helper(void *arg)
{
	struct io_ctx *c = arg;

	sleep_ms(c->o->hold_ms);
	hold_sample(c);
	return NULL;
}

static int odirect(const struct opts *o, int write)
{
	struct io_ctx c = { .o = o };
	size_t len;
	char *buf = buf_map(o, &len);
	pthread_t thr;
	long repeat = o->no_hold && o->repeat > 1 ? o->repeat : 1, i;
	ssize_t n;
	double t1, c0, c1;
	int fd;

	if (!o->dev)
		die_msg("odirect", "--dev is required");
	buf_fill(buf, len, write ? 'w' : 'r');
	fd = open(o->dev, O_RDWR | O_DIRECT);
	if (fd < 0)
		die("open_dev");
	out_begin("workload", o->workload);
	out_kv("mem", "%s", mem_name(o->mem));
	out_kv("pages", "%ld", o->pages);
	out_kv("pin", "%s", write ? "ro" : "rw");
	out_kv("longterm", "0");
	out_kv("hold_ms", "%ld", o->hold_ms);
	out_kv("no_hold", "%d", o->no_hold);
	out_kv("dev", "%s", o->dev);
	out_kv("kernel", "%s", kernel_release());
	out_end();

	pins_baseline();
	c.t0 = now_ms();
	if (!o->no_hold && pthread_create(&thr, NULL, helper, &c))
		die("pthread_create");
	c0 = cpu_ms();
	for (i = 0, n = (ssize_t)len; i < repeat && n == (ssize_t)len; i++)
		n = write ? pwrite(fd, buf, len, 0) : pread(fd, buf, len, 0);
	c1 = cpu_ms();
	c.done = 1;
	t1 = now_ms();
	if (n != (ssize_t)len)
		die(write ? "pwrite" : "pread");
	if (o->no_hold)
		hold_sample(&c);
	else
		pthread_join(thr, NULL);
	out_begin("phase", "after");
	out_pins();
	out_kv("io_ms", "%.1f", t1 - c.t0);
	out_kv("bytes", "%zd", n);
	out_end();
	if (repeat > 1)
		out_loop(repeat, t1 - c.t0, c1 - c0);
	close(fd);
	return 0;
}

int wl_odirect_write(const struct opts *o)
{
	return odirect(o, 1);
}

int wl_odirect_read(const struct opts *o)
{
	return odirect(o, 0);
}
