// Package events is the master's event stream: every state change of the
// cluster becomes an api.Event with a sequence number, kept in a bounded
// ring (Bus) so that subscribers can follow the stream at their own pace,
// and handed to listeners (Dispatcher), the Go programs and built-in
// reactions that want to be told of each event as it happens.
//
// # Listeners
//
// A Listener is called once per event:
//
//	type Listener interface {
//		OnEvent(ctx context.Context, e api.Event) error
//	}
//
// Programs that embed the master pass theirs in master.Options.Listeners;
// operators choose built-in ones with aloha.extraListeners:
//
//	log      one log line per event (NewLogListener)
//	webhook  an HTTP POST of the event as JSON to aloha.listener.webhook.url
//	         (NewWebhook), Content-Type application/json; each attempt is
//	         bounded by aloha.listener.webhook.timeout; network errors and
//	         5xx answers are retried aloha.listener.webhook.retries times
//	         with a doubling delay; a 4xx answer is not retried
//	exec     aloha.listener.exec.command run with /bin/sh -c (NewExec),
//	         bounded by aloha.listener.exec.timeout, the event in its
//	         environment (below); a non-zero exit is a failure
//
// The exec listener's command gets the daemon's environment (without
// ALOHA_SECRET) plus these variables, empty when they do not apply to the
// event's type:
//
//	ALOHA_EVENT_TYPE         AppStateChanged, AppRelaunched, WorkerJoined, WorkerLost, LeaderChanged, Lagged
//	ALOHA_EVENT_SEQ          the event's sequence number
//	ALOHA_EVENT_TIME         when it happened, RFC 3339 in UTC
//	ALOHA_EVENT_APP_ID       the application (the old id for AppRelaunched)
//	ALOHA_EVENT_NEW_APP_ID   AppRelaunched: the new id
//	ALOHA_EVENT_STATE        AppStateChanged: the new state
//	ALOHA_EVENT_MESSAGE      a human-readable reason
//	ALOHA_EVENT_WORKER_ID    the worker concerned
//	ALOHA_EVENT_WORKER_ADDR  its host:port
//	ALOHA_EVENT_LEADER       LeaderChanged: the leader's aloha:// URL
//	ALOHA_EVENT_EPOCH        LeaderChanged: the leadership epoch
//	ALOHA_EVENT_DROPPED      Lagged: how many events the listener missed
//
// An error returned by a listener, or a panic, is a failure: it is counted
// (ListenerStats.Failures) and logged once, and the listener goes on
// receiving later events. The built-in listeners retry what they retry
// inside OnEvent, so one event is one failure at most.
//
// # Concurrency properties
//
// Bus.Publish never waits for a subscriber or a listener. A subscriber that
// falls so far behind that the events it asks for have left the ring
// receives an api.EventLagged event saying how many it missed, then the
// oldest events still kept. Events are delivered in sequence order,
// without gaps other than those reported as lagged.
//
// A Dispatcher gives each listener its own queue of QueueSize events
// (DefaultQueueSize, 1,000) and its own goroutine, which calls OnEvent for
// one event at a time, in sequence order. Publish (run by the bus, under
// its lock) only appends to each queue; when a listener's queue is full
// the event is dropped for that listener alone and counted
// (ListenerStats.Dropped), and the listener later receives an
// api.EventLagged event, placed where the gap is, whose Dropped field says
// how many it missed and whose Seq is that of the newest one missed. So:
//
//   - a slow or hung listener fills only its own queue: scheduling, the
//     bus, its subscribers and the other listeners never wait for it;
//   - a listener sees every event, in order, or is told how many it
//     missed, and where;
//   - a listener that panics is recovered, the panic logged with its
//     stack and counted as a failure; it receives the next event;
//   - a listener is never called concurrently with itself; different
//     listeners run concurrently.
//
// When the dispatcher stops (its Run's context is done), the listeners'
// context is cancelled and events still queued are not delivered. Run
// waits up to StopGrace for listeners to return; one that ignores its
// context beyond that is abandoned (its goroutine is left behind, and
// logged) so that a hung listener cannot keep the master from stopping.
//
// # Expected listener behaviour
//
// Return promptly and honour ctx; do slow work (network, processes) with
// a deadline. A listener may block for as long as it likes, but while it
// does, its queue fills and it misses events. Lock order: Bus.mu, then a
// queue's own mutex; a listener's goroutine takes only the latter.
package events
