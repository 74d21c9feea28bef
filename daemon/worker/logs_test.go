package worker

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/wire"
)

func readLog(t *testing.T, fm *fakeMaster, req *api.ReadLogRequest) (*api.LogChunk, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	v, err := fm.node.Ask(ctx, fm.workerAddr(), req)
	if err != nil {
		return nil, err
	}
	return v.(*api.LogChunk), nil
}

func TestReadLogs(t *testing.T) {
	fm := newFakeMaster(t)
	startWorker(t, fm, t.TempDir(), nil)
	id := newID()
	fm.launch(id, 1, shellSpec("echo line1; echo err1 >&2"))
	fm.waitReport(id, api.AppFinished)
	c, err := readLog(t, fm, &api.ReadLogRequest{AppID: id, Stream: api.Stdout})
	if err != nil || string(c.Data) != "line1\n" || !c.Done {
		t.Fatalf("stdout = %+v, %v", c, err)
	}
	c, err = readLog(t, fm, &api.ReadLogRequest{AppID: id, Stream: api.Stderr, Offset: -5})
	if err != nil || string(c.Data) != "err1\n" {
		t.Fatalf("stderr tail = %q, %v", c.Data, err)
	}
}

func TestFollowLogs(t *testing.T) {
	fm := newFakeMaster(t)
	startWorker(t, fm, t.TempDir(), nil)
	id := newID()
	gate := filepath.Join(t.TempDir(), "gate")
	fm.launch(id, 1, shellSpec(`echo first; while [ ! -e `+gate+` ]; do sleep 0.02; done; echo second`))
	fm.waitReport(id, api.AppRunning)
	var got strings.Builder
	var offset int64
	opened := false
	for {
		c, err := readLog(t, fm, &api.ReadLogRequest{AppID: id, Stream: api.Stdout, Offset: offset, Wait: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		got.Write(c.Data)
		offset = c.Offset + int64(len(c.Data))
		if strings.Contains(got.String(), "first") && !opened {
			opened = true
			os.WriteFile(gate, nil, 0o644)
		}
		if c.Done {
			break
		}
	}
	if got.String() != "first\nsecond\n" {
		t.Fatalf("followed output = %q", got.String())
	}
}

func TestLogReadsAreConfined(t *testing.T) {
	fm := newFakeMaster(t)
	tw := startWorker(t, fm, t.TempDir(), nil)
	id := newID()
	fm.launch(id, 1, shellSpec("true"))
	fm.waitReport(id, api.AppFinished)
	// A symlink planted in place of the stdout file is not followed.
	secret := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(secret, []byte("top secret"), 0o600)
	out := filepath.Join(appDir(tw, id), "stdout")
	os.Remove(out)
	if err := os.Symlink(secret, out); err != nil {
		t.Fatal(err)
	}
	// An application directory replaced by a symlink is not followed either.
	linked := newID()
	if err := os.Symlink(filepath.Dir(secret), filepath.Join(tw.dir, linked)); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		req  api.ReadLogRequest
		code string
	}{
		{api.ReadLogRequest{AppID: "../../etc", Stream: api.Stdout}, api.CodeInvalid},
		{api.ReadLogRequest{AppID: id, Stream: "../app.pid"}, api.CodeInvalid},
		{api.ReadLogRequest{AppID: id, Stream: "app.pid"}, api.CodeInvalid},
		{api.ReadLogRequest{AppID: id, Stream: api.Stdout}, api.CodeRefused},
		{api.ReadLogRequest{AppID: linked, Stream: api.Stdout}, api.CodeNotFound},
		{api.ReadLogRequest{AppID: newID(), Stream: api.Stdout}, api.CodeNotFound},
	}
	for _, tc := range cases {
		c, err := readLog(t, fm, &tc.req)
		var re *wire.RemoteError
		if !errors.As(err, &re) || re.Code != tc.code {
			t.Errorf("ReadLog(%+v) = %+v, %v; want %s", tc.req, c, err, tc.code)
		}
		if c != nil && strings.Contains(string(c.Data), "top secret") {
			t.Errorf("ReadLog(%+v) leaked the file", tc.req)
		}
	}
}
