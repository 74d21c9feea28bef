package master

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// ---- BenchmarkMasterProcessAtScale ----

// masterProc is an alohad master running as a process of its own.
type masterProc struct {
	cmd  *exec.Cmd
	addr string // host:port of its RPC service
	note string // how it was started, when that differs from the plan

	mu       sync.Mutex
	gcLive   []float64 // live heap (MB) after each GC, from gctrace
	tail     []string  // its last log lines, for errors
	exited   chan struct{}
	listened chan string
}

var gcLine = regexp.MustCompile(`^gc \d+ @.* (\d+)->(\d+)->(\d+) MB`)

// buildAlohad builds cmd/alohad into dir.
func buildAlohad(b *testing.B, dir string) string {
	b.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		b.Fatal(err)
	}
	bin := filepath.Join(dir, "alohad")
	build := exec.Command(goBin, "build", "-o", bin, "./cmd/alohad")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("go build ./cmd/alohad: %v\n%s", err, out)
	}
	return bin
}

// startMasterProc starts `alohad master` on port (0: any free port) and
// waits until it listens. It returns nil if the process exits first.
func startMasterProc(b *testing.B, bin, port string) (*masterProc, error) {
	cmd := exec.Command(bin, "master", "-h", "127.0.0.1", "-p", port, "--rest-port", "0",
		"-Daloha.deploy.retainedApplications="+strconv.Itoa(scaleApps), "-Daloha.worker.timeout="+scaleTimeout.String())
	cmd.Env = append(os.Environ(), "GODEBUG=gctrace=1", "ALOHA_CONF_DIR="+b.TempDir())
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &masterProc{cmd: cmd, exited: make(chan struct{}), listened: make(chan string, 1)}
	urlRe := regexp.MustCompile(`msg="master listening" url=aloha://(\S+)`)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			if m := gcLine.FindStringSubmatch(line); m != nil {
				live, _ := strconv.ParseFloat(m[3], 64)
				p.gcLive = append(p.gcLive, live)
			} else {
				p.tail = append(p.tail, line)
				if len(p.tail) > 20 {
					p.tail = p.tail[1:]
				}
			}
			p.mu.Unlock()
			if m := urlRe.FindStringSubmatch(line); m != nil {
				select {
				case p.listened <- m[1]:
				default:
				}
			}
		}
		_ = cmd.Wait()
		close(p.exited)
	}()
	select {
	case p.addr = <-p.listened:
	case <-p.exited:
		return nil, fmt.Errorf("alohad master -p %s exited: %s", port, strings.Join(p.logTail(), " | "))
	case <-time.After(30 * time.Second):
		p.stop()
		return nil, errors.New("alohad master did not listen within 30 s")
	}
	return p, nil
}

func (p *masterProc) logTail() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.tail)
}

// stop ends the process: SIGTERM, then SIGKILL after 10 s.
func (p *masterProc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// memory returns VmRSS and VmHWM (peak RSS) of the process, in bytes.
func (p *masterProc) memory() (rss, hwm uint64, err error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(p.cmd.Process.Pid) + "/status")
	if err != nil {
		return 0, 0, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("%s: %q: %w", k, v, err)
		}
		if k == "VmRSS" {
			rss = kb << 10
		} else {
			hwm = kb << 10
		}
	}
	return rss, hwm, nil
}

// lastGC is the live heap (MB) marked by the process's most recent GC and
// the most of any GC so far.
func (p *masterProc) lastGC() (last, most float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.gcLive) == 0 {
		return 0, 0
	}
	return p.gcLive[len(p.gcLive)-1], slices.Max(p.gcLive)
}

// BenchmarkMasterProcessAtScale is BenchmarkMasterAtScale with the master
// as a process of its own, the alohad binary built from this tree:
//
//	alohad master -h 127.0.0.1 -p 0 --rest-port 0
//	  -Daloha.deploy.retainedApplications=100000 -Daloha.worker.timeout=10m0s
//
// so that its memory is its alone: VmRSS and VmHWM (peak) from
// /proc/<pid>/status, idle (the baseline), with the 1,000 workers
// registered, and with 100,000 apps retained; and the live heap its own GC
// marked last (GODEBUG=gctrace=1), an approximation, since the benchmark
// cannot make it collect at a chosen moment. The fleet, the clients and the
// figures of placement are as in BenchmarkMasterAtScale, over loopback to
// the process. Goals: < 500 MB, < 1 ms per app placed.
func BenchmarkMasterProcessAtScale(b *testing.B) {
	var lines []string
	for b.Loop() {
		if lines != nil {
			continue // measured already
		}
		lines = masterProcessAtScale(b)
	}
	b.Log("\n" + strings.Join(lines, "\n"))
}

func masterProcessAtScale(b *testing.B) []string {
	bin := buildAlohad(b, b.TempDir())
	p, err := startMasterProc(b, bin, "0")
	if err != nil {
		// aloha.master.port refuses 0 at the time of writing: take a port
		// that was free a moment ago.
		ln, lerr := net.Listen("tcp", "127.0.0.1:0")
		if lerr != nil {
			b.Fatal(lerr)
		}
		port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
		ln.Close()
		first := err
		if p, err = startMasterProc(b, bin, port); err != nil {
			b.Fatal(err)
		}
		p.note = fmt.Sprintf("-p 0 refused (%v); ran with -p %s", first, port)
	}
	b.Cleanup(p.stop)
	rss0, _, err := p.memory()
	if err != nil {
		b.Fatal(err)
	}
	var rss1 uint64
	r := runScale(b, p.addr, func() {
		var err error
		if rss1, _, err = p.memory(); err != nil {
			b.Fatal(err)
		}
	})
	rss2, hwm, err := p.memory()
	if err != nil {
		b.Fatal(err)
	}
	last, most := p.lastGC()
	b.ReportMetric(mib(rss2), "rss-MiB")
	b.ReportMetric(mib(hwm), "peak-rss-MiB")
	b.ReportMetric(mib(rss0), "idle-rss-MiB")
	b.ReportMetric(float64(rss2)/float64(rss0), "rss-ratio")
	b.ReportMetric(last, "gc-live-MB")
	lines := r.lines(b, "master process")
	lines = append(lines,
		fmt.Sprintf("        master RSS: %.1f MiB idle | %.1f MiB with %d workers | %.1f MiB with %d retained (peak %.1f MiB) | ratio %.1fx idle (goal < 500 MB); live heap at its last GC %.0f MB (most %.0f MB)",
			mib(rss0), mib(rss1), scaleWorkers, mib(rss2), r.info.CompletedApps, mib(hwm), float64(rss2)/float64(rss0), last, most))
	if p.note != "" {
		lines = append(lines, "        note: "+p.note)
	}
	return lines
}
