package master

import (
	"fmt"
	"slices"
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
	p := newPlacer(workers, spread)
	var out []placement
	for _, d := range waiting {
		if p.full() {
			break
		}
		if i := p.place(d); i >= 0 {
			out = append(out, placement{appID: d.id, workerID: p.free[i].id})
		}
	}
	return out
}

// placer places demands one at a time, in the order given, on a copy of
// the workers' free resources, which it takes as it goes. A pass costs
// one scan of the workers per application placed, not per application
// waiting: once no core is free (full), nothing more can be placed, and a
// shape (kind, cores, memory) that fitted nowhere fits nowhere for the
// rest of the pass, since free resources only shrink.
type placer struct {
	free      []slot
	spread    bool
	coresFree int
	unfit     map[shape]bool
	// byKind lists, per kind seen in this pass, the workers that run it,
	// so that a placement looks the kind up once, not once per worker.
	byKind map[string][]int
}

type shape struct {
	kind          string
	cores, memory int
}

func newPlacer(workers []slot, spread bool) *placer {
	p := &placer{free: slices.Clone(workers), spread: spread}
	for _, w := range workers {
		p.coresFree += max(w.coresFree, 0)
	}
	return p
}

// full says that no application can be placed any more in this pass.
func (p *placer) full() bool { return p.coresFree <= 0 }

// place returns the index in p.free of the worker d goes to, and takes its
// resources, or -1 when it fits nowhere now.
func (p *placer) place(d demand) int {
	sh := shape{d.kind, d.cores, d.memory}
	if p.unfit[sh] {
		return -1
	}
	runs, ok := p.byKind[d.kind]
	if !ok {
		for i := range p.free {
			if p.free[i].kinds[d.kind] {
				runs = append(runs, i)
			}
		}
		if p.byKind == nil {
			p.byKind = map[string][]int{}
		}
		p.byKind[d.kind] = runs
	}
	best := -1
	for _, i := range runs {
		w := &p.free[i]
		if w.coresFree < d.cores || w.memoryFree < d.memory {
			continue
		}
		if best < 0 || better(w, &p.free[best], p.spread) {
			best = i
		}
	}
	if best < 0 {
		if p.unfit == nil {
			p.unfit = map[shape]bool{}
		}
		p.unfit[sh] = true
		return -1
	}
	p.free[best].coresFree -= d.cores
	p.free[best].memoryFree -= d.memory
	p.coresFree -= d.cores
	return best
}

// better says whether a is a better choice than b. The last tie-break,
// the smaller id, makes results deterministic without sorting the
// workers on every pass.
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
	return a.id < b.id
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
