package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/daemon/app"
)

// appMetaFile records, in an application's directory, what a restarted
// worker needs to re-attach the run and to report it.
const appMetaFile = "app.json"

// appEndedFile is appMetaFile once the master has acknowledged the run's
// end: a rename, which costs no inode allocation, instead of writing the
// file again, which costs one (the dearest part of a launch on ext4).
const appEndedFile = "app.json.ended"

// appMeta is the content of appMetaFile.
type appMeta struct {
	AppID     string      `json:"appId"`
	Run       int         `json:"run"`
	Spec      api.AppSpec `json:"spec"`
	StartedAt time.Time   `json:"startedAt"`
	// WorkerID is the worker that launched the run.
	WorkerID string `json:"workerId,omitempty"`
	// Ended is set once the master acknowledged the run's end; such a
	// directory holds nothing to re-attach or report.
	Ended bool         `json:"ended,omitempty"`
	State api.AppState `json:"state,omitempty"`
}

// launch starts a run ordered by the master. Loop-only.
func (w *Worker) launch(l *api.LaunchApp) error {
	if err := w.checkEpoch(l.Epoch, "launch of "+l.AppID); err != nil {
		return err
	}
	if err := w.checkSession(l.Session, "launch of "+l.AppID); err != nil {
		return err
	}
	if !api.ValidAppID(l.AppID) {
		return fmt.Errorf("launch: %q is not an application id", l.AppID)
	}
	if cur := w.apps[l.AppID]; cur != nil {
		if cur.run == l.Run {
			return nil // a repeated order
		}
		w.log.Warn("launch of a new run while the old one runs; stopping the old one", "app", l.AppID, "old_run", cur.run, "run", l.Run)
		w.stop(cur, "replaced by run "+strconv.Itoa(l.Run))
	}
	r := &run{id: l.AppID, run: l.Run, spec: l.Spec, dir: filepath.Join(w.opts.WorkDir, l.AppID), startedAt: time.Now(), state: api.AppLaunching, launchedBy: w.id}
	w.apps[l.AppID] = r
	w.running.Store(int64(len(w.apps)))
	w.launches.Add(1)
	w.setEnded(l.AppID, false)
	kind, ok := w.opts.Kinds.Lookup(l.Spec.EntryPoint)
	if !ok {
		w.ended(r, app.Exit{Code: -1, Err: fmt.Errorf("kind %q is not available on this worker (it runs %s)", l.Spec.EntryPoint, strings.Join(w.opts.Kinds.Names(), ", "))})
		return nil
	}
	launch := &app.Launch{AppID: l.AppID, Spec: l.Spec, Dir: r.dir, Env: w.appEnv(r), KillTimeout: w.opts.KillTimeout}
	w.goAttach(func() {
		select {
		case w.launchSlots <- struct{}{}:
		case <-w.ctx.Done():
			return
		}
		handle, err := w.start(kind, launch, r)
		<-w.launchSlots
		w.post(func() { w.started(r, handle, err) })
	})
	return nil
}

// start prepares the directory and starts the process. It runs off the
// loop and touches only its arguments.
func (w *Worker) start(kind app.Kind, l *app.Launch, r *run) (app.Running, error) {
	// Mkdir, not MkdirAll: the work dir exists, and launches are hot
	// enough here for the extra stat to count. A restart of the same
	// application finds its directory already there.
	if err := os.Mkdir(l.Dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("create application directory: %w", err)
	}
	meta := appMeta{AppID: r.id, Run: r.run, Spec: r.spec, StartedAt: r.startedAt, WorkerID: r.launchedBy}
	if err := writeMeta(l.Dir, &meta); err != nil {
		return nil, err
	}
	return kind.Start(w.ctx, l)
}

// started records the outcome of a start. Loop-only.
func (w *Worker) started(r *run, handle app.Running, err error) {
	if w.apps[r.id] != r {
		// Replaced meanwhile: stop what started.
		if handle != nil {
			handle.Shutdown("replaced by a newer run")
		}
		return
	}
	if err != nil {
		w.ended(r, app.Exit{Code: -1, Err: err})
		return
	}
	r.handle = handle
	r.state = api.AppRunning
	w.log.Info("application started", "app", r.id, "run", r.run, "kind", r.spec.EntryPoint, "pid", handle.Pid(), "dir", r.dir)
	w.watch(r)
	if r.killReason != "" { // killed while starting
		handle.Shutdown(r.killReason)
	}
	w.reportState(r, api.AppRunning, "running on "+w.id, nil)
}

// watch waits for the run to end and arms its maximum runtime. Loop-only.
func (w *Worker) watch(r *run) {
	handle := r.handle
	if limit := r.spec.MaxRuntime.Std(); limit > 0 {
		left := limit - time.Since(r.startedAt)
		r.maxRuntime = time.AfterFunc(max(left, 0), func() {
			w.post(func() {
				if w.apps[r.id] == r {
					w.stop(r, "exceeded its maximum runtime of "+limit.String())
				}
			})
		})
	}
	w.goAttach(func() {
		select {
		case <-handle.Done():
		case <-w.ctx.Done():
			return
		}
		w.post(func() { w.ended(r, handle.Exit()) })
	})
}

// kill stops a run on the master's order. Loop-only.
func (w *Worker) kill(k *api.KillApp) error {
	if err := w.checkEpoch(k.Epoch, "kill of "+k.AppID); err != nil {
		return err
	}
	if err := w.checkSession(k.Session, "kill of "+k.AppID); err != nil {
		return err
	}
	r := w.apps[k.AppID]
	if r == nil || (k.Run != 0 && r.run != k.Run) {
		return nil // already ended, or an older run: nothing to do
	}
	w.stop(r, firstNonEmpty(k.Reason, "killed by the master"))
	return nil
}

// stop shuts a run down. Loop-only.
func (w *Worker) stop(r *run, reason string) {
	if r.killReason == "" {
		r.killReason = reason
	}
	if r.handle != nil {
		w.log.Info("stopping application", "app", r.id, "run", r.run, "reason", reason)
		r.handle.Shutdown(reason)
	}
}

// ended records how a run ended and reports it. Loop-only.
func (w *Worker) ended(r *run, exit app.Exit) {
	if w.apps[r.id] != r {
		return
	}
	delete(w.apps, r.id)
	w.running.Store(int64(len(w.apps)))
	if r.maxRuntime != nil {
		r.maxRuntime.Stop()
	}
	r.endedAt = time.Now()
	state, msg := outcome(r, exit)
	code := exit.Code
	var exitCode *int
	if code >= 0 {
		exitCode = &code
	}
	r.state, r.exitCode, r.message = state, exitCode, msg
	if n := w.exits[state]; n != nil {
		n.Add(1)
	}
	w.finished = append(w.finished, r)
	if excess := len(w.finished) - w.opts.RetainedApps; excess > 0 {
		for _, old := range w.finished[:excess] {
			w.forgetEnded(old.id)
		}
		w.finished = append(w.finished[:0:0], w.finished[excess:]...)
	}
	w.setEnded(r.id, true)
	w.log.Info("application ended", "app", r.id, "run", r.run, "state", state, "exit_code", code, "message", msg)
	w.reportState(r, state, msg, exitCode)
}

// outcome maps a run's exit to the state the master records.
func outcome(r *run, exit app.Exit) (api.AppState, string) {
	switch {
	case exit.Err != nil && r.handle == nil:
		return api.AppError, "could not start: " + exit.Err.Error()
	case r.killReason != "" || exit.Killed:
		return api.AppKilled, firstNonEmpty(r.killReason, exit.Reason, "killed")
	case exit.Err != nil:
		return api.AppError, exit.Err.Error()
	case exit.Code == 0:
		return api.AppFinished, "exited with status 0"
	case exit.Signal != "":
		return api.AppFailed, fmt.Sprintf("ended by signal %s (exit status %d)", exit.Signal, exit.Code)
	case exit.Code > 0:
		return api.AppFailed, fmt.Sprintf("exited with status %d", exit.Code)
	}
	return api.AppFailed, firstNonEmpty(exit.Reason, "ended with an unknown status")
}

// reportState tells the master about a run. A final state is reported
// until the master acknowledges it; registrations repeat unacknowledged
// ones. Loop-only.
func (w *Worker) reportState(r *run, state api.AppState, msg string, exitCode *int) {
	if !w.registered {
		return // the next registration reports it
	}
	change := &api.AppStateChanged{WorkerID: w.id, AppID: r.id, Run: r.run, State: state, Message: msg, ExitCode: exitCode}
	to := w.master
	w.goAttach(func() {
		ctx, cancel := context.WithTimeout(w.ctx, w.opts.AskTimeout)
		defer cancel()
		if _, err := w.node.Ask(ctx, to, change); err != nil {
			if w.ctx.Err() == nil {
				w.log.Warn("cannot report application state; it will be reported at the next registration", "app", r.id, "state", state, "error", err.Error())
			}
			return
		}
		if state.IsFinal() {
			w.post(func() { w.markAcked([]api.RunningApp{{AppID: r.id, Run: r.run, State: state}}) })
		}
	})
}

// markAcked records that the master knows how the given runs ended, so
// their directories hold nothing left to report. Loop-only.
func (w *Worker) markAcked(apps []api.RunningApp) {
	for _, ra := range apps {
		if !ra.State.IsFinal() {
			continue
		}
		for _, r := range w.finished {
			if r.id == ra.AppID && r.run == ra.Run && !r.acked {
				r.acked = true
				id, dir := r.id, r.dir
				w.goAttach(func() {
					err := os.Rename(filepath.Join(dir, appMetaFile), filepath.Join(dir, appEndedFile))
					if err != nil && !errors.Is(err, fs.ErrNotExist) {
						w.log.Warn("cannot record that an application ended", "app", id, "error", err.Error())
					}
				})
			}
		}
	}
}

// appEnv is the environment of a run: the worker's own (without its
// secret), the ALOHA_* variables and the spec's env.
func (w *Worker) appEnv(r *run) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "ALOHA_SECRET=") {
			continue
		}
		env = append(env, kv)
	}
	env = append(env,
		"ALOHA_APP_ID="+r.id,
		"ALOHA_APP_NAME="+r.spec.Name,
		"ALOHA_APP_DIR="+r.dir,
		"ALOHA_CORES="+strconv.Itoa(r.spec.Cores),
		"ALOHA_MEMORY_MB="+strconv.Itoa(r.spec.Memory),
		"ALOHA_LIBS="+strings.Join(r.spec.Libs, ","),
		"ALOHA_WORKER_ID="+w.id,
	)
	for k, v := range r.spec.Env {
		env = append(env, k+"="+v)
	}
	return env
}

func writeMeta(dir string, meta *appMeta) error {
	b, err := json.Marshal(meta)
	if err != nil {
		return fmt.Errorf("encode %s: %w", appMetaFile, err)
	}
	// Written in place, not by temp file and rename: it is written once,
	// before the process starts, so a torn file can only come with a run
	// that never started; reattach skips it with a warning, and the
	// master queues the launch again since no worker reports it.
	if err := os.WriteFile(filepath.Join(dir, appMetaFile), b, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", appMetaFile, err)
	}
	return nil
}

func readMeta(dir string) (*appMeta, error) {
	name := appMetaFile
	b, err := os.ReadFile(filepath.Join(dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		name = appEndedFile
		b, err = os.ReadFile(filepath.Join(dir, name))
	}
	if err != nil {
		return nil, err
	}
	var meta appMeta
	if err := json.Unmarshal(b, &meta); err != nil {
		return nil, fmt.Errorf("%s in %s is damaged: %w", name, dir, err)
	}
	if name == appEndedFile {
		meta.Ended = true
	}
	return &meta, nil
}

// forgetEnded drops an application that left the retained list: log
// readers then treat it as ended, which it is. It keeps endedApps bounded.
func (w *Worker) forgetEnded(id string) {
	w.logMu.Lock()
	defer w.logMu.Unlock()
	if w.endedApps[id] {
		delete(w.endedApps, id)
	}
}

func (w *Worker) setEnded(id string, ended bool) {
	w.logMu.Lock()
	defer w.logMu.Unlock()
	w.endedApps[id] = ended
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
