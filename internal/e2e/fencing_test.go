package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/client"
	"github.com/alohasched/aloha/internal/testutil"
	"github.com/alohasched/aloha/wire"
)

func clientFor(t *testing.T, urls ...string) *client.Client {
	t.Helper()
	c, err := client.New(client.Config{Masters: urls})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func masterState(c *client.Client) (api.MasterState, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	info, err := c.MasterInfo(ctx)
	if err != nil {
		return "", err
	}
	return info.State, nil
}

// DESIGN §4: two masters never schedule at once. A leader frozen with
// SIGSTOP while a standby takes over obeys nothing of its old term when
// it resumes: an order it sends then carries a deposed epoch, which the
// worker refuses, and it steps down.
func TestFrozenLeaderIsFenced(t *testing.T) {
	h := startHA(t, "ZOOKEEPER", 2, "-Daloha.worker.timeout=10s")
	old := h.leader()
	other := 1 - old
	startWorker(t, filepath.Join(h.dir, "work"), h.masterList())
	c := h.client()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	id, err := c.Submit(ctx, api.AppSpec{Name: "keep", EntryPoint: "shell", Args: "sleep 1000", Memory: 16})
	if err != nil {
		t.Fatal(err)
	}
	waitClientState(t, c, id, api.AppRunning)
	pid := readPid(t, filepath.Join(h.dir, "work", id))

	frozen := h.masters[old]
	if err := syscall.Kill(frozen.cmd.Process.Pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer syscall.Kill(frozen.cmd.Process.Pid, syscall.SIGCONT)
	// The standby takes over once the frozen leader's session expires.
	successor := clientFor(t, h.urls[other])
	testutil.WaitFor(t, 60*time.Second, func() error {
		st, err := masterState(successor)
		if err != nil {
			return err
		}
		if st != api.MasterAlive {
			return fmt.Errorf("successor is %s", st)
		}
		return nil
	})
	// A kill reaches the frozen master; it is handled when it resumes. It
	// is sent over the wire directly: a client would follow the standby's
	// referral to the new leader, which may kill.
	killed := make(chan error, 1)
	go func() {
		node, err := wire.NewNode(wire.Config{Registry: api.NewRegistry()})
		if err != nil {
			killed <- err
			return
		}
		defer node.Close()
		to, _ := wire.ParseAddress(h.urls[old])
		to.Name = api.MasterEndpoint
		kctx, kcancel := context.WithTimeout(context.Background(), time.Minute)
		defer kcancel()
		_, err = node.Ask(kctx, to, &api.KillAppRequest{AppID: id})
		killed <- err
	}()
	// Let the request reach its socket before the master thaws.
	testutil.WaitFor(t, 10*time.Second, func() error {
		if n := establishedTo(t, frozen.cmd.Process.Pid); n < 2 {
			return fmt.Errorf("%d connections to the frozen master", n)
		}
		return nil
	})
	syscall.Kill(frozen.cmd.Process.Pid, syscall.SIGCONT)
	t.Logf("the thawed master answered the kill with: %v", <-killed)
	// The old master steps down; the application was not killed.
	thawed := clientFor(t, h.urls[old])
	testutil.WaitFor(t, 30*time.Second, func() error {
		st, err := masterState(thawed)
		if err != nil {
			return err
		}
		if st != api.MasterStandby {
			return fmt.Errorf("the thawed master is %s", st)
		}
		return nil
	})
	if info := waitClientState(t, successor, id, api.AppRunning); info.State != api.AppRunning {
		t.Fatalf("app after the thaw: %+v", info)
	}
	if len(liveInGroup(pid)) == 0 {
		t.Fatal("the deposed master's kill was obeyed")
	}
}

// establishedTo counts the TCP connections accepted by process pid, read
// from /proc: a way to know a request is queued for a frozen process.
func establishedTo(t *testing.T, pid int) int {
	fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	n := 0
	for _, fd := range fds {
		link, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if strings.HasPrefix(link, "socket:") {
			n++
		}
	}
	return n
}

// proxy forwards TCP between a worker and its master and can drop every
// byte in both directions (a partition) and resume (the heal), while the
// connections stay open, as a real network partition leaves them.
type proxy struct {
	ln     net.Listener
	target string

	mu   sync.Mutex
	cond *sync.Cond
	open bool
}

func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target, open: true}
	p.cond = sync.NewCond(&p.mu)
	var conns []net.Conn
	var cmu sync.Mutex
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", target)
			if err != nil {
				in.Close()
				continue
			}
			cmu.Lock()
			conns = append(conns, in, out)
			cmu.Unlock()
			go p.pipe(in, out)
			go p.pipe(out, in)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		p.set(true)
		cmu.Lock()
		for _, c := range conns {
			c.Close()
		}
		cmu.Unlock()
	})
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) set(open bool) {
	p.mu.Lock()
	p.open = open
	p.mu.Unlock()
	p.cond.Broadcast()
}

// pipe copies src to dst, holding data back while the proxy is closed.
func (p *proxy) pipe(src, dst net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			for !p.open {
				p.cond.Wait()
			}
			p.mu.Unlock()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if err != io.EOF {
				dst.Close()
			}
			return
		}
	}
}

// A worker cut off from the master long enough to be declared dead has
// its supervised application relaunched elsewhere; when the partition
// heals, the master has the stale copy killed: no application runs
// twice after the heal.
func TestPartitionedWorkerHeals(t *testing.T) {
	dir := t.TempDir()
	_, url, _ := startMaster(t, dir, "-Daloha.worker.timeout=2s")
	p := startProxy(t, strings.TrimPrefix(url, "aloha://"))
	cutDir := filepath.Join(dir, "cut")
	startWorker(t, cutDir, "aloha://"+p.addr())
	c := clientFor(t, url)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	id, err := c.Submit(ctx, api.AppSpec{Name: "sup", EntryPoint: "shell", Args: "sleep 1000", Memory: 16, Supervise: true})
	if err != nil {
		t.Fatal(err)
	}
	waitClientState(t, c, id, api.AppRunning)
	stale := readPid(t, filepath.Join(cutDir, id))
	startWorker(t, filepath.Join(dir, "healthy"), url)

	p.set(false) // partition
	old := waitClientState(t, c, id, api.AppRelaunching)
	fresh := old.RelaunchedAs
	waitClientState(t, c, fresh, api.AppRunning)
	p.set(true) // heal
	waitGone(t, stale)
	if info := waitClientState(t, c, fresh, api.AppRunning); info.State != api.AppRunning {
		t.Fatalf("relaunched app after the heal: %+v", info)
	}
}
