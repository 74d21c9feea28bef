package rest

import (
	"net/http"
	"time"

	"github.com/alohasched/aloha/api"
)

// workers answers GET /v1/workers.
func (h *handler) workers(w http.ResponseWriter, r *http.Request) {
	ws, err := h.b.Workers(r.Context())
	if err != nil {
		writeBackendError(w, err)
		return
	}
	if ws == nil {
		ws = []api.WorkerInfo{}
	}
	writeJSON(w, http.StatusOK, workerListResponse{
		Action:                actionWorkerList,
		ServerProtocolVersion: ProtocolVersion,
		Success:               true,
		Workers:               ws,
	})
}

// masterState is the master's /json page with the field names of Spark's
// (JsonProtocol.writeMasterState). Aloha has no drivers: its applications
// play their part, and the driver lists are left out.
type masterState struct {
	URL           string        `json:"url"`
	Workers       []workerState `json:"workers"`
	AliveWorkers  int           `json:"aliveworkers"`
	Cores         int           `json:"cores"`
	CoresUsed     int           `json:"coresused"`
	Memory        int           `json:"memory"`
	MemoryUsed    int           `json:"memoryused"`
	ActiveApps    []appSummary  `json:"activeapps"`
	CompletedApps []appSummary  `json:"completedapps"`
	Status        string        `json:"status"`
}

// workerState follows Spark's writeWorkerInfo; there is no web UI address.
type workerState struct {
	ID            string `json:"id"`
	Host          string `json:"host"`
	Port          int    `json:"port"`
	Cores         int    `json:"cores"`
	CoresUsed     int    `json:"coresused"`
	CoresFree     int    `json:"coresfree"`
	Memory        int    `json:"memory"`
	MemoryUsed    int    `json:"memoryused"`
	MemoryFree    int    `json:"memoryfree"`
	State         string `json:"state"`
	LastHeartbeat int64  `json:"lastheartbeat"` // epoch milliseconds
}

// appSummary follows Spark's writeApplicationInfo, with the memory and
// worker fields of its writeDriverInfo, since an Aloha application is one
// process on one worker. Times are epoch milliseconds, submitdate is in
// the format of Java's Date.toString, duration is milliseconds of running.
type appSummary struct {
	ID         string `json:"id"`
	StartTime  int64  `json:"starttime"`
	Name       string `json:"name"`
	Cores      int    `json:"cores"`
	Memory     int    `json:"memory"`
	SubmitDate string `json:"submitdate"`
	State      string `json:"state"`
	Duration   int64  `json:"duration"`
	Worker     string `json:"worker,omitempty"`
}

// javaDateLayout is how java.util.Date prints itself.
const javaDateLayout = "Mon Jan 02 15:04:05 MST 2006"

// masterJSON answers GET /json. A standby knows no workers or
// applications: it shows empty lists and its STANDBY status, as Spark does.
func (h *handler) masterJSON(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	info, err := h.b.MasterInfo(ctx)
	if err == nil && info == nil {
		err = errNoAnswer
	}
	if err != nil {
		writeBackendError(w, err)
		return
	}
	workers, err := h.b.Workers(ctx)
	if err != nil && remoteCode(err) != api.CodeStandby {
		writeBackendError(w, err)
		return
	}
	apps, err := h.b.ListApps(ctx, api.ListAppsRequest{})
	if err != nil && remoteCode(err) != api.CodeStandby {
		writeBackendError(w, err)
		return
	}
	st := masterState{
		URL:           info.URL,
		Workers:       make([]workerState, 0, len(workers)),
		AliveWorkers:  info.AliveWorkers,
		Cores:         info.Cores,
		CoresUsed:     info.CoresUsed,
		Memory:        info.Memory,
		MemoryUsed:    info.MemoryUsed,
		ActiveApps:    []appSummary{},
		CompletedApps: []appSummary{},
		Status:        string(info.State),
	}
	for _, wk := range workers {
		st.Workers = append(st.Workers, workerState{
			ID: wk.ID, Host: wk.Host, Port: wk.Port,
			Cores: wk.Cores, CoresUsed: wk.CoresUsed, CoresFree: wk.CoresFree(),
			Memory: wk.Memory, MemoryUsed: wk.MemoryUsed, MemoryFree: wk.MemoryFree(),
			State:         string(wk.State),
			LastHeartbeat: epochMillis(wk.LastHeartbeat),
		})
	}
	now := h.now()
	for _, a := range apps {
		s := summarize(a, now)
		if a.State.IsFinal() {
			st.CompletedApps = append(st.CompletedApps, s)
		} else {
			st.ActiveApps = append(st.ActiveApps, s)
		}
	}
	writeJSON(w, http.StatusOK, st)
}

func summarize(a api.AppInfo, now time.Time) appSummary {
	s := appSummary{
		ID:        a.ID,
		StartTime: epochMillis(a.SubmittedAt),
		Name:      a.Spec.Name,
		Cores:     a.Spec.Cores,
		Memory:    a.Spec.Memory,
		State:     string(a.State),
		Worker:    a.WorkerID,
	}
	if !a.SubmittedAt.IsZero() {
		s.SubmitDate = a.SubmittedAt.Format(javaDateLayout)
	}
	if !a.StartedAt.IsZero() {
		end := now
		if !a.EndedAt.IsZero() {
			end = a.EndedAt
		}
		s.Duration = max(end.Sub(a.StartedAt).Milliseconds(), 0)
	}
	return s
}

func epochMillis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// readyz answers GET /readyz for load balancers and probes: 200 "ok" on
// the leader once it is ALIVE, 503 with the state otherwise. A standby's
// 503 is its normal answer and is logged at debug level only.
func (h *handler) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	info, err := h.b.MasterInfo(r.Context())
	if err == nil && info == nil {
		err = errNoAnswer
	}
	if err != nil {
		msg := "not ready: " + err.Error()
		noteError(w, msg)
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(msg + "\n"))
		return
	}
	if info.State == api.MasterAlive {
		_, _ = w.Write([]byte("ok\n"))
		return
	}
	msg := "not ready: " + string(info.State)
	if info.Leader != "" {
		msg += " (leader " + info.Leader + ")"
	}
	noteError(w, msg)
	if rec, ok := w.(*recorder); ok {
		rec.quiet = true
	}
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = w.Write([]byte(msg + "\n"))
}
