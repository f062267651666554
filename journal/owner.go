package journal

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Owner is the process that writes a journal (Header.Writer), so that a reader can tell a run that ended
// (killed, panicked) from one still going.
type Owner struct {
	// PID is the writer's process id.
	PID int `json:"pid"`
	// StartTicks is the process's start time in clock ticks since boot (field 22 of /proc/PID/stat), which
	// tells it apart from a later process given the same id; 0 when not known (not Linux).
	StartTicks uint64 `json:"start_ticks,omitempty"`
	// Host is the host name (os.Hostname); BootID the kernel's boot id (/proc/sys/kernel/random/boot_id),
	// "" when not known. A PID means something only on the same host and boot.
	Host   string `json:"host,omitempty"`
	BootID string `json:"boot_id,omitempty"`
	// PIDNamespace is the writer's PID namespace (the link /proc/self/ns/pid, "pid:[4026531836]"), since a
	// PID names a process only within one; "" when not known (a journal written before it was recorded):
	// then a PID on the same host and boot is taken at its word.
	PIDNamespace string `json:"pid_namespace,omitempty"`
}

// Liveness is what a reader can tell of a journal's writer.
type Liveness int

// The answers of Owner.Liveness.
const (
	// MayRun: the writer may still be running (it runs on another host, boot or PID namespace, the journal
	// does not name it, or a process of its id is alive here but its start time is not known).
	MayRun Liveness = iota
	// Ended: the writer ran on this host and boot and is no longer running (its id is free or taken by a
	// later process).
	Ended
	// Running: the writer is alive here: on this host, boot and PID namespace, its process exists and
	// started at the time the journal records (StartTicks).
	Running
)

// Self returns the calling process as a journal's Owner: its id and host name everywhere, its start time
// and the boot id where /proc gives them (Linux).
func Self() *Owner {
	o := &Owner{PID: os.Getpid(), BootID: bootID()}
	o.PIDNamespace, _ = os.Readlink("/proc/self/ns/pid")
	o.Host, _ = os.Hostname()
	_, o.StartTicks, _ = procStat(o.PID)
	return o
}

// Liveness says whether the writer o may still be running, seen from the calling process: Ended only when o
// names this host, boot and PID namespace (host name and boot id both known and equal; the namespaces equal,
// or either not known) and its process is gone (kill(pid, 0) says no such process), or a zombie (killed, not
// yet reaped), or, with StartTicks known, the process of that id started at another time; Running when o
// names this host, boot and PID namespace and its process is alive and started at StartTicks (known). A nil
// o (a journal written before writers were recorded) may run.
func (o *Owner) Liveness() Liveness {
	if o == nil || o.PID <= 0 || o.BootID == "" || o.Host == "" {
		return MayRun
	}
	self := Self()
	if o.Host != self.Host || o.BootID != self.BootID || !sameNamespace(o.PIDNamespace, self.PIDNamespace) {
		return MayRun
	}
	if !alive(o.PID) {
		return Ended
	}
	state, t, ok := procStat(o.PID)
	switch {
	case ok && (state == "Z" || state == "X"): // killed, not yet reaped by its parent
		return Ended
	case ok && o.StartTicks != 0 && t != o.StartTicks:
		return Ended
	case ok && o.StartTicks != 0:
		return Running
	}
	return MayRun
}

// sameNamespace says whether PID namespaces a and b may be taken as one: equal, or either not known ("").
func sameNamespace(a, b string) bool { return a == "" || b == "" || a == b }

// bootID returns the kernel's boot id, "" where there is none.
func bootID() string {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// procStat reads the state (field 3: "Z" a zombie, "X" dead) and the start time (field 22, clock ticks after
// boot) of process pid from /proc/PID/stat.
func procStat(pid int) (state string, start uint64, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return "", 0, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')') // the command name, field 2, may hold spaces and parentheses
	if i < 0 {
		return "", 0, false
	}
	f := strings.Fields(s[i+1:]) // from field 3 on
	if len(f) < 20 {
		return "", 0, false
	}
	t, err := strconv.ParseUint(f[19], 10, 64)
	return f[0], t, err == nil
}

// mayRunText says why a writer o, which Liveness says may run or is running, may run: "by process N on this
// host, which is running", or on another host or boot, or unnamed.
func (o *Owner) mayRunText() string {
	self := Self()
	switch {
	case o == nil || o.PID <= 0:
		return "by a process the journal does not name (written before vmtest recorded it)"
	case o.Host == "" || o.BootID == "" || self.BootID == "":
		return fmt.Sprintf("by process %d on host %q, whose boot this host cannot compare", o.PID, o.Host)
	case o.Host != self.Host:
		return fmt.Sprintf("by process %d on host %q (not this host: whether it runs is not known here)", o.PID, o.Host)
	case o.BootID != self.BootID:
		return fmt.Sprintf("by process %d on this host before its last boot", o.PID)
	case !sameNamespace(o.PIDNamespace, self.PIDNamespace):
		return fmt.Sprintf("by process %d in another PID namespace (another container: whether it runs is not known here)", o.PID)
	}
	return fmt.Sprintf("by process %d on this host, which is running", o.PID)
}
