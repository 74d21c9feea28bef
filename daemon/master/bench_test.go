package master

// Master-only benchmarks of DESIGN §11 (master memory and scheduling
// latency with 1,000 simulated workers and 100,000 retained apps), each
// figure reported next to a baseline measured in the same run:
//
//	BenchmarkSchedulePass     one scheduling pass over 1,000 workers per app
//	                          placed: the pure schedule function and the
//	                          loop's schedule() (placement, state changes,
//	                          events, launch orders); and the pass over a
//	                          backed-up queue of 100,000 that places nothing.
//	                          Baseline: a linear scan of the workers per app
//	BenchmarkMasterAtScale    a master in this process, 1,000 simulated
//	                          workers (wire nodes on loopback of their own)
//	                          and 100,000 apps submitted by 64 wire clients,
//	                          finished by the workers and retained: the heap
//	                          the retained apps take, throughput, and submit
//	                          → LaunchApp latency under load and idle vs the
//	                          round trip of an Ask through the master's loop
//	BenchmarkMasterProcessAtScale
//	                          the same against `alohad master` built from
//	                          this tree and run as a process of its own: its
//	                          RSS, idle (the baseline) and at scale
//
// Each measures once, in the first b.Loop iteration, whatever -benchtime
// says, so ns/op means nothing; the figures are the logged lines and the
// reported metrics. Run:
//
//	go test -run '^$' -bench . -benchtime 1x ./daemon/master/

import (
	"io"
	"log/slog"
	"time"
)

const (
	scaleWorkers     = 1000    // simulated workers
	scaleWorkerCores = 4       // cores each offers; every app takes 1
	scaleApps        = 100_000 // apps submitted, finished and retained
	scaleSubmitters  = 64      // concurrent wire clients submitting
	scaleProbes      = 200     // apps submitted one at a time afterwards
	// scaleHeartbeat is how often each simulated worker heartbeats: the
	// interval of the default aloha.worker.timeout (60 s / 4), although
	// the master runs with a 600 s timeout so that a slow master does not
	// declare the fleet dead in the middle of the measurement.
	scaleHeartbeat = 15 * time.Second
	scaleTimeout   = 600 * time.Second
	// scaleBudget stops submitting when the load takes longer than this,
	// so that each at-scale benchmark stays within about two minutes even
	// if the master is slow; what was done is reported as INCOMPLETE.
	scaleBudget = 75 * time.Second
	// scaleStall fails the load when no app finishes for this long.
	scaleStall = 60 * time.Second
)

func benchQuiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
