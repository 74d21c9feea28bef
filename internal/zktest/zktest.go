// Package zktest gives tests a real ZooKeeper server, never a mock.
//
// Server returns the address of one: the one named by the environment
// variable ALOHA_TEST_ZOOKEEPER (CI starts it, see .ci/run), or else a
// standalone server this test binary starts from Debian's zookeeper
// package on first use and stops when the binary ends. Packages that use
// it route their TestMain through Main:
//
//	func TestMain(m *testing.M) { os.Exit(zktest.Main(m)) }
//
// With neither, tests fail when the environment variable CI is set (a CI
// run must not pass by skipping) and skip loudly otherwise.
//
// Chroot gives each test a path of its own on the shared server, deleted
// with everything under it when the test ends.
package zktest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
)

// EnvServer names a running server ("host:port") to use instead of
// starting one.
const EnvServer = "ALOHA_TEST_ZOOKEEPER"

// Where Debian's zookeeper package puts the server and the logger that
// lets it write its log.
const (
	serverJar = "/usr/share/java/zookeeper.jar"
	loggerJar = "/usr/share/java/slf4j-simple.jar"
)

// TickTime of the server this package starts. The server bounds session
// timeouts to 2–20 ticks, so 250 ms allows sessions of 0.5–5 s: short
// enough for expiry tests to take a second or two.
const TickTime = 250 * time.Millisecond

// startTimeout bounds the wait for the new server to serve; it
// is ready in well under a second on an idle machine, but a loaded CI
// machine starting a JVM next to a parallel test run can be slow.
const startTimeout = 60 * time.Second

// local is the server this test binary started. Package state on
// purpose: one JVM serves every test of the binary (each in its own
// Chroot), instead of one start-up per test.
var local struct {
	once sync.Once
	addr string
	err  error
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
	dir  string
}

// Server returns the "host:port" of a ZooKeeper server for tests, or ends
// the test (Fatal in CI, Skip elsewhere) when there is none.
func Server(t testing.TB) string {
	t.Helper()
	if addr := os.Getenv(EnvServer); addr != "" {
		return addr
	}
	java, _ := exec.LookPath("java")
	if _, err := os.Stat(serverJar); err != nil || java == "" {
		why := fmt.Sprintf("no ZooKeeper: %s is not set, and %s or java is missing", EnvServer, serverJar)
		if os.Getenv("CI") != "" {
			t.Fatalf("%s. ZooKeeper tests must run in CI: install the zookeeper package (.ci/run does) or set %s", why, EnvServer)
		}
		t.Skipf("SKIPPED — %s. THESE ZOOKEEPER TESTS DID NOT RUN. Enable them with `apt-get install -y zookeeper` "+
			"(then tests start a server themselves) or %s=host:port of a running server.", why, EnvServer)
	}
	local.once.Do(func() { local.addr, local.err = start(java) })
	if local.err != nil {
		t.Fatalf("zktest: cannot start a ZooKeeper server: %v", local.err)
	}
	return local.addr
}

// Main runs the tests, then stops the server Server may have started and
// removes its data. Call it from TestMain; without it, the server still
// dies with the test binary, but its temporary directory stays.
func Main(m *testing.M) int {
	code := m.Run()
	stop()
	return code
}

// start runs a standalone server on a free loopback port. Picking the
// port and binding it are two steps, so another process may take the
// port in between; start then tries again with another.
func start(java string) (string, error) {
	dir, err := os.MkdirTemp("", "aloha-zktest-")
	if err != nil {
		return "", err
	}
	local.dir = dir
	var last error
	for attempt := 0; attempt < 3; attempt++ {
		addr, err := startOnce(java, dir, attempt)
		if err == nil {
			return addr, nil
		}
		last = err
	}
	return "", last
}

func startOnce(java, dir string, attempt int) (string, error) {
	port, err := freePort()
	if err != nil {
		return "", err
	}
	data := filepath.Join(dir, fmt.Sprintf("data-%d", attempt))
	cfg := filepath.Join(dir, fmt.Sprintf("zoo-%d.cfg", attempt))
	conf := fmt.Sprintf("tickTime=%d\ndataDir=%s\nclientPortAddress=127.0.0.1\nclientPort=%d\n"+
		"admin.enableServer=false\n4lw.commands.whitelist=ruok,srvr,stat\n", TickTime.Milliseconds(), data, port)
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		return "", err
	}
	logPath := filepath.Join(dir, fmt.Sprintf("zookeeper-%d.log", attempt))
	logFile, err := os.Create(logPath)
	if err != nil {
		return "", err
	}
	defer logFile.Close()
	cmd := exec.Command(java, "-Xmx256m", "-cp", serverJar+":"+loggerJar,
		"org.apache.zookeeper.server.quorum.QuorumPeerMain", cfg)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Should the test binary die without reaching Main's stop (a panic,
	// the -timeout alarm, a kill), the kernel takes the server with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return "", err
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(startTimeout)
	for !Ready(addr) {
		select {
		case <-exited:
			return "", fmt.Errorf("the server exited at start:\n%s", tail(logPath))
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			<-exited
			return "", fmt.Errorf("the server did not serve (ruok, srvr) within %s:\n%s", startTimeout, tail(logPath))
		}
	}
	local.cmd, local.done = cmd, exited
	return addr, nil
}

// stop ends the server started by Server, if any, and removes its data.
func stop() {
	if local.cmd != nil {
		local.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-local.done:
		case <-time.After(5 * time.Second): // SIGTERM takes about 2 s
			local.cmd.Process.Kill()
			<-local.done
		}
	}
	if local.dir != "" {
		os.RemoveAll(local.dir)
	}
}

// Ready says whether the server at addr serves: it answers ZooKeeper's
// ruok command with imok, and srvr with its mode. ruok alone is not
// enough: the server answers it a moment before it accepts sessions.
func Ready(addr string) bool {
	return fourLetter(addr, "ruok") == "imok" && strings.Contains(fourLetter(addr, "srvr"), "Mode: ")
}

// fourLetter sends one of ZooKeeper's four-letter commands and returns
// the reply, "" on error.
func fourLetter(addr, cmd string) string {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return ""
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte(cmd)); err != nil {
		return ""
	}
	b, _ := io.ReadAll(c)
	return string(b)
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// tail is the end of the server's log, for failure messages.
func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(bytes.TrimSpace(b))
}

// Chroot returns a path no other test uses, /aloha-test/<test>-<random>,
// on the server Server returns. It is not created; whatever is under it
// when the test ends is deleted.
func Chroot(t testing.TB) string {
	t.Helper()
	addr := Server(t)
	var r [4]byte
	rand.Read(r[:])
	name := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())
	root := "/aloha-test/" + name + "-" + hex.EncodeToString(r[:])
	t.Cleanup(func() {
		if err := deleteAll(addr, root); err != nil {
			t.Errorf("zktest: cleaning %s: %v", root, err)
		}
	})
	return root
}

// deleteAll removes root and everything under it. Ephemeral nodes of
// sessions that are closing may still appear under it for a moment, so
// a non-empty node is retried a few times.
func deleteAll(addr, root string) error {
	conn, _, err := zk.Connect([]string{addr}, 10*time.Second, zk.WithLogger(quiet{}))
	if err != nil {
		return err
	}
	defer conn.Close()
	var last error
	for attempt := 0; attempt < 20; attempt++ {
		if last = deleteTree(conn, root); last == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return last
}

func deleteTree(conn *zk.Conn, p string) error {
	children, _, err := conn.Children(p)
	if errors.Is(err, zk.ErrNoNode) {
		return nil
	}
	if err != nil {
		return err
	}
	// Tests leave thousands of leaves: delete them a thousand to a
	// request (about 60 KB, far below ZooKeeper's 1 MB limit).
	for i := 0; i < len(children); i += 1000 {
		chunk := children[i:min(i+1000, len(children))]
		ops := make([]any, len(chunk))
		for j, c := range chunk {
			ops[j] = &zk.DeleteRequest{Path: p + "/" + c, Version: -1}
		}
		if _, err := conn.Multi(ops...); err == nil {
			continue
		}
		// A child has children of its own, or is gone: one at a time.
		for _, c := range chunk {
			if err := deleteTree(conn, p+"/"+c); err != nil {
				return err
			}
		}
	}
	if err := conn.Delete(p, -1); err != nil && !errors.Is(err, zk.ErrNoNode) {
		return err
	}
	return nil
}

// quiet drops the zk client's log: connection chatter is noise in tests.
type quiet struct{}

func (quiet) Printf(string, ...any) {}
