#!/usr/bin/env python3
"""Steady CPU per idle collector tick, by thread: idle-tick-ab.py SECS ROUNDS NAME=VMTEST_BINARY ...

Runs `vmtest collect -url $URL` (default http://127.0.0.1:18997, an idle vllmsim) for each build side by side,
the order rotated between rounds, and prints for each the on-CPU time of all its threads over SECS seconds
from t = 8 s (/proc/PID/task/*/schedstat) per 2 s tick, its context switches per tick, and the same for the
thread that switched most (the Go runtime's sysmon in an idle collect); then the medians over the rounds."""
import glob, os, subprocess, sys, tempfile, time, statistics
secs, rounds = int(sys.argv[1]), int(sys.argv[2])
builds = [a.split("=", 1) for a in sys.argv[3:]]
URL = os.environ.get("URL", "http://127.0.0.1:18997")
def threads(pid):
    out = {}
    for t in glob.glob("/proc/%d/task/*" % pid):
        try:
            cpu = int(open(t + "/schedstat").read().split()[0])
            sw = 0
            for line in open(t + "/status"):
                if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                    sw += int(line.split()[1])
            out[t] = (cpu, sw)
        except OSError:
            pass
    return out
res = {n: [] for n, _ in builds}
for r in range(rounds):
    order = builds[r % len(builds):] + builds[:r % len(builds)]
    procs = []
    for n, b in order:
        d = tempfile.mkdtemp(prefix="ab-")
        procs.append((n, subprocess.Popen([b, "collect", "-url", URL, "-duration", "%ds" % (secs + 14), "-out", d],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), d))
        time.sleep(0.3)
    time.sleep(8)
    a = {n: threads(p.pid) for n, p, _ in procs}
    time.sleep(secs)
    b = {n: threads(p.pid) for n, p, _ in procs}
    ticks = secs / 2
    for n, p, d in procs:
        cpu = sw = 0; top = (0, 0)
        for t, (c1, s1) in b[n].items():
            c0, s0 = a[n].get(t, (0, 0))
            cpu += c1 - c0; sw += s1 - s0
            if s1 - s0 > top[1]: top = (c1 - c0, s1 - s0)
        res[n].append((cpu / 1e6 / ticks, sw / ticks, top[0] / 1e6 / ticks, top[1] / ticks))
        print("round %d %-6s cpu %.3f ms/tick  switches %.1f  busiest-switching thread %.3f ms %.1f sw" % ((r,n)+res[n][-1]), flush=True)
    for n, p, d in procs:
        p.wait(); subprocess.run(["rm", "-rf", d])
for n, _ in builds:
    v = res[n]
    print("%-6s median cpu %.3f  switches %.1f  top-thread cpu %.3f sw %.1f" % (n, *[statistics.median(x[i] for x in v) for i in range(4)]))
