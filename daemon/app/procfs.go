package app

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// procStat is what the runner needs from /proc/<pid>/stat.
type procStat struct {
	state     byte   // field 3: R, S, D, Z, ...
	ppid      int    // field 4
	pgrp      int    // field 5
	startTime uint64 // field 22, clock ticks after boot
}

// readStat reads /proc/<pid>/stat. A pid that does not exist gives an
// error satisfying errors.Is(err, os.ErrNotExist).
func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, err
	}
	return parseStat(b)
}

func parseStat(b []byte) (procStat, error) {
	// The command name (field 2) is in parentheses and may itself contain
	// spaces and parentheses, so the fields are counted from the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, errors.New("malformed /proc stat")
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3, so field n is f[n-3].
	if len(f) < 20 || len(f[0]) != 1 {
		return procStat{}, errors.New("malformed /proc stat")
	}
	ppid, err1 := strconv.Atoi(f[4-3])
	pgrp, err2 := strconv.Atoi(f[5-3])
	start, err3 := strconv.ParseUint(f[22-3], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return procStat{}, errors.New("malformed /proc stat")
	}
	return procStat{state: f[0][0], ppid: ppid, pgrp: pgrp, startTime: start}, nil
}

// liveGroupMember reports whether any process other than except, and not a
// zombie, is in process group pgid. It scans /proc, so it is used only
// while a shutdown waits for the group to drain, and once when a
// re-attached leader ends. Zombies are dead: they hold no resources and
// only wait for their parent (often init) to reap them.
func liveGroupMember(pgid, except int) bool {
	d, err := os.Open("/proc")
	if err != nil {
		return false
	}
	defer d.Close()
	names, _ := d.Readdirnames(-1)
	for _, n := range names {
		pid, err := strconv.Atoi(n)
		if err != nil || pid == except {
			continue
		}
		st, err := readStat(pid)
		if err == nil && st.pgrp == pgid && st.state != 'Z' {
			return true
		}
	}
	return false
}

// writePidFile records the leader's pid and start time in dir/PidFile.
// It is one O_APPEND write, because the wrapper may already have appended
// the status of a very short run. It is not fsynced: it must survive the
// worker, not the machine, whose crash ends the application too.
func writePidFile(dir string, pid int, start uint64) error {
	f, err := os.OpenFile(filepath.Join(dir, PidFile), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(fmt.Appendf(nil, "%d %d\n", pid, start))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// pidRecord is what dir/PidFile says about a run.
type pidRecord struct {
	pid       int
	startTime uint64
	status    int  // the exit status, if hasStatus
	hasStatus bool // the wrapper recorded the status
}

// readPidFile parses dir/PidFile; errors name the file. A file without a
// complete pid line, or with a line that is neither a pid nor a status,
// is torn or foreign and an error. A status line cut short (the wrapper
// killed in the middle of its write) only means no status.
func readPidFile(dir string) (pidRecord, error) {
	path := filepath.Join(dir, PidFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return pidRecord{}, err // *PathError already names the file
	}
	var rec pidRecord
	lines := strings.Split(string(b), "\n")
	for i, line := range lines {
		f := strings.Fields(line)
		complete := i < len(lines)-1
		switch {
		case len(f) == 0 && complete:
			return pidRecord{}, fmt.Errorf("%s: empty line in pid file %q", path, b)
		case len(f) == 0:
		case len(f) == 2 && complete && rec.pid == 0:
			pid, err1 := strconv.Atoi(f[0])
			start, err2 := strconv.ParseUint(f[1], 10, 64)
			if err1 != nil || err2 != nil || pid <= 0 {
				return pidRecord{}, fmt.Errorf("%s: malformed pid line %q", path, line)
			}
			rec.pid, rec.startTime = pid, start
		case len(f) == 1 && !rec.hasStatus:
			code, err := strconv.Atoi(f[0])
			if complete && (err != nil || code < 0 || code > 255) {
				return pidRecord{}, fmt.Errorf("%s: malformed status line %q", path, line)
			}
			rec.status, rec.hasStatus = code, complete
		default:
			return pidRecord{}, fmt.Errorf("%s: torn or malformed pid file %q", path, b)
		}
	}
	if rec.pid == 0 {
		return pidRecord{}, fmt.Errorf("%s: no pid recorded in %q", path, b)
	}
	return rec, nil
}
