package rest

import (
	"context"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/alohasched/aloha/api"
)

// ProtocolVersion is the only version of the REST protocol this server
// speaks; it is the first segment of every protocol path.
const ProtocolVersion = "v1"

// StatusUnknownProtocolVersion is the HTTP status Spark chose for a request
// naming a protocol version the server does not speak.
const StatusUnknownProtocolVersion = 468

// maxBodyBytes bounds a request body: a spec is a few kilobytes, and the
// largest field api.Validate allows (args) is 256 KiB.
const maxBodyBytes = 1 << 20

// versionSegment is a first path segment that names a protocol version.
var versionSegment = regexp.MustCompile(`^v[0-9]+$`)

// Backend is what the REST server needs from the master. Errors are
// *wire.RemoteError values whose Code is one of api.CodeNotFound,
// api.CodeStandby (Detail = leader URL, may be empty), api.CodeInvalid,
// api.CodeRefused, or anything else (an internal error).
type Backend interface {
	Submit(ctx context.Context, spec api.AppSpec) (appID string, err error)
	Status(ctx context.Context, appID string) (*api.AppInfo, error)
	Kill(ctx context.Context, appID string) (*api.KillAppResponse, error)
	ListApps(ctx context.Context, req api.ListAppsRequest) ([]api.AppInfo, error)
	Workers(ctx context.Context) ([]api.WorkerInfo, error)
	MasterInfo(ctx context.Context) (*api.MasterInfo, error)
}

// Options configure the handler. The zero value serves without
// authentication and logs nothing.
type Options struct {
	// Logger receives one line per request answered with a 5xx status.
	Logger *slog.Logger
	// Secret, when set, is required of every request as
	// "Authorization: Bearer <secret>"; any other request gets a 401
	// ErrorResponse and nothing else.
	Secret string
	// Extra are handlers mounted at exact paths (such as "/metrics"),
	// behind the same authentication.
	Extra map[string]http.Handler
}

// handler serves the protocol. It holds no mutable state.
type handler struct {
	b     Backend
	log   *slog.Logger
	auth  bearer
	extra map[string]http.Handler
	now   func() time.Time
}

// NewHandler returns the REST server's handler, answering from b.
func NewHandler(b Backend, opts Options) http.Handler {
	return newHandler(b, opts, time.Now)
}

func newHandler(b Backend, opts Options, now func() time.Time) *handler {
	h := &handler{b: b, log: opts.Logger, auth: newBearer(opts.Secret), extra: make(map[string]http.Handler, len(opts.Extra)), now: now}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	for path, eh := range opts.Extra {
		h.extra[path] = eh
	}
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &recorder{ResponseWriter: w}
	if !h.auth.allows(r) {
		unauthorized(rec)
	} else {
		h.route(rec, r)
	}
	if rec.status >= 500 {
		level := slog.LevelError
		if rec.quiet {
			level = slog.LevelDebug
		}
		h.log.LogAttrs(r.Context(), level, "rest request failed",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", rec.status),
			slog.String("error", rec.msg),
			slog.String("remote", r.RemoteAddr),
			slog.Duration("took", time.Since(start)))
	}
}

// route dispatches on the path's non-empty segments, so that trailing and
// doubled slashes do not matter; the query string is left to the handlers.
func (h *handler) route(w http.ResponseWriter, r *http.Request) {
	if eh, ok := h.extra[r.URL.Path]; ok {
		eh.ServeHTTP(w, r)
		return
	}
	seg := segments(r.URL.Path)
	const hint = " Please submit requests through http://[host]:[port]/" + ProtocolVersion + "/submissions/..."
	switch {
	case len(seg) == 0:
		writeError(w, http.StatusBadRequest, "Missing protocol version."+hint)
	case len(seg) == 1 && seg[0] == "json":
		if allow(w, r, http.MethodGet) {
			h.masterJSON(w, r)
		}
	case len(seg) == 1 && seg[0] == "readyz":
		if allow(w, r, http.MethodGet) {
			h.readyz(w, r)
		}
	case seg[0] != ProtocolVersion && versionSegment.MatchString(seg[0]):
		writeJSON(w, StatusUnknownProtocolVersion, errorResponse{
			Action:                 actionError,
			HighestProtocolVersion: ProtocolVersion,
			Message:                "Unknown protocol version '" + seg[0] + "'." + hint,
			ServerProtocolVersion:  ProtocolVersion,
		})
	case seg[0] != ProtocolVersion:
		writeError(w, http.StatusBadRequest, "Unknown path "+quote(r.URL.Path)+"."+hint)
	case len(seg) == 1:
		writeError(w, http.StatusBadRequest, "Missing the /submissions prefix."+hint)
	case len(seg) == 2 && seg[1] == "workers":
		if allow(w, r, http.MethodGet) {
			h.workers(w, r)
		}
	case seg[1] != "submissions":
		writeError(w, http.StatusBadRequest, "Unknown path "+quote(r.URL.Path)+"."+hint)
	default:
		h.routeSubmissions(w, r, seg[2:])
	}
}

// routeSubmissions handles /v1/submissions/rest...
func (h *handler) routeSubmissions(w http.ResponseWriter, r *http.Request, rest []string) {
	const missing = "Missing an action: please specify one of /create, /kill, or /status."
	if len(rest) == 0 {
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			h.list(w, r)
			return
		}
		writeError(w, http.StatusBadRequest, missing)
		return
	}
	action, rest := rest[0], rest[1:]
	switch action {
	case "create":
		if !allow(w, r, http.MethodPost) {
			return
		}
		if len(rest) > 0 {
			writeError(w, http.StatusBadRequest, "Unexpected path after /create: "+quote(r.URL.Path)+".")
			return
		}
		h.create(w, r)
	case "kill", "status":
		method := http.MethodPost
		if action == "status" {
			method = http.MethodGet
		}
		if !allow(w, r, method) {
			return
		}
		switch len(rest) {
		case 0:
			writeError(w, http.StatusBadRequest, "Submission ID is missing in "+action+" request.")
		case 1:
			if action == "kill" {
				h.kill(w, r, rest[0])
			} else {
				h.status(w, r, rest[0])
			}
		default:
			writeError(w, http.StatusBadRequest, "Malformed "+action+" path "+quote(r.URL.Path)+": want /"+
				ProtocolVersion+"/submissions/"+action+"/<submission id>.")
		}
	default:
		writeError(w, http.StatusBadRequest, "Unknown action "+quote(action)+". "+missing)
	}
}

// allow answers 405 unless r uses method (GET also allows HEAD).
func allow(w http.ResponseWriter, r *http.Request, method string) bool {
	if r.Method == method || (method == http.MethodGet && r.Method == http.MethodHead) {
		return true
	}
	allowed := method
	if method == http.MethodGet {
		allowed = "GET, HEAD"
	}
	w.Header().Set("Allow", allowed)
	writeError(w, http.StatusMethodNotAllowed, "Method "+r.Method+" is not allowed on "+quote(r.URL.Path)+"; use "+method+".")
	return false
}

func segments(path string) []string {
	var seg []string
	for s := range strings.SplitSeq(path, "/") {
		if s != "" {
			seg = append(seg, s)
		}
	}
	return seg
}
