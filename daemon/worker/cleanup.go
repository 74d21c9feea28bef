package worker

import (
	"os"
	"path/filepath"
	"time"

	"github.com/alohasched/aloha/api"
)

// cleanupOld removes the directories of applications that ended longer
// than AppDataTTL ago and whose end the master knows. Directories of
// running applications are never touched. Loop-only.
func (w *Worker) cleanupOld(now time.Time) {
	running := map[string]bool{}
	for id := range w.apps {
		running[id] = true
	}
	root, ttl := w.opts.WorkDir, w.opts.AppDataTTL
	w.goAttach(func() {
		entries, err := os.ReadDir(root)
		if err != nil {
			w.log.Warn("cleanup: cannot read the work directory", "dir", root, "error", err.Error())
			return
		}
		removed := 0
		for _, e := range entries {
			if !e.IsDir() || !api.ValidAppID(e.Name()) || running[e.Name()] {
				continue
			}
			dir := filepath.Join(root, e.Name())
			meta, err := readMeta(dir)
			if err != nil || !meta.Ended {
				continue
			}
			// The rename that marked it ended is the directory's last change.
			fi, err := os.Stat(dir)
			if err != nil || now.Sub(fi.ModTime()) < ttl {
				continue
			}
			if err := os.RemoveAll(dir); err != nil {
				w.log.Warn("cleanup: cannot remove application directory", "dir", dir, "error", err.Error())
				continue
			}
			removed++
		}
		if removed > 0 {
			w.log.Info("cleanup: removed old application directories", "count", removed, "ttl", ttl.String())
		}
	})
}
