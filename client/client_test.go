package client_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/client"
	"github.com/alohasched/aloha/daemon/config"
	"github.com/alohasched/aloha/daemon/server"
	"github.com/alohasched/aloha/internal/testutil"
	"github.com/alohasched/aloha/wire"
)

// The client's tests run against a real cluster in this process.

func startCluster(t testing.TB, workers int) (*server.Local, string) {
	t.Helper()
	conf := config.Defaults()
	for k, v := range map[string]string{config.MasterPort: "0", config.MasterRESTEnabled: "false"} {
		if err := conf.Set(k, v, "test"); err != nil {
			t.Fatal(err)
		}
	}
	l, err := server.NewLocal(conf, server.LocalOptions{Workers: workers, Cores: 2, Memory: 2048, WorkDir: t.TempDir()},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	c := newClient(t, l.Master.URL())
	testutil.WaitFor(t, 20*time.Second, func() error {
		info, err := c.MasterInfo(context.Background())
		if err != nil {
			return err
		}
		if info.AliveWorkers != workers {
			return errors.New("workers not registered yet")
		}
		return nil
	})
	return l, l.Master.URL()
}

func newClient(t testing.TB, masters ...string) *client.Client {
	t.Helper()
	c, err := client.New(client.Config{Masters: masters})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func ctx(t testing.TB, d time.Duration) context.Context {
	c, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return c
}

func shell(script string) api.AppSpec {
	return api.AppSpec{Name: "t", EntryPoint: "shell", Args: script, Memory: 64}
}

func waitFinal(t *testing.T, c *client.Client, id string) *api.AppInfo {
	t.Helper()
	var info *api.AppInfo
	testutil.WaitFor(t, 30*time.Second, func() error {
		var err error
		if info, err = c.Status(context.Background(), id); err != nil {
			return err
		}
		if !info.State.IsFinal() {
			return errors.New(string(info.State))
		}
		return nil
	})
	return info
}

func TestSubmitStatusListKill(t *testing.T) {
	_, url := startCluster(t, 2)
	c := newClient(t, url)
	id, err := c.Submit(ctx(t, 10*time.Second), shell("echo hi"))
	if err != nil {
		t.Fatal(err)
	}
	if info := waitFinal(t, c, id); info.State != api.AppFinished {
		t.Fatalf("app = %+v", info)
	}
	long, err := c.Submit(ctx(t, 10*time.Second), shell("sleep 1000"))
	if err != nil {
		t.Fatal(err)
	}
	apps, err := c.List(ctx(t, 10*time.Second), api.ListAppsRequest{})
	if err != nil || len(apps) != 2 || apps[0].ID != long {
		t.Fatalf("List = %+v, %v", apps, err)
	}
	workers, err := c.Workers(ctx(t, 10*time.Second))
	if err != nil || len(workers) != 2 {
		t.Fatalf("Workers = %+v, %v", workers, err)
	}
	if _, err := c.Kill(ctx(t, 10*time.Second), long); err != nil {
		t.Fatal(err)
	}
	if info := waitFinal(t, c, long); info.State != api.AppKilled {
		t.Fatalf("killed app = %+v", info)
	}
}

func TestTypedErrors(t *testing.T) {
	_, url := startCluster(t, 1)
	c := newClient(t, url)
	_, err := c.Status(ctx(t, 10*time.Second), "app-20200101000000-0001")
	if !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("status of an unknown app = %v", err)
	}
	_, err = c.Submit(ctx(t, 10*time.Second), api.AppSpec{Name: "x", EntryPoint: "nope"})
	var refused *client.RefusedError
	if !errors.As(err, &refused) || !strings.Contains(refused.Reason, "known kinds") {
		t.Fatalf("unknown kind = %v", err)
	}
	_, err = c.Submit(ctx(t, 10*time.Second), api.AppSpec{EntryPoint: "shell"})
	var invalid *client.InvalidError
	if !errors.As(err, &invalid) || !strings.Contains(invalid.Reason, "name") {
		t.Fatalf("missing name = %v", err)
	}
	// Nothing listens at this address.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := "aloha://" + ln.Addr().String()
	ln.Close()
	_, err = newClient(t, dead).Status(ctx(t, 500*time.Millisecond), "app-20200101000000-0001")
	var unreachable *client.UnreachableError
	// "(connection refused)", unless another test's listener took the
	// freed port meanwhile.
	if !errors.As(err, &unreachable) || !strings.HasPrefix(err.Error(), "no master reachable at "+dead+" (") {
		t.Fatalf("no master = %v", err)
	}
}

func TestWrongSecretIsUnauthenticated(t *testing.T) {
	_, url := startCluster(t, 1)
	c, err := client.New(client.Config{Masters: []string{url}, Secret: []byte("guess")})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.MasterInfo(ctx(t, 10*time.Second)); !errors.Is(err, client.ErrUnauthenticated) {
		t.Fatalf("wrong secret = %v", err)
	}
}

// A standby names the leader; the client goes there by itself.
func TestFindsTheLeaderThroughAStandby(t *testing.T) {
	_, leader := startCluster(t, 1)
	standby := fakeStandby(t, leader)
	c := newClient(t, standby)
	info, err := c.MasterInfo(ctx(t, 10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if info.URL != leader || c.Leader() != leader {
		t.Fatalf("answered by %s, client follows %s; want the leader %s", info.URL, c.Leader(), leader)
	}
}

// fakeStandby answers every request as a standby naming leader.
func fakeStandby(t *testing.T, leader string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	node, err := wire.NewNode(wire.Config{Registry: api.NewRegistry(), AdvertiseAddr: ln.Addr().String(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	node.Register(api.MasterEndpoint, wire.HandlerFunc(func(m *wire.Message) (any, error) {
		return nil, &wire.RemoteError{Code: api.CodeStandby, Message: "standby", Detail: leader}
	}))
	c, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); node.Serve(c, ln) }()
	t.Cleanup(func() { cancel(); node.Close(); <-done })
	return "aloha://" + ln.Addr().String()
}

func TestLogsFollowUntilTheEnd(t *testing.T) {
	_, url := startCluster(t, 1)
	c := newClient(t, url)
	id, err := c.Submit(ctx(t, 10*time.Second), shell("for i in 1 2 3; do echo line$i; sleep 0.1; done; echo oops >&2"))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := c.Logs(ctx(t, 30*time.Second), id, client.LogOptions{Follow: true}, &out); err != nil {
		t.Fatal(err)
	}
	if out.String() != "line1\nline2\nline3\n" {
		t.Fatalf("followed stdout = %q", out.String())
	}
	var errOut bytes.Buffer
	if err := c.Logs(ctx(t, 10*time.Second), id, client.LogOptions{Stream: api.Stderr, Tail: 5}, &errOut); err != nil {
		t.Fatal(err)
	}
	if errOut.String() != "oops\n" {
		t.Fatalf("stderr tail = %q", errOut.String())
	}
}

func TestEventsFollowALifeCycle(t *testing.T) {
	_, url := startCluster(t, 1)
	c := newClient(t, url)
	id, err := c.Submit(ctx(t, 10*time.Second), shell("true"))
	if err != nil {
		t.Fatal(err)
	}
	var states []string
	stop := errors.New("done")
	err = c.Events(ctx(t, 30*time.Second), 0, true, func(e api.Event) error {
		if e.Type == api.EventAppStateChanged && e.AppID == id {
			states = append(states, string(e.State))
			if e.State.IsFinal() {
				return stop
			}
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Fatalf("Events = %v", err)
	}
	if got := strings.Join(states, ","); got != "SUBMITTED,LAUNCHING,RUNNING,FINISHED" {
		t.Fatalf("life cycle = %s", got)
	}
}
