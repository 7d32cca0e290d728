#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# make bench-progs, kprobe mode: prog-stats.sh with --attach=kprobe.
GWARGS=--attach=kprobe . /gw/tests/prog-stats.sh
