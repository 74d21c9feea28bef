package server_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/alohasched/aloha/api"
)

// BenchmarkSubmitToRunning: on an idle cluster, one app at a time, the
// time from just before Submit until the master publishes RUNNING for it
// (as seen by a subscriber of its event bus), vs the bare launch of the
// same process (fresh directory, files, fork+exec of bash) measured in
// the same run, the sides alternating sample by sample. Goal: p99 < 20 ms.
func BenchmarkSubmitToRunning(b *testing.B) {
	c := startLocal(b, launchWorkers, launchCores)
	root := b.TempDir()
	const script = "sleep 30"
	spec := api.AppSpec{Name: "sleeper", EntryPoint: "shell", Args: script, Cores: 1, Memory: 1}
	ctx := context.Background()

	clusterSample := func() (time.Duration, error) {
		after := c.m.Events().LastSeq()
		start := time.Now()
		id, err := c.backend.Submit(ctx, spec)
		if err != nil {
			return 0, err
		}
		var lat time.Duration
		var bad error
		after, err = follow(c.m, after, func(ev api.Event) bool {
			if ev.Type != api.EventAppStateChanged || ev.AppID != id {
				return false
			}
			switch {
			case ev.State == api.AppRunning:
				lat = time.Since(start)
				return true
			case ev.State.IsFinal():
				bad = fmt.Errorf("app %s ended %s before running: %s", id, ev.State, ev.Message)
				return true
			}
			return false
		})
		if err = errors.Join(err, bad); err != nil {
			return 0, err
		}
		if _, err := c.backend.Kill(ctx, id); err != nil {
			return 0, err
		}
		// Wait for its end, so that the next sample finds the cluster idle.
		_, err = follow(c.m, after, func(ev api.Event) bool {
			return ev.Type == api.EventAppStateChanged && ev.AppID == id && ev.State.IsFinal()
		})
		return lat, err
	}
	var seq int
	bareSample := func() (time.Duration, error) {
		seq++
		start := time.Now()
		cmd, err := bareLaunch(filepath.Join(root, strconv.Itoa(seq)), script)
		lat := time.Since(start)
		if err != nil {
			return 0, err
		}
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		return lat, nil
	}
	// Warm up.
	for range 5 {
		if _, err := clusterSample(); err != nil {
			b.Fatal(err)
		}
		if _, err := bareSample(); err != nil {
			b.Fatal(err)
		}
	}
	var line string
	for b.Loop() {
		if line != "" {
			continue // measured already
		}
		var cl, bl []time.Duration
		for i := range latencySamples {
			sides := []func() error{
				func() error { l, err := clusterSample(); cl = append(cl, l); return err },
				func() error { l, err := bareSample(); bl = append(bl, l); return err },
			}
			if i%2 == 1 {
				sides[0], sides[1] = sides[1], sides[0]
			}
			for _, side := range sides {
				if err := side(); err != nil {
					b.Fatalf("sample %d: %v", i, err)
				}
			}
		}
		slices.Sort(cl)
		slices.Sort(bl)
		c50, c99 := percentile(cl, 0.50), percentile(cl, 0.99)
		b50, b99 := percentile(bl, 0.50), percentile(bl, 0.99)
		b.ReportMetric(millis(c50), "p50-ms")
		b.ReportMetric(millis(c99), "p99-ms")
		b.ReportMetric(millis(b50), "bare-p50-ms")
		b.ReportMetric(millis(b99), "bare-p99-ms")
		b.ReportMetric(millis(c50)/millis(b50), "p50-ratio")
		b.ReportMetric(millis(c99)/millis(b99), "p99-ratio")
		line = fmt.Sprintf("submit → RUNNING (%d samples, idle cluster): p50 %.2f ms p99 %.2f ms max %.2f ms | bare launch p50 %.2f ms p99 %.2f ms | ratio p50 %.2fx p99 %.2fx (goal p99 < 20 ms)",
			latencySamples, millis(c50), millis(c99), millis(cl[len(cl)-1]), millis(b50), millis(b99), millis(c50)/millis(b50), millis(c99)/millis(b99))
	}
	b.Log(line)
}
