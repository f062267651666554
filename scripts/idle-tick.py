#!/usr/bin/env python3
"""CPU per idle collector tick, issue 9's way: idle-tick.py NAME VMTEST_BINARY METRICS_BASE_URL

Runs `vmtest collect -url URL -duration 130s` and `-duration 10s` side by side (host sampling on, the default
2 s interval) against an idle server (`go run ./cmd/vllmsim -port 18990`), and prints
  issue:  (user+sys CPU of the 130 s run - of the 10 s run, from wait4) / 60 ticks
  steady: on-CPU time of the 130 s run's threads (/proc/PID/task/*/schedstat) from t = 10 s to 126 s / 58
          ticks, with its context switches per tick: the running ticks alone, without start-up and Finish.
Run several builds at once against one server, the order rotated between rounds, and compare medians."""
import glob, os, subprocess, sys, tempfile, time

name, binp, url = sys.argv[1:4]

def start(dur):
    out = tempfile.mkdtemp(prefix="idle-tick-")
    return subprocess.Popen([binp, "collect", "-url", url, "-duration", dur, "-out", out],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

def running(p):
    cpu = switches = 0
    for t in glob.glob("/proc/%d/task/*" % p.pid):
        try:
            cpu += int(open(t + "/schedstat").read().split()[0])
            for line in open(t + "/status"):
                if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                    switches += int(line.split()[1])
        except OSError:
            pass  # a thread that ended
    return cpu, switches

def total(p):
    _, _, ru = os.wait4(p.pid, 0)
    return ru.ru_utime + ru.ru_stime

long = start("130s")
time.sleep(0.5)
short = start("10s")
time.sleep(9.5)
c0, s0 = running(long)
t10 = total(short)
time.sleep(116)
c1, s1 = running(long)
t130 = total(long)
print("%-8s issue %.3f ms/tick (130 s: %.4f s, 10 s: %.4f s)  steady %.3f ms/tick, %.1f switches/tick" % (
    name, (t130 - t10) / 60 * 1e3, t130, t10, (c1 - c0) / 1e6 / 58, (s1 - s0) / 58), flush=True)
