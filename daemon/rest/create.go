package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"

	"github.com/alohasched/aloha/api"
)

// create answers POST /v1/submissions/create.
func (h *handler) create(w http.ResponseWriter, r *http.Request) {
	body, status, msg := readBody(w, r)
	if status != 0 {
		writeError(w, status, msg)
		return
	}
	spec, unknown, err := decodeCreate(body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "Malformed request: "+err.Error())
		return
	}
	id, err := h.b.Submit(r.Context(), spec)
	switch {
	case err != nil:
		writeBackendError(w, err)
	case id == "":
		writeError(w, http.StatusInternalServerError, "Internal server error: the master accepted the submission without an application id.")
	default:
		writeJSON(w, http.StatusOK, createResponse{
			Action:                actionCreateResponse,
			Message:               "Application successfully submitted as " + id,
			ServerProtocolVersion: ProtocolVersion,
			SubmissionID:          id,
			Success:               true,
			UnknownFields:         unknown,
		})
	}
}

// readBody reads at most maxBodyBytes of the request body. A non-zero
// status says why it could not.
func readBody(w http.ResponseWriter, r *http.Request) (body []byte, status int, msg string) {
	tooLarge := fmt.Sprintf("Request body too large: at most %d bytes are accepted.", maxBodyBytes)
	if r.ContentLength > maxBodyBytes {
		return nil, http.StatusRequestEntityTooLarge, tooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, http.StatusRequestEntityTooLarge, tooLarge
		}
		return nil, http.StatusBadRequest, "Cannot read the request body: " + err.Error()
	}
	return body, 0, ""
}

// decodeCreate turns a CreateSubmissionRequest into a spec that passes
// api.AppSpec.Validate, with the defaults applied, and lists the fields it
// did not know, sorted. Its errors are the client's fault and name the field
// at fault.
func decodeCreate(body []byte) (api.AppSpec, []string, error) {
	var spec api.AppSpec
	if len(bytes.TrimSpace(body)) == 0 {
		return spec, nil, errors.New("the request body is empty; want a JSON " + actionCreateRequest + " object")
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return spec, nil, fmt.Errorf("invalid JSON at byte %d: %s", se.Offset, se.Error())
		}
		return spec, nil, fmt.Errorf("want a JSON object, got %s", describe(body))
	}
	if fields == nil {
		return spec, nil, errors.New("want a JSON object, got null")
	}
	if err := checkAction(fields["action"]); err != nil {
		return spec, nil, err
	}

	var (
		cores, memory *int // set when the request gives them
		unknown       []string
	)
	for _, name := range slices.Sorted(maps.Keys(fields)) {
		raw := fields[name]
		if known(name) && isNull(raw) {
			continue // a null is an absent field, as for Spark
		}
		var err error
		switch name {
		case "action": // checked above
		case "name":
			err = decodeField(name, raw, &spec.Name, "a string")
		case "entryPoint":
			err = decodeField(name, raw, &spec.EntryPoint, "a string")
		case "libs":
			err = decodeField(name, raw, &spec.Libs, "an array of strings")
		case "args":
			err = decodeField(name, raw, &spec.Args, "a string")
		case "argv":
			err = decodeField(name, raw, &spec.Argv, "an array of strings")
		case "cores":
			cores = new(int)
			err = decodeField(name, raw, cores, "an integer")
		case "memory":
			memory = new(int)
			err = decodeField(name, raw, memory, "an integer number of megabytes")
		case "supervise":
			err = decodeField(name, raw, &spec.Supervise, "true or false")
		case "env":
			err = decodeField(name, raw, &spec.Env, "an object of string values")
		case "labels":
			err = decodeField(name, raw, &spec.Labels, "an object of string values")
		case "maxRuntime":
			err = decodeField(name, raw, &spec.MaxRuntime, `a number of seconds or a duration such as "90s"`)
		case "restart":
			err = decodeRestart(raw, &spec.Restart, &unknown)
		default:
			unknown = append(unknown, name)
		}
		if err != nil {
			return spec, nil, err
		}
	}

	spec = spec.WithDefaults()
	// WithDefaults cannot tell an explicit zero from a missing field; put
	// explicit values back so that Validate refuses zero and negatives.
	if cores != nil {
		spec.Cores = *cores
	}
	if memory != nil {
		spec.Memory = *memory
	}
	if err := spec.Validate(); err != nil {
		var fe *api.FieldError
		if errors.As(err, &fe) {
			return spec, nil, fmt.Errorf("field %q %s", fe.Field, fe.Reason)
		}
		return spec, nil, err
	}
	slices.Sort(unknown)
	return spec, unknown, nil
}

// knownFields are the fields of a CreateSubmissionRequest: the action and
// the JSON names of api.AppSpec.
var knownFields = []string{"action", "name", "entryPoint", "libs", "args", "argv", "cores", "memory",
	"supervise", "env", "labels", "maxRuntime", "restart"}

func known(name string) bool { return slices.Contains(knownFields, name) }

func checkAction(raw json.RawMessage) error {
	want := fmt.Sprintf(`want "action":%q`, actionCreateRequest)
	if raw == nil || isNull(raw) {
		return errors.New("the action field is missing; " + want)
	}
	var action string
	if err := json.Unmarshal(raw, &action); err != nil {
		return fmt.Errorf("field \"action\" must be a string (got %s); %s", describe(raw), want)
	}
	if action != actionCreateRequest {
		return fmt.Errorf("unexpected action %s on /create; %s", quote(action), want)
	}
	return nil
}

// decodeRestart reads the restart policy object field by field, so that its
// unknown fields are reported like the top-level ones.
func decodeRestart(raw json.RawMessage, p *api.RestartPolicy, unknown *[]string) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return typeError("restart", `an object such as {"policy":"on-failure","maxAttempts":3,"backoff":"5s"}`, raw)
	}
	for _, name := range slices.Sorted(maps.Keys(fields)) {
		sub := fields[name]
		full := "restart." + name
		var err error
		switch {
		case name != "policy" && name != "maxAttempts" && name != "backoff":
			*unknown = append(*unknown, full)
		case isNull(sub):
		case name == "policy":
			err = decodeField(full, sub, &p.Policy, strconv.Quote(api.RestartNever)+" or "+strconv.Quote(api.RestartOnFailure))
		case name == "maxAttempts":
			err = decodeField(full, sub, &p.MaxAttempts, "an integer")
		case name == "backoff":
			err = decodeField(full, sub, &p.Backoff, `a number of seconds or a duration such as "5s"`)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func decodeField(name string, raw json.RawMessage, dst any, want string) error {
	if err := json.Unmarshal(raw, dst); err != nil {
		return typeError(name, want, raw)
	}
	return nil
}

func typeError(name, want string, raw json.RawMessage) error {
	return fmt.Errorf("field %q must be %s (got %s)", name, want, describe(raw))
}

// describe shows a JSON value in a message, cut short.
func describe(raw []byte) string {
	const max = 40
	s := string(bytes.TrimSpace(raw))
	if len(s) > max {
		s = s[:max] + "..."
	}
	return s
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }
