package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/daemon/config"
	"github.com/alohasched/aloha/daemon/events"
	"github.com/alohasched/aloha/daemon/master"
	"github.com/alohasched/aloha/internal/testutil"
)

func confWith(t *testing.T, kv map[string]string) *config.Conf {
	t.Helper()
	conf := config.Defaults()
	for k, v := range kv {
		if err := conf.Set(k, v, "test"); err != nil {
			t.Fatal(err)
		}
	}
	return conf
}

func TestListenersFromConfiguration(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	ok := confWith(t, map[string]string{
		config.ExtraListeners:      "log, Webhook,exec",
		config.WebhookURL:          "http://127.0.0.1:9/hook",
		config.ExecListenerCommand: "true",
	})
	ls, err := Listeners(ok, log)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range ls {
		names = append(names, events.ListenerName(l))
	}
	if strings.Join(names, ",") != "log,webhook,exec" {
		t.Fatalf("listeners = %v", names)
	}
	if ls, err := Listeners(config.Defaults(), log); err != nil || len(ls) != 0 {
		t.Fatalf("Listeners(defaults) = %v, %v; want none", ls, err)
	}

	cases := []struct {
		name string
		kv   map[string]string
		want []string
	}{
		{"unknown", map[string]string{config.ExtraListeners: "log,kafka"},
			[]string{config.ExtraListeners, `unknown listener "kafka"`, "known listeners: exec, log, webhook"}},
		{"webhook without url", map[string]string{config.ExtraListeners: "webhook"},
			[]string{config.WebhookURL, "required when aloha.extraListeners includes webhook"}},
		{"bad url", map[string]string{config.ExtraListeners: "webhook", config.WebhookURL: "ftp://x/y"},
			[]string{config.WebhookURL, "http:// or https://"}},
		{"exec without command", map[string]string{config.ExtraListeners: "exec"},
			[]string{config.ExecListenerCommand, "required when aloha.extraListeners includes exec"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Listeners(confWith(t, tc.kv), log)
			var ve *config.ValueError
			if err == nil || !errors.As(err, &ve) {
				t.Fatalf("Listeners = %v, want a config.ValueError", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Listeners = %v, want it to say %q", err, w)
				}
			}
			// The master refuses to start.
			if _, err := NewMaster(confWith(t, tc.kv), log); err == nil || !strings.Contains(err.Error(), tc.want[0]) {
				t.Errorf("NewMaster = %v, want a refusal naming %s", err, tc.want[0])
			}
		})
	}
}

// The configured listeners and the embedding program's own are told of a
// run from start to end.
func TestConfiguredListenersSeeAnApplication(t *testing.T) {
	var mu sync.Mutex
	var posted []api.Event
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var e api.Event
		body, _ := io.ReadAll(r.Body)
		if r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(body, &e) != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		mu.Lock()
		posted = append(posted, e)
		mu.Unlock()
	}))
	defer hook.Close()
	out := filepath.Join(t.TempDir(), "events")
	conf := confWith(t, map[string]string{
		config.ExtraListeners:      "webhook,exec",
		config.WebhookURL:          hook.URL,
		config.ExecListenerCommand: `echo "$ALOHA_EVENT_TYPE $ALOHA_EVENT_APP_ID $ALOHA_EVENT_STATE" >> '` + out + `'`,
	})
	own := make(chan api.Event, 100)
	l := startLocal(t, conf, LocalOptions{Workers: 1, Cores: 1, Memory: 256, Listeners: []events.Listener{
		events.ListenerFunc(func(_ context.Context, e api.Event) error { own <- e; return nil }),
	}})
	id, err := master.Backend{M: l.Master.Scheduler()}.Submit(context.Background(), api.AppSpec{Name: "l", EntryPoint: "shell", Args: "true", Memory: 16})
	if err != nil {
		t.Fatal(err)
	}
	waitFinal(t, l, id)
	finished := "AppStateChanged " + id + " FINISHED"
	testutil.WaitFor(t, 20*time.Second, func() error {
		data, _ := os.ReadFile(out)
		if !strings.Contains(string(data), finished) {
			return fmt.Errorf("exec listener wrote %q", data)
		}
		mu.Lock()
		defer mu.Unlock()
		for _, e := range posted {
			if e.AppID == id && e.State == api.AppFinished {
				return nil
			}
		}
		return fmt.Errorf("webhook received %d events, none the end of %s", len(posted), id)
	})
	deadline := time.After(20 * time.Second)
	for seen := false; !seen; {
		select {
		case e := <-own:
			seen = e.AppID == id && e.State == api.AppFinished
		case <-deadline:
			t.Fatalf("the program's own listener was not told %s finished", id)
		}
	}
	st, err := l.Master.Scheduler().Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, ls := range st.Listeners {
		if ls.Failures != 0 || ls.Dropped != 0 {
			t.Errorf("listener stats = %+v", ls)
		}
	}
}
