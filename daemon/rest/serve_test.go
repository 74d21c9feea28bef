package rest

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/internal/testutil"
)

// Serve answers until its context is done, then lets the request in flight
// finish and returns nil.
func TestServe_GracefulShutdown(t *testing.T) {
	b := newFake()
	b.apps[seedID] = api.AppInfo{ID: seedID, State: api.AppRunning}
	b.block = make(chan struct{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, ln, NewHandler(b, Options{}), nil) }()

	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	url := "http://" + ln.Addr().String() + "/v1/submissions/status/" + seedID
	type answer struct {
		status int
		err    error
	}
	answered := make(chan answer, 1)
	go func() {
		resp, err := client.Get(url)
		if err != nil {
			answered <- answer{err: err}
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		answered <- answer{status: resp.StatusCode}
	}()
	testutil.WaitFor(t, 5*time.Second, func() error {
		if len(b.Calls()) == 0 {
			return errors.New("the request has not reached the backend")
		}
		return nil
	})

	// Once the listener refuses connections the shutdown has begun; the
	// request in flight must still be answered.
	cancel()
	testutil.WaitFor(t, 5*time.Second, func() error {
		c, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second)
		if err != nil {
			return nil
		}
		c.Close()
		return errors.New("the listener still accepts connections")
	})
	select {
	case err := <-served:
		t.Fatalf("Serve returned %v with a request in flight", err)
	default:
	}
	close(b.block)
	if a := <-answered; a.err != nil || a.status != 200 {
		t.Errorf("request in flight at shutdown = %d, %v; want 200", a.status, a.err)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve after shutdown = %v, want nil", err)
	}
}

func TestServe_ListenerFails(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	if err := Serve(context.Background(), ln, http.NotFoundHandler(), nil); err == nil {
		t.Errorf("Serve on a closed listener = nil, want an error")
	}
}
