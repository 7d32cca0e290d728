// SPDX-License-Identifier: GPL-2.0
/*
 * gwpin - a test pin "device" for gupwatch's guest tests.
 *
 * Pins pages of the calling process with pin_user_pages() or
 * pin_user_pages_fast() -- R/O or R/W, long-term or not -- keeps them until
 * GWPIN_UNPIN or close(), and lets user space read what the device sees
 * through a pinned page.  This gives the tests the one kind of pin nothing
 * user-reachable takes on Debian's 6.1 (no CONFIG_GUP_TEST): a read-only
 * FOLL_LONGTERM pin.  The interface is in gwpin.h.
 *
 * Test-only: a pinned range is at most GWPIN_MAX_PAGES pages per open file,
 * and the device node is root-only.
 */
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/version.h>

#include "gwpin.h"

struct gwpin_ctx {
	struct mutex lock;	/* protects everything below */
	struct page **pages;	/* NULL: nothing pinned */
	unsigned int npages;
};

static int gwpin_open(struct inode *inode, struct file *file)
{
	struct gwpin_ctx *c = kzalloc(sizeof(*c), GFP_KERNEL);

	if (!c)
		return -ENOMEM;
	mutex_init(&c->lock);
	file->private_data = c;
	return 0;
}

/* Caller holds c->lock. */
static void gwpin_unpin_locked(struct gwpin_ctx *c)
{
	unpin_user_pages(c->pages, c->npages);
	kfree(c->pages);
	c->pages = NULL;
	c->npages = 0;
}

static long gwpin_do_pin(struct gwpin_ctx *c, void __user *arg)
{
	struct gwpin_pin p;
	unsigned int gup = 0;
	struct page **pages;
	long n;

	if (copy_from_user(&p, arg, sizeof(p)))
		return -EFAULT;
	if ((p.flags & ~GWPIN_F_ALL) || !p.npages || p.npages > GWPIN_MAX_PAGES ||
	    offset_in_page(p.addr))
		return -EINVAL;
	if (p.flags & GWPIN_F_WRITE)
		gup |= FOLL_WRITE;
	if (p.flags & GWPIN_F_LONGTERM)
		gup |= FOLL_LONGTERM;
	pages = kcalloc(p.npages, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return -ENOMEM;

	mutex_lock(&c->lock);
	if (c->pages) {
		n = -EBUSY;
		goto out;
	}
	if (p.flags & GWPIN_F_FAST) {
		n = pin_user_pages_fast(p.addr, p.npages, gup, pages);
	} else {
		if (mmap_read_lock_killable(current->mm)) {
			n = -EINTR;
			goto out;
		}
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 5, 0)
		n = pin_user_pages(p.addr, p.npages, gup, pages, NULL);
#else
		n = pin_user_pages(p.addr, p.npages, gup, pages);
#endif
		mmap_read_unlock(current->mm);
	}
	if (n < 0)
		goto out;
	if (n != p.npages) {
		unpin_user_pages(pages, n);
		n = -EFAULT;
		goto out;
	}
	c->pages = pages;
	c->npages = p.npages;
	pages = NULL;
	p.first_pfn = page_to_pfn(c->pages[0]);
	n = 0;
out:
	mutex_unlock(&c->lock);
	kfree(pages);
	if (!n && copy_to_user(arg, &p, sizeof(p)))
		return -EFAULT;	/* still pinned: GWPIN_UNPIN or close() releases */
	return n;
}

static long gwpin_do_read(struct gwpin_ctx *c, void __user *arg)
{
	struct gwpin_read r;
	void *bounce, *src;
	long ret = 0;

	if (copy_from_user(&r, arg, sizeof(r)))
		return -EFAULT;
	if (r.len > PAGE_SIZE)
		return -EINVAL;
	bounce = kmalloc(PAGE_SIZE, GFP_KERNEL);
	if (!bounce)
		return -ENOMEM;

	mutex_lock(&c->lock);
	if (!c->pages)
		ret = -ENOENT;
	else if (r.index >= c->npages)
		ret = -EINVAL;
	if (!ret) {
		/* What a device doing DMA through the pinned page would see. */
		src = kmap_local_page(c->pages[r.index]);
		memcpy(bounce, src, r.len);
		kunmap_local(src);
		r.pfn = page_to_pfn(c->pages[r.index]);
	}
	mutex_unlock(&c->lock);

	if (!ret && (copy_to_user(u64_to_user_ptr(r.buf), bounce, r.len) ||
		     copy_to_user(arg, &r, sizeof(r))))
		ret = -EFAULT;
	kfree(bounce);
	return ret;
}

static long gwpin_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct gwpin_ctx *c = file->private_data;
	long ret = 0;

	switch (cmd) {
	case GWPIN_PIN:
		return gwpin_do_pin(c, (void __user *)arg);
	case GWPIN_READ:
		return gwpin_do_read(c, (void __user *)arg);
	case GWPIN_UNPIN:
		mutex_lock(&c->lock);
		if (c->pages)
			gwpin_unpin_locked(c);
		else
			ret = -ENOENT;
		mutex_unlock(&c->lock);
		return ret;
	default:
		return -ENOTTY;
	}
}

static int gwpin_release(struct inode *inode, struct file *file)
{
	struct gwpin_ctx *c = file->private_data;

	mutex_lock(&c->lock);
	if (c->pages)
		gwpin_unpin_locked(c);
	mutex_unlock(&c->lock);
	mutex_destroy(&c->lock);
	kfree(c);
	return 0;
}

static const struct file_operations gwpin_fops = {
	.owner = THIS_MODULE,
	.open = gwpin_open,
	.release = gwpin_release,
	.unlocked_ioctl = gwpin_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice gwpin_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "gwpin",
	.fops = &gwpin_fops,
	.mode = 0600,
};

module_misc_device(gwpin_dev);

MODULE_DESCRIPTION("gupwatch test pin device: FOLL_PIN user pages on request");
MODULE_LICENSE("GPL");
