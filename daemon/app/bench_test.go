package app

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// BenchmarkLaunch compares launching through the runner with the
// physical limit (DESIGN §11): a bare loop that launches the same process
// into a fresh directory, with the same log files and process group, and
// waits for it.
// Each iteration launches once with each of the pair, alternating, so
// that load from elsewhere on the machine hits both alike; "ratio" is
// bare time / runner time, i.e. the runner's launch rate as a fraction of
// the bare loop's.
//
//	go test -run '^$' -bench Launch -benchtime 2s ./daemon/app
func BenchmarkLaunch(b *testing.B) {
	bareBash := bareLauncher("/bin/bash", "-c", "true")
	pairs := []struct {
		name       string
		base, test launcher
	}{
		{"shell", bareBash, kindLauncher(KindShell, "true")},
		{"exec", bareLauncher("/usr/bin/true"), kindLauncher(KindExec, "true")},
		// What the wrapper costs, without the runner's bookkeeping, and
		// what its parts cost: the subshell's fork and the status file.
		{"wrapper", bareBash, bareLauncher("/bin/bash", "-c", bashWrapper, wrapperArg0, "true")},
		{"wrapper-with-mv", bareBash, bareLauncher("/bin/bash", "-c",
			`trap : TERM INT HUP; (eval "$1"); s=$?; printf "%d\n" "$s" > exit-status.tmp && mv -f exit-status.tmp exit-status; exit $s`,
			wrapperArg0, "true")},
		{"subshell-only", bareBash, bareLauncher("/bin/bash", "-c", "(true)")},
		{"status-file-only", bareBash, bareLauncher("/bin/bash", "-c", `true; printf '%d\n' "$?" >status`)},
	}
	for _, p := range pairs {
		b.Run(p.name, func(b *testing.B) {
			root := b.TempDir()
			var base, test time.Duration
			i := 0
			for b.Loop() {
				for j, l := range []launcher{p.base, p.test} {
					if i%2 == 1 { // alternate which one goes first
						l = []launcher{p.test, p.base}[j]
					}
					// The fresh directory is part of each launch, for both.
					dir := filepath.Join(root, strconv.Itoa(i)+"-"+strconv.Itoa(j))
					t0 := time.Now()
					if err := os.Mkdir(dir, 0o755); err != nil {
						b.Fatal(err)
					}
					if err := l(dir); err != nil {
						b.Fatal(err)
					}
					if d := time.Since(t0); (i%2 == 0) == (j == 0) {
						base += d
					} else {
						test += d
					}
				}
				i++
			}
			b.ReportMetric(float64(base.Nanoseconds())/float64(i), "bare-ns/launch")
			b.ReportMetric(float64(test.Nanoseconds())/float64(i), "test-ns/launch")
			b.ReportMetric(float64(base)/float64(test), "ratio")
		})
	}
}

// A launcher launches one process in dir and waits for it to end.
type launcher func(dir string) error

var benchEnv = []string{"PATH=/usr/bin:/bin"}

func bareLauncher(argv ...string) launcher {
	return func(dir string) error {
		out, err := openLog(dir, StdoutFile)
		if err != nil {
			return err
		}
		defer out.Close()
		errf, err := openLog(dir, StderrFile)
		if err != nil {
			return err
		}
		defer errf.Close()
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dir, benchEnv, out, errf
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		return cmd.Run()
	}
}

func kindLauncher(kind, args string) launcher {
	k, _ := NewRegistry().Lookup(kind)
	return func(dir string) error {
		l := &Launch{AppID: "app-bench", Dir: dir, Env: benchEnv}
		l.Spec.Args = args
		r, err := k.Start(context.Background(), l)
		if err != nil {
			return err
		}
		<-r.Done()
		if e := r.Exit(); e.Code != 0 {
			return os.ErrInvalid
		}
		return nil
	}
}
