// SPDX-License-Identifier: GPL-2.0
#include "hooks.h"

/*
 * The union of hook points over the kernels we support: exactly the functions
 * bpf/gupwatch.bpf.c hooks (a unit test holds the two together). A kernel has
 * a subset of them out of line; the rest are inlined or do not exist there,
 * and the tracer does not load those (doc/kernel.md, "Kernel facts by
 * version"). Not hooked because a hooked caller covers them: wp_page_copy (6.1, tail-called by do_wp_page),
 * copy_hugetlb_page_range (called inside copy_page_range), the unpin_*()
 * wrappers of one page (they end in gup_put_folio on 6.1 and 6.12; the
 * many-page ones frame a batch of unpins).
 * Not covered: kernels that inline gup_put_folio into unpin_user_page,
 * unpin_folio, unpin_user_folio, or try_grab_folio into memfd_pin_folios and
 * folio_add_pins (the 6.18 host build; doc/kernel.md, "Pins" and "Unpins").
 */
const struct hook hooks[] = {
	/* In attach order: what ends or frames an event attaches before what starts
	 * one, so that no pin is seen whose unpin could be missed (a pin taken while
	 * gup_put_folio was not yet hooked would look held forever), no GUP-fast
	 * undo is seen outside its window, no copy signal outside its fault. */
	{ "gup_put_folio",             ROLE_UNPIN,     "6.1 6.12 6.18" },
	{ "unpin_user_pages",          ROLE_UNPIN_CALL, "6.1 6.12 6.18" },
	{ "unpin_user_pages_dirty_lock", ROLE_UNPIN_CALL, "6.1 6.12 6.18" },
	{ "unpin_user_page_range_dirty_lock", ROLE_UNPIN_CALL, "6.1 6.12 6.18" },
	{ "unpin_folios",              ROLE_UNPIN_CALL, "6.12 6.18" },
	{ "internal_get_user_pages_fast", ROLE_GUP_FAST, "6.1" },
	{ "gup_fast_fallback",         ROLE_GUP_FAST,  "6.12 6.18" },
	{ "__get_user_pages",          ROLE_GUP_SLOW,  "6.1 6.12 6.18" },
	{ "__gup_longterm_locked",     ROLE_PIN_CALL,  "6.1 6.12 6.18" },
	{ "migrate_pages",             ROLE_MIGRATE,   "6.1 6.12 6.18" },
	{ "do_wp_page",                ROLE_WP_FAULT,  "6.1 6.12 6.18" },
	{ "do_huge_pmd_wp_page",       ROLE_THP_FAULT, "6.1 6.12 6.18" },
	{ "hugetlb_wp",                ROLE_HUGETLB,   "6.1 6.12 6.18" },
	{ "copy_page_range",           ROLE_FORK,      "6.1 6.12 6.18" },
	{ "finish_fault",              ROLE_COW_FAULT, "6.1 6.12 6.18" },
	{ "page_add_new_anon_rmap",    ROLE_NEW_ANON,  "6.1" },
	{ "folio_add_new_anon_rmap",   ROLE_NEW_ANON,  "6.12 6.18" },
	{ "hugepage_add_new_anon_rmap", ROLE_HUGETLB,  "6.1" },
	{ "hugetlb_add_new_anon_rmap", ROLE_HUGETLB,   "6.12 6.18" },
	{ "try_grab_folio",            ROLE_PIN,       "6.1 6.12 6.18" },
	{ "try_grab_page",             ROLE_PIN,       "6.1" },
	{ "try_grab_folio_fast",       ROLE_PIN,       "6.12 6.18" },
	{ "folio_add_pin",             ROLE_PIN,       "6.12 6.18" },
};
const int nr_hooks = sizeof(hooks) / sizeof(hooks[0]);

const char *hook_role_name(enum hook_role role)
{
	static const char *const names[ROLE__COUNT] = {
		[ROLE_PIN] = "pin",
		[ROLE_UNPIN] = "unpin",
		[ROLE_UNPIN_CALL] = "unpin-call",
		[ROLE_PIN_CALL] = "pin-call",
		[ROLE_MIGRATE] = "migrate",
		[ROLE_GUP_FAST] = "gup-fast",
		[ROLE_GUP_SLOW] = "gup-slow",
		[ROLE_WP_FAULT] = "wp-fault",
		[ROLE_NEW_ANON] = "cow-copy",
		[ROLE_THP_FAULT] = "thp-fault",
		[ROLE_COW_FAULT] = "cow-fault",
		[ROLE_HUGETLB] = "hugetlb",
		[ROLE_FORK] = "fork-copy",
	};
	return role < ROLE__COUNT ? names[role] : "?";
}

bool hook_role_optional(enum hook_role role)
{
	/* unpin calls only batch unpins gup_put_folio sees anyway; without pin calls
	 * only failed pins go unseen, without migrate only failed migrations */
	return role == ROLE_UNPIN_CALL || role == ROLE_PIN_CALL || role == ROLE_MIGRATE;
}
