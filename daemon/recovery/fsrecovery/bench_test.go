package fsrecovery

import (
	"fmt"
	"testing"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/daemon/recovery"
)

// BenchmarkCommit measures group commits of 1 and of 100 applications:
// each is one append and one fdatasync, whatever its size.
func BenchmarkCommit(b *testing.B) {
	for _, apps := range []int{1, 100} {
		b.Run(fmt.Sprintf("apps=%d", apps), func(b *testing.B) {
			s, _ := openStore(b, b.TempDir(), StoreOptions{})
			batches := make([]*recovery.Batch, 64)
			for i := range batches {
				batches[i] = &recovery.Batch{}
				for k := range apps {
					batches[i].PutApp(testApp(fmt.Sprintf("app-20260102030405-%04d", i*apps+k), api.AppRunning))
				}
			}
			ctx := testCtx(b)
			n := 0
			for b.Loop() {
				if err := s.Commit(ctx, batches[n%len(batches)]); err != nil {
					b.Fatal(err)
				}
				n++
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "commits/s")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n*apps), "ns/app")
		})
	}
}
