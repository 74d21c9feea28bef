// Package rest is the master's HTTP face: the REST submission protocol that
// Spark's standalone master and the original Aloha served on port 6066, so
// that existing curl scripts and tools keep working, plus a few read-only
// views for people and probes. It owns the HTTP side only (paths, JSON
// shapes, status codes, authentication); every decision about applications
// is the master's, reached through the Backend interface.
//
// # Protocol (version v1)
//
// Every JSON answer carries "action" (the message type) and
// "serverProtocolVersion":"v1", and is sent as
// application/json;charset=utf-8 with its fields in alphabetical order, as
// Spark sends them.
//
//	POST /v1/submissions/create       CreateSubmissionRequest → CreateSubmissionResponse
//	GET  /v1/submissions/status/ID    → SubmissionStatusResponse
//	POST /v1/submissions/kill/ID      → KillSubmissionResponse
//	GET  /v1/submissions[?state=RUNNING,FINISHED&limit=50] → SubmissionListResponse
//	GET  /v1/workers                  → WorkerListResponse
//	GET  /json                        the master's state, shaped like Spark's master /json page
//	GET  /readyz                      "ok" when this master leads (ALIVE), else 503
//
// Options.Extra mounts more paths behind the same authentication; alohad
// mounts the master's Prometheus metrics at GET /metrics that way.
// RequireBearer gives other HTTP servers (a worker's /metrics) the same
// protection.
//
// A create request is a JSON object:
//
//	{"action":"CreateSubmissionRequest","name":"test","entryPoint":"shell",
//	 "libs":["/path"],"args":"echo hi","cores":1,"memory":256,"supervise":false}
//
// optionally with the Go-side fields of api.AppSpec (argv, env, labels,
// maxRuntime, restart). Missing cores and memory take their defaults; an
// explicit zero or negative value is refused. Fields the server does not
// know are listed, sorted, in the answer's "unknownFields" and otherwise
// ignored.
//
// A status or kill request for an application the master does not know (or
// an id that is not an application id at all) is answered 200 with
// "success":false and a message, as Spark does.
//
// # Status codes
//
//	200  the request was handled (see "success" for status and kill)
//	400  ErrorResponse: malformed or non-object JSON, an empty body, a wrong
//	     or missing action, a field of the wrong type, a spec that breaks a
//	     rule (the message names the field), a missing id, an unknown path
//	401  ErrorResponse: Options.Secret is set and the request lacks
//	     "Authorization: Bearer <secret>"; nothing else is served
//	405  wrong method; the Allow header lists the right ones
//	413  request body over 1 MiB
//	468  ErrorResponse with "highestProtocolVersion":"v1": the path names a
//	     protocol version (v0, v2, ...) this server does not speak
//	500  ErrorResponse: an internal error, with its message
//	503  ErrorResponse: this master is a standby; the message names the
//	     leader when it is known
//
// Where this package departs from Spark: a path with anything after the id
// (/v1/submissions/status/a/b) is refused with 400 rather than read as the
// id "a"; a first path segment that does not look like a version (v<n>) is
// an unknown path (400), not an unknown version (468); a create request with
// a missing or foreign action is a 400, never a 500.
package rest
