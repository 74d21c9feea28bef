package api

import (
	"time"

	"github.com/alohasched/aloha/wire"
)

// Endpoint names.
const (
	MasterEndpoint = "Master"
	WorkerEndpoint = "Worker"
)

// Error codes carried by wire.RemoteError in answers to clients and
// workers, beside wire's own.
const (
	// CodeStandby: the master is not the leader; Detail holds the leader's
	// aloha:// URL when known.
	CodeStandby = "standby"
	// CodeNotFound: no application or worker with that id.
	CodeNotFound = "not_found"
	// CodeRefused: the request was understood and refused; the message
	// says why.
	CodeRefused = "refused"
	// CodeInvalid: the request is malformed (a spec that breaks a rule).
	CodeInvalid = "invalid"
	// CodeStaleEpoch: an order from a leadership term older than the
	// newest the worker has seen.
	CodeStaleEpoch = "stale_epoch"
	// CodeStaleSession: an order of a registration session the worker has
	// since replaced.
	CodeStaleSession = "stale_session"
)

// RunningApp is an application a worker runs, as it reports it when it
// registers. A worker also reports runs that ended while the master could
// not be told (State final, with ExitCode and Message), so that the master
// learns their outcome instead of guessing.
type RunningApp struct {
	AppID string `msgpack:"appId"`
	// Run numbers the launches of one application id (1 for the first,
	// more after restarts), so a report about an older run is recognised.
	Run       int       `msgpack:"run"`
	Spec      AppSpec   `msgpack:"spec"`
	State     AppState  `msgpack:"state"`
	StartedAt time.Time `msgpack:"startedAt"`
	ExitCode  *int      `msgpack:"exitCode,omitempty"`
	Message   string    `msgpack:"message,omitempty"`
	// LaunchedBy is the id of the worker that launched the run, which
	// differs from the reporting worker's after a restart on another
	// port: the master then moves the run to the new worker.
	LaunchedBy string `msgpack:"launchedBy,omitempty"`
}

// --- worker -> master ---

// RegisterWorker asks the master to accept a worker. Answered with
// *WorkerRegistered, or an error (CodeStandby, CodeRefused).
type RegisterWorker struct {
	ID     string `msgpack:"id"`
	Host   string `msgpack:"host"`
	Port   int    `msgpack:"port"`
	Cores  int    `msgpack:"cores"`
	Memory int    `msgpack:"memory"`
	// Kinds are the application kinds the worker can run.
	Kinds []string     `msgpack:"kinds"`
	Apps  []RunningApp `msgpack:"apps,omitempty"`
	// Session numbers the worker's registrations; see LaunchApp.Session.
	Session uint64 `msgpack:"session"`
}

// WorkerRegistered accepts a registration.
type WorkerRegistered struct {
	MasterURL string `msgpack:"masterUrl"`
	Epoch     uint64 `msgpack:"epoch"`
	// HeartbeatInterval is how often the master wants heartbeats.
	HeartbeatInterval time.Duration `msgpack:"heartbeatInterval"`
}

// Heartbeat tells the master a worker is alive (sent, not asked).
type Heartbeat struct {
	WorkerID string `msgpack:"workerId"`
}

// AppStateChanged reports a change of an application on a worker.
type AppStateChanged struct {
	WorkerID string   `msgpack:"workerId"`
	AppID    string   `msgpack:"appId"`
	Run      int      `msgpack:"run"`
	State    AppState `msgpack:"state"`
	Message  string   `msgpack:"message,omitempty"`
	ExitCode *int     `msgpack:"exitCode,omitempty"`
}

// WorkerSchedulerState answers MasterChanged: the applications the worker
// runs.
type WorkerSchedulerState struct {
	WorkerID string       `msgpack:"workerId"`
	Apps     []RunningApp `msgpack:"apps,omitempty"`
	// Session starts a new registration session, as RegisterWorker does.
	Session uint64 `msgpack:"session"`
}

// --- master -> worker ---

// ReconnectWorker tells a worker the master does not know it and it should
// register again.
type ReconnectWorker struct {
	MasterURL string `msgpack:"masterUrl"`
}

// MasterChanged tells a worker a new leader has taken over.
type MasterChanged struct {
	MasterURL string `msgpack:"masterUrl"`
	Epoch     uint64 `msgpack:"epoch"`
}

// LaunchApp orders a worker to start an application.
//
// Session is the worker's registration session the order belongs to: a
// worker starts a new session with every RegisterWorker or
// WorkerSchedulerState it sends, and refuses orders of an older one. A
// report that omits a launch still in flight therefore cannot lead to
// the application running twice: the master takes the omission as final,
// and the in-flight order is refused when it arrives.
type LaunchApp struct {
	Epoch   uint64  `msgpack:"epoch"`
	Session uint64  `msgpack:"session"`
	AppID   string  `msgpack:"appId"`
	Run     int     `msgpack:"run"`
	Spec    AppSpec `msgpack:"spec"`
}

// KillApp orders a worker to kill an application.
type KillApp struct {
	Epoch   uint64 `msgpack:"epoch"`
	Session uint64 `msgpack:"session"`
	AppID   string `msgpack:"appId"`
	Run     int    `msgpack:"run"`
	Reason  string `msgpack:"reason,omitempty"`
}

// --- client -> master ---

// SubmitApp submits an application. Answered with *SubmitAppResponse.
type SubmitApp struct {
	Spec AppSpec `msgpack:"spec"`
	// RequestID, when set, makes the submission idempotent: a retry with
	// the same id (after a lost answer or a failover) returns the
	// application the first attempt created instead of a second one.
	RequestID string `msgpack:"requestId,omitempty"`
}

// SubmitAppResponse carries the new application's id.
type SubmitAppResponse struct {
	AppID   string `msgpack:"appId"`
	Message string `msgpack:"message,omitempty"`
}

// KillAppRequest asks the master to kill an application. Answered with
// *KillAppResponse or CodeNotFound.
type KillAppRequest struct {
	AppID string `msgpack:"appId"`
}

// KillAppResponse says what the kill did.
type KillAppResponse struct {
	AppID   string   `msgpack:"appId"`
	State   AppState `msgpack:"state"`
	Message string   `msgpack:"message,omitempty"`
}

// AppStatusRequest asks for one application. Answered with *AppInfo or
// CodeNotFound.
type AppStatusRequest struct {
	AppID string `msgpack:"appId"`
}

// ListAppsRequest asks for applications, newest first. An empty States
// means all; Limit 0 means no limit.
type ListAppsRequest struct {
	States []AppState `msgpack:"states,omitempty"`
	Limit  int        `msgpack:"limit,omitempty"`
}

// AppList answers ListAppsRequest.
type AppList struct {
	Apps []AppInfo `msgpack:"apps"`
}

// ListWorkersRequest asks for every worker. Answered with *WorkerList.
type ListWorkersRequest struct{}

// WorkerList answers ListWorkersRequest.
type WorkerList struct {
	Workers []WorkerInfo `msgpack:"workers"`
}

// MasterStatusRequest asks a master about itself. Answered with
// *MasterInfo, by standbys too.
type MasterStatusRequest struct{}

// EventsRequest asks for events after sequence number After, waiting up to
// Wait for the first one when none is ready. Answered with *EventBatch.
type EventsRequest struct {
	After uint64        `msgpack:"after"`
	Max   int           `msgpack:"max,omitempty"`
	Wait  time.Duration `msgpack:"wait,omitempty"`
}

// EventBatch answers EventsRequest. A Lagged event comes first when events
// the subscriber asked for were already dropped.
type EventBatch struct {
	Events []Event `msgpack:"events"`
	// Epoch lets a subscriber notice a new leadership term; TermStart is
	// the sequence number of the term's first event (its LeaderChanged),
	// from which a subscriber that was following another term goes on.
	Epoch     uint64 `msgpack:"epoch"`
	TermStart uint64 `msgpack:"termStart"`
}

// --- client -> worker ---

// LogStream names an application's output file.
type LogStream string

// Log streams.
const (
	Stdout LogStream = "stdout"
	Stderr LogStream = "stderr"
)

// ReadLogRequest asks a worker for an application's output from Offset,
// up to Max bytes, waiting up to Wait for more when there is none yet.
// A negative Offset counts from the end. Answered with *LogChunk.
type ReadLogRequest struct {
	AppID  string        `msgpack:"appId"`
	Stream LogStream     `msgpack:"stream"`
	Offset int64         `msgpack:"offset"`
	Max    int           `msgpack:"max,omitempty"`
	Wait   time.Duration `msgpack:"wait,omitempty"`
}

// LogChunk is a piece of an application's output. Done is set when the
// application has ended and Offset+len(Data) is the end of the file.
type LogChunk struct {
	Data   []byte `msgpack:"data"`
	Offset int64  `msgpack:"offset"`
	Done   bool   `msgpack:"done"`
}

// messageCodes binds every message to its stable code. Codes are part of
// the protocol: never reuse or renumber one.
var messageCodes = []struct {
	code   uint16
	sample any
}{
	{100, (*RegisterWorker)(nil)},
	{101, (*WorkerRegistered)(nil)},
	{102, (*Heartbeat)(nil)},
	{103, (*AppStateChanged)(nil)},
	{104, (*WorkerSchedulerState)(nil)},
	{110, (*ReconnectWorker)(nil)},
	{111, (*MasterChanged)(nil)},
	{112, (*LaunchApp)(nil)},
	{113, (*KillApp)(nil)},
	{120, (*SubmitApp)(nil)},
	{121, (*SubmitAppResponse)(nil)},
	{122, (*KillAppRequest)(nil)},
	{123, (*KillAppResponse)(nil)},
	{124, (*AppStatusRequest)(nil)},
	{125, (*AppInfo)(nil)},
	{126, (*ListAppsRequest)(nil)},
	{127, (*AppList)(nil)},
	{128, (*ListWorkersRequest)(nil)},
	{129, (*WorkerList)(nil)},
	{130, (*MasterStatusRequest)(nil)},
	{131, (*MasterInfo)(nil)},
	{132, (*EventsRequest)(nil)},
	{133, (*EventBatch)(nil)},
	{140, (*ReadLogRequest)(nil)},
	{141, (*LogChunk)(nil)},
}

// Register adds every message of this package to r.
func Register(r *wire.Registry) error {
	for _, m := range messageCodes {
		if err := r.Register(m.code, m.sample); err != nil {
			return err
		}
	}
	return nil
}

// NewRegistry returns a registry holding every message of this package.
func NewRegistry() *wire.Registry {
	r := wire.NewRegistry()
	if err := Register(r); err != nil {
		panic(err) // the table above is fixed; a clash is a programming error
	}
	return r
}
