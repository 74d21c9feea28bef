package api

import "testing"

func TestAppStates(t *testing.T) {
	final := map[AppState]bool{AppFinished: true, AppFailed: true, AppKilled: true, AppError: true}
	for _, s := range AppStates {
		if s.IsFinal() != final[s] {
			t.Errorf("%s.IsFinal() = %v, want %v", s, s.IsFinal(), final[s])
		}
		got, err := ParseAppState(string(s))
		if err != nil || got != s {
			t.Errorf("ParseAppState(%q) = %v, %v", s, got, err)
		}
		if got, _ := ParseAppState(lower(string(s))); got != s {
			t.Errorf("ParseAppState is case-sensitive for %s", s)
		}
		if s.String() != string(s) {
			t.Errorf("String() = %q", s.String())
		}
	}
	if len(AppStates) != 9 {
		t.Fatalf("%d application states, DESIGN §3 names 9", len(AppStates))
	}
	if _, err := ParseAppState("DONE"); err == nil {
		t.Error("ParseAppState(DONE) succeeded")
	}
}

func TestWorkerAndMasterStates(t *testing.T) {
	for _, s := range WorkerStates {
		if got, err := ParseWorkerState(lower(string(s))); err != nil || got != s {
			t.Errorf("ParseWorkerState(%q) = %v, %v", s, got, err)
		}
	}
	if !WorkerDead.IsFinal() || WorkerAlive.IsFinal() || WorkerUnknown.IsFinal() {
		t.Error("worker IsFinal wrong")
	}
	for _, s := range MasterStates {
		if got, err := ParseMasterState(lower(string(s))); err != nil || got != s {
			t.Errorf("ParseMasterState(%q) = %v, %v", s, got, err)
		}
	}
	if MasterStandby.IsLeader() || !MasterRecovering.IsLeader() || !MasterAlive.IsLeader() {
		t.Error("IsLeader wrong")
	}
	if _, err := ParseWorkerState("GONE"); err == nil {
		t.Error("ParseWorkerState(GONE) succeeded")
	}
	if _, err := ParseMasterState("LEADER"); err == nil {
		t.Error("ParseMasterState(LEADER) succeeded")
	}
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
