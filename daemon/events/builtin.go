package events

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/alohasched/aloha/api"
)

// Names of the built-in listeners, as aloha.extraListeners lists them.
const (
	LogListenerName     = "log"
	WebhookListenerName = "webhook"
	ExecListenerName    = "exec"
)

// BuiltinNames lists the built-in listeners, sorted.
func BuiltinNames() []string {
	return []string{ExecListenerName, LogListenerName, WebhookListenerName}
}

// LogListener writes one log line per event: at level Info, Warn for a
// Lagged event.
type LogListener struct{ log *slog.Logger }

// NewLogListener returns a listener logging to log (slog.Default when nil).
func NewLogListener(log *slog.Logger) *LogListener {
	if log == nil {
		log = slog.Default()
	}
	return &LogListener{log: log}
}

// Name is "log".
func (l *LogListener) Name() string { return LogListenerName }

// OnEvent logs e with its non-empty fields.
func (l *LogListener) OnEvent(ctx context.Context, e api.Event) error {
	level := slog.LevelInfo
	if e.Type == api.EventLagged {
		level = slog.LevelWarn
	}
	attrs := []slog.Attr{slog.String("type", string(e.Type)), slog.Uint64("seq", e.Seq)}
	for _, v := range eventVars(e) {
		switch {
		case v.value == "", v.attr == "type", v.attr == "seq", v.attr == "time":
			// Empty, or already there (the record has its own time).
		default:
			attrs = append(attrs, slog.String(v.attr, v.value))
		}
	}
	l.log.LogAttrs(ctx, level, "cluster event", attrs...)
	return nil
}

// eventVar is one field of an event, as the exec listener's environment
// and the log listener's attributes name it.
type eventVar struct {
	env, attr, value string
}

// eventVars lists every field of e in a fixed order, empty when it does
// not apply (an epoch of 0, a count of 0).
func eventVars(e api.Event) []eventVar {
	num := func(n uint64) string {
		if n == 0 {
			return ""
		}
		return strconv.FormatUint(n, 10)
	}
	when := ""
	if !e.Time.IsZero() {
		when = e.Time.UTC().Format(time.RFC3339Nano)
	}
	return []eventVar{
		{"ALOHA_EVENT_TYPE", "type", string(e.Type)},
		{"ALOHA_EVENT_SEQ", "seq", strconv.FormatUint(e.Seq, 10)},
		{"ALOHA_EVENT_TIME", "time", when},
		{"ALOHA_EVENT_APP_ID", "app", e.AppID},
		{"ALOHA_EVENT_NEW_APP_ID", "new_app", e.NewAppID},
		{"ALOHA_EVENT_STATE", "state", string(e.State)},
		{"ALOHA_EVENT_MESSAGE", "message", e.Message},
		{"ALOHA_EVENT_WORKER_ID", "worker", e.WorkerID},
		{"ALOHA_EVENT_WORKER_ADDR", "worker_addr", e.WorkerAddr},
		{"ALOHA_EVENT_LEADER", "leader", e.Leader},
		{"ALOHA_EVENT_EPOCH", "epoch", num(e.Epoch)},
		{"ALOHA_EVENT_DROPPED", "dropped", num(e.Dropped)},
	}
}
