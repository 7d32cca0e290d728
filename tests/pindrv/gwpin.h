/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * gwpin: a test "device" that FOLL_PIN-pins user pages on request and keeps
 * them, like a DMA-capable driver would (tests/pindrv/gwpin.c).  Shared by
 * the module and its user-space driver (tests/workloads/wl_pindrv.c).
 *
 * /dev/gwpin, one pinned range per open file:
 *   GWPIN_PIN    pin npages pages at addr (page aligned, 1..GWPIN_MAX_PAGES)
 *                of the caller's address space; flags choose R/W vs R/O,
 *                FOLL_LONGTERM, and pin_user_pages_fast() vs pin_user_pages().
 *                All or nothing: a partial pin is undone (EFAULT).  EBUSY if
 *                this file already holds a range.
 *   GWPIN_READ   copy up to a page of what the device sees through pinned
 *                page `index` (kmap of the pinned page) to buf; returns the
 *                pinned page's PFN.  ENOENT when nothing is pinned.
 *   GWPIN_UNPIN  unpin everything (ENOENT when nothing is pinned).
 * close() unpins whatever is still pinned.
 */
#ifndef GWPIN_H
#define GWPIN_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define GWPIN_MAX_PAGES 64

#define GWPIN_F_WRITE    0x1	/* FOLL_WRITE: the device may write (R/W pin) */
#define GWPIN_F_LONGTERM 0x2	/* FOLL_LONGTERM */
#define GWPIN_F_FAST     0x4	/* pin_user_pages_fast() instead of pin_user_pages() */
#define GWPIN_F_ALL      0x7

struct gwpin_pin {
	__u64 addr;	/* in: first page */
	__u32 npages;	/* in: page count */
	__u32 flags;	/* in: GWPIN_F_* */
	__u64 first_pfn;	/* out: PFN of the first pinned page */
};

struct gwpin_read {
	__u32 index;	/* in: page of the pinned range */
	__u32 len;	/* in: bytes to copy from the page's start, <= 4096 */
	__u64 buf;	/* in: user buffer */
	__u64 pfn;	/* out: PFN of the pinned page */
};

#define GWPIN_PIN   _IOWR('G', 0x40, struct gwpin_pin)
#define GWPIN_READ  _IOWR('G', 0x41, struct gwpin_read)
#define GWPIN_UNPIN _IO('G', 0x42)

#endif
