package rest

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/alohasched/aloha/api"
)

// status answers GET /v1/submissions/status/ID. Like Spark, any string is
// an id: one that is not an application id is simply not found.
func (h *handler) status(w http.ResponseWriter, r *http.Request, id string) {
	notFound := statusResponse{
		Action:                actionStatusResponse,
		Message:               notFoundMessage(id),
		ServerProtocolVersion: ProtocolVersion,
		SubmissionID:          id,
	}
	if !api.ValidAppID(id) {
		writeJSON(w, http.StatusOK, notFound)
		return
	}
	info, err := h.b.Status(r.Context(), id)
	if err == nil && info == nil {
		err = errNoAnswer
	}
	if err != nil {
		if msg, ok := unsuccessful(err, id); ok {
			notFound.Message = msg
			writeJSON(w, http.StatusOK, notFound)
			return
		}
		writeBackendError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, statusResponse{
		Action:                actionStatusResponse,
		DriverState:           string(info.State),
		Message:               info.Message,
		ServerProtocolVersion: ProtocolVersion,
		SubmissionID:          id,
		Success:               true,
		WorkerHostPort:        info.WorkerAddr,
		WorkerID:              info.WorkerID,
	})
}

// kill answers POST /v1/submissions/kill/ID.
func (h *handler) kill(w http.ResponseWriter, r *http.Request, id string) {
	resp := killResponse{
		Action:                actionKillResponse,
		Message:               notFoundMessage(id),
		ServerProtocolVersion: ProtocolVersion,
		SubmissionID:          id,
	}
	if !api.ValidAppID(id) {
		writeJSON(w, http.StatusOK, resp)
		return
	}
	k, err := h.b.Kill(r.Context(), id)
	if err != nil {
		if msg, ok := unsuccessful(err, id); ok {
			resp.Message = msg
			writeJSON(w, http.StatusOK, resp)
			return
		}
		writeBackendError(w, err)
		return
	}
	resp.Success = true
	resp.Message = "Kill request for " + id + " submitted."
	if k != nil && k.Message != "" {
		resp.Message = k.Message
	}
	writeJSON(w, http.StatusOK, resp)
}

// unsuccessful says whether a Backend error is an answer with
// "success":false (the application is unknown, or the master refuses)
// rather than an ErrorResponse, and with which message.
func unsuccessful(err error, id string) (string, bool) {
	switch remoteCode(err) {
	case api.CodeNotFound:
		return notFoundMessage(id), true
	case api.CodeRefused, api.CodeInvalid:
		return err.Error(), true
	}
	return "", false
}

func notFoundMessage(id string) string {
	return "Application " + id + " not found."
}

// list answers GET /v1/submissions?state=A,B&limit=N, newest first.
func (h *handler) list(w http.ResponseWriter, r *http.Request) {
	req, msg := parseListQuery(r)
	if msg != "" {
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	apps, err := h.b.ListApps(r.Context(), req)
	if err != nil {
		writeBackendError(w, err)
		return
	}
	if apps == nil {
		apps = []api.AppInfo{}
	}
	writeJSON(w, http.StatusOK, listResponse{
		Action:                actionListResponse,
		ServerProtocolVersion: ProtocolVersion,
		Submissions:           apps,
		Success:               true,
	})
}

// parseListQuery reads "state" (comma-separated, repeatable, any letter
// case) and "limit" (0 or absent: no limit). A non-empty message names the
// parameter at fault.
func parseListQuery(r *http.Request) (api.ListAppsRequest, string) {
	var req api.ListAppsRequest
	q := r.URL.Query()
	for _, v := range q["state"] {
		for s := range strings.SplitSeq(v, ",") {
			if s = strings.TrimSpace(s); s == "" {
				continue
			}
			st, err := api.ParseAppState(s)
			if err != nil {
				return req, "Invalid query parameter \"state\": " + err.Error()
			}
			req.States = append(req.States, st)
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return req, "Invalid query parameter \"limit\": " + quote(v) + " is not a whole number >= 0."
		}
		req.Limit = n
	}
	return req, ""
}
