package api

import "time"

// EventType names a kind of cluster event.
type EventType string

// Event types. Lagged is not a cluster event: it tells a subscriber that
// it fell behind and Dropped events were lost to it.
const (
	EventAppStateChanged EventType = "AppStateChanged"
	EventAppRelaunched   EventType = "AppRelaunched"
	EventWorkerJoined    EventType = "WorkerJoined"
	EventWorkerLost      EventType = "WorkerLost"
	EventLeaderChanged   EventType = "LeaderChanged"
	EventLagged          EventType = "Lagged"
)

// Event is one thing that happened in the cluster. Seq increases by one
// for every event a master publishes; Time is when it happened. Which
// fields are set depends on Type.
type Event struct {
	Seq  uint64    `json:"seq" msgpack:"seq"`
	Time time.Time `json:"time" msgpack:"time"`
	Type EventType `json:"type" msgpack:"type"`
	// AppStateChanged: AppID, State, Message (and WorkerID where known).
	// AppRelaunched: AppID (the old id), NewAppID, Message.
	AppID    string   `json:"appId,omitempty" msgpack:"appId,omitempty"`
	NewAppID string   `json:"newAppId,omitempty" msgpack:"newAppId,omitempty"`
	State    AppState `json:"state,omitempty" msgpack:"state,omitempty"`
	Message  string   `json:"message,omitempty" msgpack:"message,omitempty"`
	// WorkerJoined, WorkerLost: WorkerID, WorkerAddr, Message.
	WorkerID   string `json:"workerId,omitempty" msgpack:"workerId,omitempty"`
	WorkerAddr string `json:"workerHostPort,omitempty" msgpack:"workerHostPort,omitempty"`
	// LeaderChanged: Leader (aloha:// URL) and Epoch.
	Leader string `json:"leader,omitempty" msgpack:"leader,omitempty"`
	Epoch  uint64 `json:"epoch,omitempty" msgpack:"epoch,omitempty"`
	// Lagged: how many events the subscriber missed.
	Dropped uint64 `json:"dropped,omitempty" msgpack:"dropped,omitempty"`
}
