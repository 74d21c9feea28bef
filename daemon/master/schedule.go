package master

import (
	"fmt"
	"sort"
)

// The scheduler is a pure function of a snapshot: it reads no clock and
// sends nothing, so every placement rule is tested in memory.

// slot is a worker as the scheduler sees it.
type slot struct {
	id         string
	coresFree  int
	memoryFree int
	cores      int // total, for "can it ever fit"
	memory     int
	kinds      map[string]bool
}

// demand is a waiting application as the scheduler sees it.
type demand struct {
	id     string
	kind   string
	cores  int
	memory int
}

// placement assigns an application to a worker.
type placement struct {
	appID    string
	workerID string
}

// schedule places waiting applications in FIFO order on workers with
// enough free cores and memory that run their kind. With spread, each goes
// to the worker with the most free cores (the originals' default, which
// spreads load); otherwise to the fitting worker with the fewest free
// cores (pack, which keeps whole workers free). An application that fits
// nowhere now does not hold back the ones behind it. Ties go to the worker
// with more free memory, then the smaller id, so results are deterministic.
func schedule(waiting []demand, workers []slot, spread bool) []placement {
	if len(waiting) == 0 || len(workers) == 0 {
		return nil
	}
	free := make([]slot, len(workers))
	copy(free, workers)
	sort.Slice(free, func(i, j int) bool { return free[i].id < free[j].id })
	var out []placement
	for _, d := range waiting {
		best := -1
		for i := range free {
			w := &free[i]
			if w.coresFree < d.cores || w.memoryFree < d.memory || !w.kinds[d.kind] {
				continue
			}
			if best < 0 || better(w, &free[best], spread) {
				best = i
			}
		}
		if best < 0 {
			continue
		}
		free[best].coresFree -= d.cores
		free[best].memoryFree -= d.memory
		out = append(out, placement{appID: d.id, workerID: free[best].id})
	}
	return out
}

func better(a, b *slot, spread bool) bool {
	if a.coresFree != b.coresFree {
		if spread {
			return a.coresFree > b.coresFree
		}
		return a.coresFree < b.coresFree
	}
	if a.memoryFree != b.memoryFree {
		if spread {
			return a.memoryFree > b.memoryFree
		}
		return a.memoryFree < b.memoryFree
	}
	return false // ids are sorted: keep the earlier one
}

// waitReason explains why an application is still waiting: it fits no
// worker that exists (say so, with the largest offer), or it waits for
// resources to free up.
func waitReason(d demand, workers []slot) string {
	if len(workers) == 0 {
		return "waiting: no workers registered"
	}
	maxCores, maxMemory, kindSeen := 0, 0, false
	for _, w := range workers {
		if !w.kinds[d.kind] {
			continue
		}
		kindSeen = true
		maxCores = max(maxCores, w.cores)
		maxMemory = max(maxMemory, w.memory)
	}
	switch {
	case !kindSeen:
		return fmt.Sprintf("waiting: no alive worker runs kind %q", d.kind)
	case d.cores > maxCores:
		return fmt.Sprintf("waiting: needs %d cores, largest worker has %d", d.cores, maxCores)
	case d.memory > maxMemory:
		return fmt.Sprintf("waiting: needs %d MB of memory, largest worker has %d MB", d.memory, maxMemory)
	}
	// Could a worker offer it at all, cores and memory together?
	for _, w := range workers {
		if w.kinds[d.kind] && w.cores >= d.cores && w.memory >= d.memory {
			return "waiting for free resources"
		}
	}
	return fmt.Sprintf("waiting: needs %d cores and %d MB on one worker, no worker has both", d.cores, d.memory)
}
