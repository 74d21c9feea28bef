package config

import (
	"bufio"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// What 0 means for aloha.worker.cores and aloha.worker.memory.

// DefaultWorkerCores is the number of cores a worker offers when
// aloha.worker.cores is 0: all CPUs of the machine.
func DefaultWorkerCores() int { return runtime.NumCPU() }

// DefaultWorkerMemoryMB is the memory a worker offers when
// aloha.worker.memory is 0: the machine's memory minus 1 GiB left to the
// system, and at least 1 GiB, as Spark's worker computes it.
func DefaultWorkerMemoryMB() int { return workerMemoryMB(MachineMemoryMB()) }

func workerMemoryMB(totalMB int) int { return max(totalMB-1024, 1024) }

// MachineMemoryMB returns the machine's total memory in MB from
// /proc/meminfo, or 0 where that cannot be read (not Linux).
func MachineMemoryMB() int {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	mb, _ := memTotalMB(f)
	return mb
}

// memTotalMB reads the MemTotal line of /proc/meminfo, which is in kB.
func memTotalMB(r io.Reader) (int, bool) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) != 2 || fields[1] != "kB" {
			return 0, false
		}
		kb, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil || kb < 0 {
			return 0, false
		}
		return int(kb / 1024), true
	}
	return 0, false
}
