package e2e

import (
	"errors"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// DESIGN §9: binding beyond loopback needs a secret, or an explicit
// override that is warned about at every start.
func TestNonLoopbackNeedsASecret(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(filepath.Join(binDir, "alohad"), "master", "-h", "0.0.0.0", "-p", "0", "--rest-port", "0")
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || !strings.Contains(string(out), "refusing to listen on 0.0.0.0 without aloha.authenticate.secret") {
		t.Fatalf("master on 0.0.0.0 without a secret: %v\n%s", err, out)
	}
	m := start(t, dir, nil, "alohad", "master", "-h", "0.0.0.0", "-p", "0", "--rest-port", "0", "-Daloha.security.allowInsecure=true")
	m.waitLog(`level=WARN msg="serving without a secret on an address other hosts can reach`)
	m.waitLog(`msg="master listening"`)
	s := start(t, dir, []string{"ALOHA_SECRET=s3cret"}, "alohad", "master", "-h", "0.0.0.0", "-p", "0", "--rest-port", "0")
	s.waitLog(`msg="master listening"`)
	if strings.Contains(s.out.String(), "serving without a secret") {
		t.Fatal("warned although a secret is set")
	}
}

// With a secret, REST callers without "Authorization: Bearer <secret>"
// get 401 and nothing else, /metrics and /json included; RPC peers
// without the proof are dropped at the handshake.
func TestSecretGuardsRESTAndRPC(t *testing.T) {
	dir := t.TempDir()
	_, url, rest := startMaster(t, dir, "-Daloha.authenticate.secret=s3cret")
	for _, path := range []string{"/v1/submissions", "/json", "/readyz", "/v1/submissions/status/app-20200101000000-0001", "/metrics"} {
		for _, auth := range []string{"", "Bearer wrong", "Basic czNjcmV0"} {
			req, _ := http.NewRequest("GET", rest+path, nil)
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("GET %s with %q = %d, want 401", path, auth, resp.StatusCode)
			}
		}
	}
	req, _ := http.NewRequest("GET", rest+"/json", nil)
	req.Header.Set("Authorization", "Bearer s3cret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET /json with the secret = %d", resp.StatusCode)
	}
	// A worker without the secret cannot join; with it, it can.
	w := start(t, t.TempDir(), nil, "alohad", "worker", "-d", filepath.Join(dir, "w"), url)
	w.waitLog(`authentication`)
	startWorkerEnv(t, filepath.Join(dir, "w2"), url, []string{"ALOHA_SECRET=s3cret"})
}

func startWorkerEnv(t *testing.T, workDir, masterURL string, env []string) *proc {
	t.Helper()
	w := start(t, t.TempDir(), env, "alohad", "worker", "-h", "127.0.0.1", "-d", workDir, masterURL)
	w.waitLog(`Successfully registered with master aloha://`)
	return w
}
