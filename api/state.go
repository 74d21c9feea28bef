package api

import (
	"fmt"
	"strings"
)

// AppState is the state of an application.
type AppState string

// Application states. FINISHED, FAILED, KILLED and ERROR are final.
const (
	AppSubmitted   AppState = "SUBMITTED"   // accepted, waiting for a worker
	AppLaunching   AppState = "LAUNCHING"   // sent to a worker, not yet started
	AppRunning     AppState = "RUNNING"     // its process runs
	AppFinished    AppState = "FINISHED"    // exited with status 0
	AppFailed      AppState = "FAILED"      // exited with a non-zero status
	AppKilled      AppState = "KILLED"      // killed on request or for running too long
	AppError       AppState = "ERROR"       // could not run, or its worker was lost
	AppRelaunching AppState = "RELAUNCHING" // its worker was lost; it runs again under a new id
	AppUnknown     AppState = "UNKNOWN"     // a recovering master has not heard of it yet
)

// AppStates lists every application state in life-cycle order.
var AppStates = []AppState{AppSubmitted, AppLaunching, AppRunning, AppFinished, AppFailed, AppKilled, AppError, AppRelaunching, AppUnknown}

func (s AppState) String() string { return string(s) }

// IsFinal says whether the application can change state no more.
func (s AppState) IsFinal() bool {
	switch s {
	case AppFinished, AppFailed, AppKilled, AppError:
		return true
	}
	return false
}

// ParseAppState parses a state name, in any letter case.
func ParseAppState(s string) (AppState, error) {
	for _, st := range AppStates {
		if strings.EqualFold(s, string(st)) {
			return st, nil
		}
	}
	return "", fmt.Errorf("unknown application state %q (want one of %s)", s, joinStates(AppStates))
}

// WorkerState is the state of a worker as the master sees it.
type WorkerState string

// Worker states.
const (
	WorkerAlive          WorkerState = "ALIVE"
	WorkerDead           WorkerState = "DEAD"
	WorkerDecommissioned WorkerState = "DECOMMISSIONED"
	WorkerUnknown        WorkerState = "UNKNOWN" // not yet heard from during recovery
)

// WorkerStates lists every worker state.
var WorkerStates = []WorkerState{WorkerAlive, WorkerDead, WorkerDecommissioned, WorkerUnknown}

func (s WorkerState) String() string { return string(s) }

// IsFinal says whether the worker is gone for good.
func (s WorkerState) IsFinal() bool { return s == WorkerDead || s == WorkerDecommissioned }

// ParseWorkerState parses a state name, in any letter case.
func ParseWorkerState(s string) (WorkerState, error) {
	for _, st := range WorkerStates {
		if strings.EqualFold(s, string(st)) {
			return st, nil
		}
	}
	return "", fmt.Errorf("unknown worker state %q (want one of %s)", s, joinStates(WorkerStates))
}

// MasterState is the role a master plays.
type MasterState string

// Master states.
const (
	MasterStandby            MasterState = "STANDBY"
	MasterAlive              MasterState = "ALIVE"
	MasterRecovering         MasterState = "RECOVERING"
	MasterCompletingRecovery MasterState = "COMPLETING_RECOVERY"
)

// MasterStates lists every master state.
var MasterStates = []MasterState{MasterStandby, MasterAlive, MasterRecovering, MasterCompletingRecovery}

func (s MasterState) String() string { return string(s) }

// IsFinal is always false: a master can always change role. It exists so
// that all three state types answer the same questions.
func (s MasterState) IsFinal() bool { return false }

// IsLeader says whether a master in this state leads the cluster.
func (s MasterState) IsLeader() bool { return s != MasterStandby }

// ParseMasterState parses a state name, in any letter case.
func ParseMasterState(s string) (MasterState, error) {
	for _, st := range MasterStates {
		if strings.EqualFold(s, string(st)) {
			return st, nil
		}
	}
	return "", fmt.Errorf("unknown master state %q (want one of %s)", s, joinStates(MasterStates))
}

func joinStates[S ~string](states []S) string {
	parts := make([]string, len(states))
	for i, s := range states {
		parts[i] = string(s)
	}
	return strings.Join(parts, ", ")
}
