package server_test

import (
	"math"
	"syscall"
	"time"
)

// cpuUse is CPU time (user + system) used so far by this process and by
// its children that have been waited for.
type cpuUse struct{ self, children time.Duration }

func cpuTime() cpuUse {
	var self, children syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	_ = syscall.Getrusage(syscall.RUSAGE_CHILDREN, &children)
	tv := func(t syscall.Timeval) time.Duration { return time.Duration(t.Nano()) }
	return cpuUse{tv(self.Utime) + tv(self.Stime), tv(children.Utime) + tv(children.Stime)}
}

func (c cpuUse) sub(o cpuUse) cpuUse  { return cpuUse{c.self - o.self, c.children - o.children} }
func (c cpuUse) add(o cpuUse) cpuUse  { return cpuUse{c.self + o.self, c.children + o.children} }
func (c cpuUse) total() time.Duration { return c.self + c.children }

// percentile returns the p-quantile (0 < p <= 1) of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
