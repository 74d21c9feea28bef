package worker

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/daemon/app"
)

// reattachAll finds the runs a previous worker process left in the work
// directory: those still running are watched again, those that ended
// meanwhile are reported with their real exit status at registration.
// Loop-only, before registration.
func (w *Worker) reattachAll() {
	entries, err := os.ReadDir(w.opts.WorkDir)
	if err != nil {
		w.log.Warn("cannot scan the work directory for applications to re-attach", "dir", w.opts.WorkDir, "error", err.Error())
		return
	}
	for _, e := range entries {
		if !e.IsDir() || !api.ValidAppID(e.Name()) {
			continue
		}
		dir := filepath.Join(w.opts.WorkDir, e.Name())
		meta, err := readMeta(dir)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue
		case err != nil:
			w.log.Warn("skipping an application directory", "dir", dir, "error", err.Error())
			continue
		case meta.Ended || meta.AppID != e.Name():
			continue
		}
		handle, info, err := app.Reattach(dir, w.opts.KillTimeout)
		if err != nil {
			// It never started, or its pid file is damaged: the master
			// queues launches it does not hear about again.
			w.log.Warn("cannot re-attach application", "app", meta.AppID, "dir", dir, "error", err.Error())
			continue
		}
		r := &run{id: meta.AppID, run: meta.Run, spec: meta.Spec, dir: dir, startedAt: meta.StartedAt, handle: handle, state: api.AppRunning, launchedBy: meta.WorkerID}
		w.apps[r.id] = r
		w.running.Store(int64(len(w.apps)))
		w.setEnded(r.id, false)
		select {
		case <-handle.Done():
			w.log.Info("application ended while no worker watched it", "app", r.id, "run", r.run)
			w.ended(r, handle.Exit())
		default:
			w.log.Info("re-attached running application", "app", r.id, "run", r.run, "pid", info.Pid)
			w.watch(r)
		}
	}
}
