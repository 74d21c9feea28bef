package e2e

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/alohasched/aloha/internal/testutil"
)

// The original README's walkthrough, word for word, from the unpacked
// distribution: start a master on port 1234 and a worker with the launch
// script, submit with the exact curl command, query the status, kill,
// and find the output in the worker directory. The ports are the
// README's own (1234 and 6066), so they must be free.
func TestSeedWalkthrough(t *testing.T) {
	for _, port := range []string{"1234", "6066"} {
		ln, err := net.Listen("tcp", "127.0.0.1:"+port)
		if err != nil {
			t.Fatalf("the walkthrough needs port %s free (is a cluster running, e.g. make run?): %v", port, err)
		}
		ln.Close()
	}
	tmp := t.TempDir()
	home := unpackDist(t, tmp)
	env := append(os.Environ(),
		"ALOHA_LOG_DIR="+filepath.Join(tmp, "logs"),
		"ALOHA_PID_DIR="+filepath.Join(tmp, "pids"),
		"ALOHA_WORKER_DIR="+filepath.Join(tmp, "worker-dir"),
	)
	os.MkdirAll(filepath.Join(tmp, "pids"), 0o755)
	sh := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("bash", append([]string{"sbin/aloha-daemon.sh"}, args...)...)
		cmd.Dir, cmd.Env = home, env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("bash sbin/aloha-daemon.sh %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	t.Cleanup(func() {
		for _, role := range []string{"worker", "master"} {
			cmd := exec.Command("bash", "sbin/aloha-daemon.sh", "stop", role)
			cmd.Dir, cmd.Env = home, env
			cmd.Run()
		}
	})

	sh("start", "master", "-h", "127.0.0.1", "-p", "1234")
	masterLog := waitFileMatch(t, filepath.Join(tmp, "logs"), "master", `msg="master listening" url=aloha://127\.0\.0\.1:1234`)
	sh("start", "worker", "-h", "127.0.0.1", "aloha://127.0.0.1:1234")
	waitFileMatch(t, filepath.Join(tmp, "logs"), "worker", `Successfully registered with master aloha://127\.0\.0\.1:1234`)

	out := curl(t, "-X", "POST",
		"-d", `{"action":"CreateSubmissionRequest","name":"test","entryPoint":"me.jrwang.app.SimpleProcess","libs":["/path/to/aloha/application"],"args":"i=0; while [ $i -le 10 ]; do echo $i; ((i++)); sleep 1; done","cores":1,"memory":256}`,
		"http://127.0.0.1:6066/v1/submissions/create")
	m := regexp.MustCompile(`"submissionId": "(app-\d{14}-\d{4,})"`).FindStringSubmatch(out)
	if m == nil || !strings.Contains(out, `"success": true`) {
		t.Fatalf("create answered:\n%s\nmaster log:\n%s", out, masterLog())
	}
	id := m[1]
	waitCurl(t, "http://127.0.0.1:6066/v1/submissions/status/"+id, `"driverState": "RUNNING"`)
	waitCurl(t, "http://127.0.0.1:6066/v1/submissions/status/"+id, `"driverState": "FINISHED"`)
	lines := scanLines(t, filepath.Join(tmp, "worker-dir", id, "stdout"))
	if strings.Join(lines, " ") != "0 1 2 3 4 5 6 7 8 9 10" {
		t.Fatalf("stdout of %s = %q", id, lines)
	}

	// The same request again, killed while it runs.
	out = curl(t, "-X", "POST",
		"-d", `{"action":"CreateSubmissionRequest","name":"test","entryPoint":"me.jrwang.app.SimpleProcess","libs":["/path/to/aloha/application"],"args":"i=0; while [ $i -le 10 ]; do echo $i; ((i++)); sleep 1; done","cores":1,"memory":256}`,
		"http://127.0.0.1:6066/v1/submissions/create")
	id = regexp.MustCompile(`"submissionId": "(app-\d{14}-\d{4,})"`).FindStringSubmatch(out)[1]
	waitCurl(t, "http://127.0.0.1:6066/v1/submissions/status/"+id, `"driverState": "RUNNING"`)
	if out := curl(t, "-X", "POST", "http://127.0.0.1:6066/v1/submissions/kill/"+id); !strings.Contains(out, `"success": true`) {
		t.Fatalf("kill answered:\n%s", out)
	}
	waitCurl(t, "http://127.0.0.1:6066/v1/submissions/status/"+id, `"driverState": "KILLED"`)

	if out := sh("stop", "worker"); !strings.Contains(out, "stopping worker") {
		t.Fatalf("stop worker said %q", out)
	}
	if out := sh("stop", "master"); !strings.Contains(out, "stopping master") {
		t.Fatalf("stop master said %q", out)
	}
}

// unpackDist builds the distribution into dir and unpacks it there,
// returning its top directory.
func unpackDist(t *testing.T, dir string) string {
	t.Helper()
	root, _ := filepath.Abs("../..")
	distDir := filepath.Join(dir, "dist")
	make := exec.Command("make", "dist", "DISTDIR="+distDir, "VERSION=0.0.0-e2e")
	make.Dir = root
	if out, err := make.CombinedOutput(); err != nil {
		t.Fatalf("make dist: %v\n%s", err, out)
	}
	unpack := exec.Command("tar", "-xzf", filepath.Join(distDir, "aloha-0.0.0-e2e-dist.tar.gz"), "-C", dir)
	if out, err := unpack.CombinedOutput(); err != nil {
		t.Fatalf("unpack: %v\n%s", err, out)
	}
	return filepath.Join(dir, "aloha-0.0.0-e2e")
}

// curl runs curl when it is installed (as the README does), else sends
// the same request with Go's client.
func curl(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := exec.LookPath("curl"); err == nil {
		out, err := exec.CommandContext(ctx, "curl", append([]string{"-sS"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("curl %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	method, body, url := "GET", "", args[len(args)-1]
	for i := 0; i < len(args)-1; i++ {
		switch args[i] {
		case "-X":
			method = args[i+1]
		case "-d":
			body = args[i+1]
		}
	}
	return fetch(ctx, t, method, url, body)
}

func waitCurl(t *testing.T, url, want string) {
	t.Helper()
	testutil.WaitFor(t, 60*time.Second, func() error {
		if out := curl(t, url); !strings.Contains(out, want) {
			return fmt.Errorf("GET %s does not contain %s:\n%s", url, want, out)
		}
		return nil
	})
}

// waitFileMatch waits until a log file in dir whose name contains role
// matches re; it returns a function that reads the file.
func waitFileMatch(t *testing.T, dir, role, re string) func() string {
	t.Helper()
	rx := regexp.MustCompile(re)
	var path string
	testutil.WaitFor(t, 30*time.Second, func() error {
		matches, _ := filepath.Glob(filepath.Join(dir, "*"+role+"*.out"))
		for _, m := range matches {
			if b, _ := os.ReadFile(m); rx.Match(b) {
				path = m
				return nil
			}
		}
		return fmt.Errorf("no %s log in %s matches %q (%v)", role, dir, re, matches)
	})
	return func() string {
		b, _ := os.ReadFile(path)
		return string(b)
	}
}
