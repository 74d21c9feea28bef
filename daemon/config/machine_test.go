package config

import (
	"runtime"
	"strings"
	"testing"
)

func TestMemTotalMB(t *testing.T) {
	tests := []struct {
		in     string
		want   int
		wantOK bool
	}{
		{"MemTotal:       16318540 kB\nMemFree:         1234 kB\n", 15936, true},
		{"MemFree: 1 kB\nMemTotal: 2048 kB\n", 2, true},
		{"MemFree: 1 kB\n", 0, false},
		{"MemTotal: lots kB\n", 0, false},
		{"MemTotal: 2048\n", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		got, ok := memTotalMB(strings.NewReader(tt.in))
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("memTotalMB(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestWorkerMemoryMB(t *testing.T) {
	for total, want := range map[int]int{0: 1024, 512: 1024, 2048: 1024, 3000: 1976, 16384: 15360} {
		if got := workerMemoryMB(total); got != want {
			t.Errorf("workerMemoryMB(%d) = %d, want %d", total, got, want)
		}
	}
	if got := DefaultWorkerMemoryMB(); got < 1024 {
		t.Errorf("DefaultWorkerMemoryMB() = %d, want at least 1024", got)
	}
	if runtime.GOOS == "linux" && MachineMemoryMB() <= 0 {
		t.Errorf("MachineMemoryMB() = %d on Linux, want the size of /proc/meminfo's MemTotal", MachineMemoryMB())
	}
	if got := DefaultWorkerCores(); got != runtime.NumCPU() {
		t.Errorf("DefaultWorkerCores() = %d, want %d", got, runtime.NumCPU())
	}
}
