# SPDX-License-Identifier: GPL-2.0
# gupwatch — build, test, demo.
#   make              ./gupwatch and build/gwload for this machine
#   make STATIC=1     self-contained binaries in build/static/ (what guests run)
#   make check        the whole test suite: host unit tests + guest kernels
#   make demo         set up, build, and show gupwatch on a kernel that can attach
#   make vmtest       guest suite only (KERNELS="6.1 6.12" TESTS="...")
#   make bench        gupwatch's overhead next to bpftrace's (instruction-counted guests)
#   make bench-progs  instructions per run of each BPF program, per kernel and attach mode
#   make bench-replay engine and report speed replaying a synthetic recording (host only)
#   make soak         trace, record, top and daemon under a mixed storm, SOAK_SECONDS each (default 600)
#   make fuzz         libFuzzer on the report path and the engine (FUZZ_SECONDS=N each, default 60)
#   make vmlinux      regenerate vmlinux.h from a Debian kernel's BTF

CC       ?= gcc
CLANG    ?= clang
LLVM_STRIP ?= llvm-strip
BPFTOOL  ?= bpftool
PREFIX   ?= /usr/local
DESTDIR  ?=

CFLAGS   ?= -O2 -g
CFLAGS   += -Wall -Wextra -std=gnu11
CPPFLAGS += -Iinclude -D_GNU_SOURCE

ifeq ($(STATIC),1)
OUT      := build/static
LDFLAGS  += -static
# libdw.a's debuginfod client dlopens libdebuginfod.so: src/usyms.c stubs it out (see there).
CPPFLAGS += -DUSYMS_NO_DEBUGINFOD
else ifeq ($(SANITIZE),1)
# make SANITIZE=1: gupwatch and the unit tests under ASan and UBSan, in build/asan/
OUT      := build/asan
CFLAGS   += -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
LDFLAGS  += -fsanitize=address,undefined
else
OUT      := build
endif

LIBBPF_LIBS := $(shell pkg-config --static --libs libbpf 2>/dev/null || echo -lbpf -lelf -lz)
# elfutils libdwfl (src/usyms.c); --static: libdw.a also needs bzip2 and xz (compressed sections)
LIBDW_LIBS  := $(shell pkg-config --static --libs libdw 2>/dev/null || echo -ldw -lbz2 -lelf -lz -llzma -pthread)

# BPF objects: bpf/X.bpf.c -> $(OUT)/X.bpf.o -> $(OUT)/X.skel.h
BPF_SRCS  := $(wildcard bpf/*.bpf.c)
BPF_OBJS  := $(patsubst bpf/%.bpf.c,$(OUT)/%.bpf.o,$(BPF_SRCS))
BPF_SKELS := $(patsubst bpf/%.bpf.c,$(OUT)/%.skel.h,$(BPF_SRCS))
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -Iinclude -I.

# Correlation engine and other BPF-free code, shared by gupwatch and unit tests.
CORE_SRCS := $(filter-out src/main.c,$(wildcard src/*.c))
CORE_OBJS := $(patsubst src/%.c,$(OUT)/obj/%.o,$(CORE_SRCS))

WORKLOAD_SRCS := $(wildcard tests/workloads/*.c)
WORKLOAD_OBJS := $(patsubst tests/workloads/%.c,$(OUT)/obj/workloads/%.o,$(WORKLOAD_SRCS))

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUT)/unit/%,$(UNIT_SRCS))

.PHONY: all workloads deps check unit vmtest demo bench bench-progs bench-replay soak fuzz vmlinux install clean
.DELETE_ON_ERROR:
.SECONDARY:

ifneq ($(STATIC)$(SANITIZE),)
all: $(OUT)/gupwatch workloads
else
all: gupwatch workloads
gupwatch: $(OUT)/gupwatch
	cp $< $@
endif

workloads: $(OUT)/gwload $(OUT)/gwcaps

# DWARF is stripped (BTF stays): the skeleton embeds the object.
$(OUT)/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h include/*.h) vmlinux.h | $(OUT)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@
	$(LLVM_STRIP) -g $@

$(OUT)/%.skel.h: $(OUT)/%.bpf.o
	$(BPFTOOL) gen skeleton $< > $@

$(OUT)/obj/%.o: src/%.c $(wildcard src/*.h include/*.h) $(BPF_SKELS) | $(OUT)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -I$(OUT) $(CFLAGS) -c $< -o $@

$(OUT)/gupwatch: $(OUT)/obj/main.o $(CORE_OBJS)
	$(CC) $(LDFLAGS) $^ $(LIBDW_LIBS) $(LIBBPF_LIBS) -o $@

# Frame pointers: BPF walks user stacks by them (report names the workloads' functions).
$(OUT)/obj/workloads/%.o: tests/workloads/%.c $(wildcard tests/workloads/*.h) | $(OUT)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fno-omit-frame-pointer -Itests/workloads -c $< -o $@

$(OUT)/gwload: $(WORKLOAD_OBJS)
	$(CC) $(LDFLAGS) $^ -lpthread -o $@

# The guests run gupwatch with only the systemd unit's capabilities (test-daemon).
$(OUT)/gwcaps: tests/tools/gwcaps.c | $(OUT)
	$(CC) $(CFLAGS) $(LDFLAGS) $< -o $@

$(OUT):
	mkdir -p $@

$(OUT)/unit/%: tests/unit/%.c $(CORE_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Isrc -I$(OUT) $(CFLAGS) $(LDFLAGS) $^ $(LIBDW_LIBS) $(LIBBPF_LIBS) -lcmocka -o $@

deps:
	@scripts/deps.sh

unit: $(UNIT_BINS)
	@tests/run-unit.sh $(UNIT_BINS)

# Guests run the static binaries; the harness packs build/static/ into the initramfs.
vmtest:
	$(MAKE) STATIC=1 all
	tests/vm/run.sh

check: deps
	$(MAKE) all
	$(MAKE) STATIC=1 all
	$(MAKE) $(UNIT_BINS) build/gwgen build/gwbench $(FUZZ_TARGETS)
	$(MAKE) SANITIZE=1 all $(patsubst tests/unit/%.c,build/asan/unit/%,$(UNIT_SRCS))
	tests/check.sh

demo: deps
	$(MAKE) all
	$(MAKE) STATIC=1 all
	tests/demo.sh

# Overhead of gupwatch (and of bpftrace counting the same hooks) on COW and pin
# storms, page faults, O_DIRECT and io_uring registration, per kernel, in
# instruction-counted guests; bpftrace comes on a disk image (bpftraceroot.sh).
bench: deps
	$(MAKE) STATIC=1 all
	img=$$(tests/vm/bpftraceroot.sh) && GW_DISK=$$img GW_QEMU_SMP=1 GW_TEST_TIMEOUT=1200 \
		GW_QEMU_OPTS="-icount shift=0,sleep=off" \
		tests/vm/run.sh --kernels "$(or $(KERNELS),6.1 6.12)" --run bench.sh

# Instructions per run of each BPF program (trace --prog-stats under -icount),
# one boot per kernel and attach mode: doc/kernel.md's "What a hook costs".
bench-progs: deps
	$(MAKE) STATIC=1 all
	for s in prog-stats.sh prog-stats-kprobe.sh; do \
		GW_QEMU_SMP=1 GW_QEMU_OPTS="-icount shift=0,sleep=off" \
			tests/vm/run.sh --kernels "$(or $(KERNELS),6.1 6.12)" --run $$s || exit 1; \
	done

# Memory, lost events and stop latency of trace, record, top and daemon over a long
# mixed storm (pins, COW, forks, O_DIRECT), per kernel: figures, one "SOAK" line per
# command. SOAK_WHAT="daemon top": only those.
SOAK_SECONDS ?= 600
SOAK_WHAT ?= trace record top daemon
soak: deps
	$(MAKE) STATIC=1 all
	GW_GUEST_ARGS="gw.soak=$(SOAK_SECONDS) gw.soakwhat=$(shell echo $(SOAK_WHAT) | tr ' ' ,)" \
		GW_TEST_TIMEOUT=$$((4 * $(SOAK_SECONDS) + 600)) \
		GW_BOOT_TIMEOUT=$$((4 * $(SOAK_SECONDS) + 900)) \
		tests/vm/run.sh --kernels "$(or $(KERNELS),6.1 6.12)" --run soak.sh

# Replay speed on this host, no guests: the engine alone (build/gwbench) and
# gupwatch report on a synthetic recording (build/gwgen, cached in build/bench/).
bench-replay: gupwatch build/gwgen build/gwbench
	tests/bench/replay.sh

build/gwgen: tests/bench/gwgen.c build/obj/recfile.o
	$(CC) $(CPPFLAGS) -Isrc $(CFLAGS) $^ -lz -o $@

build/gwbench: tests/bench/gwbench.c build/obj/engine.o build/obj/procinfo.o build/obj/recfile.o
	$(CC) $(CPPFLAGS) -Isrc $(CFLAGS) $^ -lz -o $@

# libFuzzer targets (tests/fuzz/): the record-file reader with the whole report path, and
# the engine with its invariants; clang's fuzzer runtime with ASan and UBSan. Only the
# BPF-free sources: nothing here loads or attaches anything.
FUZZ_SECONDS ?= 60
FUZZ_SRCS := $(filter-out src/main.c src/session.c src/attach.c src/capture.c src/check.c src/blockers.c \
	src/daemon.c src/probe.c src/hooks.c src/record.c src/trace.c src/top.c src/report.c src/cli.c, \
	$(wildcard src/*.c))
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))

build/fuzz/%: tests/fuzz/%.c $(FUZZ_SRCS) $(wildcard src/*.h include/*.h)
	@mkdir -p $(@D)
	$(CLANG) -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		$(CPPFLAGS) -Isrc $< $(FUZZ_SRCS) $(LIBDW_LIBS) -lz -o $@

fuzz: deps $(FUZZ_TARGETS)
	tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# vmlinux.h is committed: a build needs no BTF on the build machine.
vmlinux:
	scripts/gen-vmlinux-h.sh 6.12 > vmlinux.h.tmp && mv vmlinux.h.tmp vmlinux.h

install: all
	install -D -m 0755 gupwatch $(DESTDIR)$(PREFIX)/sbin/gupwatch
	for m in $(wildcard man/*.8); do install -D -m 0644 $$m $(DESTDIR)$(PREFIX)/share/man/man8/$$(basename $$m); done
	mkdir -p $(DESTDIR)$(PREFIX)/lib/systemd/system
	sed 's|@SBINDIR@|$(PREFIX)/sbin|' systemd/gupwatch.service.in >$(DESTDIR)$(PREFIX)/lib/systemd/system/gupwatch.service

clean:
	rm -rf build gupwatch
