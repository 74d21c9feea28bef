package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/alohasched/aloha/internal/testutil"
	"github.com/alohasched/aloha/internal/zktest"
)

// binDir holds alohad and alohactl, built once for the whole package with
// the race detector, so the daemons are checked for races end to end.
var binDir string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "aloha-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	root, err := filepath.Abs("../..")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for _, cmd := range []string{"alohad", "alohactl"} {
		args := []string{"build", "-o", filepath.Join(dir, cmd)}
		if raceEnabled {
			args = append(args, "-race")
		}
		build := exec.Command("go", append(args, "./cmd/"+cmd)...)
		build.Dir = root
		if out, err := build.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build %s: %v\n%s", cmd, err, out)
			return 1
		}
	}
	binDir = dir
	return zktest.Main(m)
}

// proc is a daemon started by a test. Its combined output is kept for
// assertions and shown when the test fails.
type proc struct {
	t    *testing.T
	name string
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
	err  error
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// start runs bin/<args[0]> with the remaining args in dir. It is killed
// (SIGKILL to its process group) when the test ends.
func start(t *testing.T, dir string, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, name: strings.Join(args, " "), out: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(filepath.Join(binDir, args[0]), args[1:]...)
	p.cmd.Dir = dir
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", p.name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.kill9()
		if t.Failed() {
			t.Logf("output of %s:\n%s", p.name, p.out.String())
		}
	})
	return p
}

// kill9 kills the daemon and everything in its process group at once.
func (p *proc) kill9() {
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

// stop sends SIGTERM and waits for a clean exit.
func (p *proc) stop() {
	p.t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		p.t.Fatalf("%s did not stop within 30 s of SIGTERM", p.name)
	}
}

// waitLog waits for a log line matching re and returns its submatches.
func (p *proc) waitLog(re string) []string {
	p.t.Helper()
	rx := regexp.MustCompile(re)
	var m []string
	testutil.WaitFor(p.t, 30*time.Second, func() error {
		if m = rx.FindStringSubmatch(p.out.String()); m != nil {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited (%v) before logging %q", p.name, p.err, re)
		default:
		}
		return fmt.Errorf("%s has not logged %q yet", p.name, re)
	})
	return m
}

// startMaster runs alohad master on free ports and returns it with its
// RPC URL and REST base URL.
func startMaster(t *testing.T, dir string, extra ...string) (*proc, string, string) {
	t.Helper()
	args := append([]string{"alohad", "master", "-h", "127.0.0.1", "-p", "0", "--rest-port", "0"}, extra...)
	m := start(t, dir, nil, args...)
	url := m.waitLog(`msg="master listening" url=(aloha://127\.0\.0\.1:\d+)`)[1]
	rest := m.waitLog(`msg="rest server listening" addr=(127\.0\.0\.1:\d+)`)[1]
	return m, url, "http://" + rest
}

// startWorker runs alohad worker for masterURL with its own work dir.
func startWorker(t *testing.T, workDir, masterURL string, extra ...string) *proc {
	t.Helper()
	args := append([]string{"alohad", "worker", "-h", "127.0.0.1", "-d", workDir}, extra...)
	args = append(args, masterURL)
	w := start(t, t.TempDir(), nil, args...)
	w.waitLog(`Successfully registered with master aloha://`)
	return w
}

// restJSON sends a REST request and decodes the JSON answer.
func restJSON(t *testing.T, method, url, body string) (int, map[string]any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s %s: answer is not JSON (%v): %s", method, url, err, raw)
	}
	return resp.StatusCode, out
}

// fetch sends a request and returns the answer's body.
func fetch(ctx context.Context, t *testing.T, method, url, body string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return string(raw)
}

func submit(t *testing.T, rest, body string) string {
	t.Helper()
	code, out := restJSON(t, "POST", rest+"/v1/submissions/create", body)
	if code != 200 || out["success"] != true {
		t.Fatalf("create = %d %v", code, out)
	}
	return out["submissionId"].(string)
}

func status(t *testing.T, rest, id string) map[string]any {
	t.Helper()
	_, out := restJSON(t, "GET", rest+"/v1/submissions/status/"+id, "")
	return out
}

func waitState(t *testing.T, rest, id, state string) map[string]any {
	t.Helper()
	var out map[string]any
	testutil.WaitFor(t, 60*time.Second, func() error {
		out = status(t, rest, id)
		if out["driverState"] != state {
			return fmt.Errorf("%s is %v (%v), want %s", id, out["driverState"], out["message"], state)
		}
		return nil
	})
	return out
}

func appBody(name, script string, extra string) string {
	b, _ := json.Marshal(script)
	return `{"action":"CreateSubmissionRequest","name":"` + name + `","entryPoint":"shell","args":` + string(b) + `,"cores":1,"memory":64` + extra + `}`
}

// scanLines returns the lines of a file.
func scanLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}
