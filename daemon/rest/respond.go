package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/wire"
)

// Message types ("action") of the protocol.
const (
	actionCreateRequest  = "CreateSubmissionRequest"
	actionCreateResponse = "CreateSubmissionResponse"
	actionStatusResponse = "SubmissionStatusResponse"
	actionKillResponse   = "KillSubmissionResponse"
	actionListResponse   = "SubmissionListResponse"
	actionWorkerList     = "WorkerListResponse"
	actionError          = "ErrorResponse"
)

const contentTypeJSON = "application/json;charset=utf-8"

// The responses keep their fields in alphabetical order, as Spark writes
// them, and leave out empty optional fields as Spark leaves out nulls.

type errorResponse struct {
	Action                 string `json:"action"`
	HighestProtocolVersion string `json:"highestProtocolVersion,omitempty"`
	Message                string `json:"message"`
	ServerProtocolVersion  string `json:"serverProtocolVersion"`
}

type createResponse struct {
	Action                string   `json:"action"`
	Message               string   `json:"message,omitempty"`
	ServerProtocolVersion string   `json:"serverProtocolVersion"`
	SubmissionID          string   `json:"submissionId,omitempty"`
	Success               bool     `json:"success"`
	UnknownFields         []string `json:"unknownFields,omitempty"`
}

type statusResponse struct {
	Action                string `json:"action"`
	DriverState           string `json:"driverState,omitempty"`
	Message               string `json:"message,omitempty"`
	ServerProtocolVersion string `json:"serverProtocolVersion"`
	SubmissionID          string `json:"submissionId"`
	Success               bool   `json:"success"`
	WorkerHostPort        string `json:"workerHostPort,omitempty"`
	WorkerID              string `json:"workerId,omitempty"`
}

type killResponse struct {
	Action                string `json:"action"`
	Message               string `json:"message,omitempty"`
	ServerProtocolVersion string `json:"serverProtocolVersion"`
	SubmissionID          string `json:"submissionId"`
	Success               bool   `json:"success"`
}

type listResponse struct {
	Action                string        `json:"action"`
	ServerProtocolVersion string        `json:"serverProtocolVersion"`
	Submissions           []api.AppInfo `json:"submissions"`
	Success               bool          `json:"success"`
}

type workerListResponse struct {
	Action                string           `json:"action"`
	ServerProtocolVersion string           `json:"serverProtocolVersion"`
	Success               bool             `json:"success"`
	Workers               []api.WorkerInfo `json:"workers"`
}

// writeJSON sends v indented, as Spark does, without HTML escaping (args
// are shell scripts full of < and &).
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		msg := "Internal server error: cannot encode the response: " + err.Error()
		noteError(w, msg)
		buf.Reset()
		_ = enc.Encode(errorResponse{Action: actionError, Message: msg, ServerProtocolVersion: ProtocolVersion})
	}
	h := w.Header()
	h.Set("Content-Type", contentTypeJSON)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// writeError sends an ErrorResponse.
func writeError(w http.ResponseWriter, status int, msg string) {
	noteError(w, msg)
	writeJSON(w, status, errorResponse{Action: actionError, Message: msg, ServerProtocolVersion: ProtocolVersion})
}

// errNoAnswer stands for a Backend that returned neither a value nor an
// error.
var errNoAnswer = errors.New("the master returned no answer")

// writeBackendError answers a Backend error that no handler turned into a
// protocol answer: standby is 503, a refused or invalid request 400,
// anything else 500.
func writeBackendError(w http.ResponseWriter, err error) {
	var re *wire.RemoteError
	if !errors.As(err, &re) {
		writeError(w, http.StatusInternalServerError, "Internal server error: "+err.Error())
		return
	}
	switch re.Code {
	case api.CodeStandby:
		writeError(w, http.StatusServiceUnavailable, standbyMessage(re.Detail))
	case api.CodeInvalid, api.CodeRefused, api.CodeNotFound:
		writeError(w, http.StatusBadRequest, re.Message)
	default:
		writeError(w, http.StatusInternalServerError, "Internal server error: "+re.Message)
	}
}

func standbyMessage(leader string) string {
	if leader == "" {
		return "This master is in standby mode and the leader is not known yet; retry later or ask another master."
	}
	return "This master is in standby mode; send requests to the leader, " + leader + "."
}

// remoteCode returns the code of a *wire.RemoteError, or "" for any other
// error.
func remoteCode(err error) string {
	var re *wire.RemoteError
	if errors.As(err, &re) {
		return re.Code
	}
	return ""
}

// quote quotes s for a message, cut to a readable length.
func quote(s string) string {
	const max = 64
	if len(s) > max {
		return strconv.Quote(s[:max]) + "..."
	}
	return strconv.Quote(s)
}

// recorder remembers the status and error message of a response so that
// ServeHTTP can log failures.
type recorder struct {
	http.ResponseWriter
	status int
	msg    string
	// quiet marks a 5xx that is an expected answer (a standby's /readyz),
	// logged at debug level only.
	quiet bool
}

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Flush lets extra handlers stream.
func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap serves http.ResponseController.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func noteError(w http.ResponseWriter, msg string) {
	if rec, ok := w.(*recorder); ok {
		rec.msg = msg
	}
}
