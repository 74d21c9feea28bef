package api

import "time"

// StateChange is one step of an application's history.
type StateChange struct {
	State   AppState  `json:"state" msgpack:"state"`
	Message string    `json:"message,omitempty" msgpack:"message,omitempty"`
	Time    time.Time `json:"time" msgpack:"time"`
}

// AppInfo is what the master knows of an application.
type AppInfo struct {
	ID   string  `json:"id" msgpack:"id"`
	Spec AppSpec `json:"spec" msgpack:"spec"`
	// RequestID is the submission's idempotency key, if it had one.
	RequestID string   `json:"requestId,omitempty" msgpack:"requestId,omitempty"`
	State     AppState `json:"state" msgpack:"state"`
	Message   string   `json:"message,omitempty" msgpack:"message,omitempty"`
	// WorkerID and WorkerAddr name the worker it runs or ran on.
	WorkerID   string `json:"workerId,omitempty" msgpack:"workerId,omitempty"`
	WorkerAddr string `json:"workerHostPort,omitempty" msgpack:"workerHostPort,omitempty"`
	// ExitCode is the process's exit status once it has exited.
	ExitCode    *int      `json:"exitCode,omitempty" msgpack:"exitCode,omitempty"`
	SubmittedAt time.Time `json:"submittedAt" msgpack:"submittedAt"`
	StartedAt   time.Time `json:"startedAt,omitzero" msgpack:"startedAt,omitempty"`
	EndedAt     time.Time `json:"endedAt,omitzero" msgpack:"endedAt,omitempty"`
	// KillRequested is set once a kill was asked for: the run's end is
	// KILLED whatever its status, and a new leader repeats the order.
	KillRequested bool `json:"killRequested,omitempty" msgpack:"killRequested,omitempty"`
	// Restarts counts runs after the first under the restart policy.
	Restarts int `json:"restarts" msgpack:"restarts"`
	// Run numbers the launches of this id so far (0: never launched);
	// orders and reports about a run carry its number.
	Run int `json:"run" msgpack:"run"`
	// RelaunchedFrom and RelaunchedAs link an application relaunched after
	// its worker was lost with the one it replaced.
	RelaunchedFrom string        `json:"relaunchedFrom,omitempty" msgpack:"relaunchedFrom,omitempty"`
	RelaunchedAs   string        `json:"relaunchedAs,omitempty" msgpack:"relaunchedAs,omitempty"`
	History        []StateChange `json:"history,omitempty" msgpack:"history,omitempty"`
}

// WorkerInfo is what the master knows of a worker.
type WorkerInfo struct {
	ID   string `json:"id" msgpack:"id"`
	Host string `json:"host" msgpack:"host"`
	Port int    `json:"port" msgpack:"port"`
	// Addr is the worker's RPC address, host:port.
	Addr          string      `json:"addr" msgpack:"addr"`
	State         WorkerState `json:"state" msgpack:"state"`
	Cores         int         `json:"cores" msgpack:"cores"`
	CoresUsed     int         `json:"coresUsed" msgpack:"coresUsed"`
	Memory        int         `json:"memory" msgpack:"memory"`
	MemoryUsed    int         `json:"memoryUsed" msgpack:"memoryUsed"`
	Apps          []string    `json:"apps,omitempty" msgpack:"apps,omitempty"`
	Kinds         []string    `json:"kinds,omitempty" msgpack:"kinds,omitempty"`
	RegisteredAt  time.Time   `json:"registeredAt" msgpack:"registeredAt"`
	LastHeartbeat time.Time   `json:"lastHeartbeat" msgpack:"lastHeartbeat"`
}

// CoresFree is the cores not reserved by applications.
func (w WorkerInfo) CoresFree() int { return w.Cores - w.CoresUsed }

// MemoryFree is the memory (MB) not reserved by applications.
func (w WorkerInfo) MemoryFree() int { return w.Memory - w.MemoryUsed }

// MasterInfo is a master's view of itself and the cluster.
type MasterInfo struct {
	// URL is this master's aloha:// address; Leader the leader's, if known.
	URL    string      `json:"url" msgpack:"url"`
	State  MasterState `json:"status" msgpack:"status"`
	Leader string      `json:"leader,omitempty" msgpack:"leader,omitempty"`
	// Epoch is the leadership term this master serves (0 when standby).
	Epoch        uint64    `json:"epoch" msgpack:"epoch"`
	StartedAt    time.Time `json:"startedAt" msgpack:"startedAt"`
	Version      string    `json:"version" msgpack:"version"`
	RecoveryMode string    `json:"recoveryMode" msgpack:"recoveryMode"`
	// Cluster totals over ALIVE workers.
	AliveWorkers int `json:"aliveworkers" msgpack:"aliveWorkers"`
	Cores        int `json:"cores" msgpack:"cores"`
	CoresUsed    int `json:"coresused" msgpack:"coresUsed"`
	Memory       int `json:"memory" msgpack:"memory"`
	MemoryUsed   int `json:"memoryused" msgpack:"memoryUsed"`
	ActiveApps   int `json:"activeapps" msgpack:"activeApps"`
	WaitingApps  int `json:"waitingapps" msgpack:"waitingApps"`
	// CompletedApps counts retained finished applications.
	CompletedApps int `json:"completedapps" msgpack:"completedApps"`
}
