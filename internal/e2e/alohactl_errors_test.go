package e2e

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Every failure is one line on stderr, prefixed alohactl:, saying what
// went wrong and what to do; usage errors exit 2, others 1.
func TestAlohactlErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	nobody := "aloha://" + ln.Addr().String()
	ln.Close()
	none := ctl{t: t, master: nobody}
	// The reason is "connection refused" unless another test's listener
	// took the freed port meanwhile; the line's shape is what counts.
	noMaster := `^alohactl: no master reachable at ` + regexp.QuoteMeta(nobody) + ` \([^\n]+\); is the master running\? set --master or ALOHA_MASTER\n$`
	none.fails(1, noMaster, "--timeout", "1s", "list")
	ctl{t: t, env: []string{"ALOHA_MASTER=" + nobody}}.fails(1, noMaster, "--timeout", "1s", "workers")

	c := ctl{t: t, master: startCtlLocal(t)}
	const unknown = "app-20990101000000-0000"
	for _, cmd := range []string{"status", "kill", "logs"} {
		c.fails(1, `^alohactl: no application `+unknown+` \(check the id with alohactl list\)\n$`, cmd, unknown)
	}
	c.fails(1, `^alohactl: unknown application kind "nokind"; known kinds: exec, `, "submit", "-k", "nokind", "--", "true")
	c.fails(2, `^alohactl: unknown flag --bogus \(see alohactl list --help\)\n$`, "list", "--bogus")
	c.fails(2, `^alohactl: --output must be one of "table","json" but got "xml"`, "-o", "xml", "list")
	c.fails(2, `^alohactl: --memory "2x": unknown unit "x"`, "submit", "-m", "2x", "--", "true")
	c.fails(2, `^alohactl: --env "FOO": want KEY=VALUE\n$`, "submit", "--env", "FOO", "--", "true")
	c.fails(2, `^alohactl: --state: unknown application state "sleeping"`, "list", "--state", "sleeping")
	c.fails(2, `^alohactl: no command given: put it after --`, "submit")
	c.fails(2, `^alohactl: --master "http://x": scheme must be aloha://`, "--master", "http://x", "list")
	c.fails(2, `^alohactl: expected "<app-id>" \(see alohactl status --help\)\n$`, "status")
}

// The secret comes from --secret-file or ALOHA_SECRET, never from a flag
// value; a wrong one is reported as such.
func TestAlohactlSecret(t *testing.T) {
	dir := t.TempDir()
	_, url, _ := startMaster(t, dir, "-Daloha.authenticate.secret=s3cret")
	right, wrong := filepath.Join(dir, "right"), filepath.Join(dir, "wrong")
	os.WriteFile(right, []byte("s3cret\n"), 0o600)
	os.WriteFile(wrong, []byte("guess\n"), 0o600)
	ctl{t: t, master: url, env: []string{"ALOHA_SECRET=s3cret"}}.ok("list")
	ctl{t: t, master: url}.ok("--secret-file", right, "workers")
	ctl{t: t, master: url, env: []string{"ALOHA_SECRET=guess"}}.ok("--secret-file", right, "list") // the file wins
	unauthenticated := `^alohactl: authentication failed at ` + regexp.QuoteMeta(url) + `: .*check ALOHA_SECRET or --secret-file`
	ctl{t: t, master: url, env: []string{"ALOHA_SECRET=guess"}}.fails(1, unauthenticated, "list")
	ctl{t: t, master: url}.fails(1, unauthenticated, "--secret-file", wrong, "list")
	ctl{t: t, master: url}.fails(1, unauthenticated, "--timeout", "5s", "list")
	ctl{t: t, master: url}.fails(2, `^alohactl: cannot read the secret file: .*no such file`, "--secret-file", filepath.Join(dir, "missing"), "list")
}

// States are coloured on a terminal only, and never with NO_COLOR or
// --no-color. Pipes are checked by every other test (ctl.run).
func TestAlohactlColour(t *testing.T) {
	if _, err := exec.LookPath("script"); err != nil {
		t.Skip("script(1) is needed to give alohactl a terminal")
	}
	c := ctl{t: t, master: startCtlLocal(t)}
	onTTY := func(env string, args ...string) string {
		line := strings.Join(append([]string{filepath.Join(binDir, "alohactl"), "--master", c.master}, args...), " ")
		cmd := exec.Command("script", "-qec", line, "/dev/null")
		cmd.Env = append(c.command(context.Background()).Env, env)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s on a terminal: %v: %s", line, err, out)
		}
		// Bubble Tea v1 (linked in for alohactl top) asks the terminal for
		// its background colour when the program starts, on any
		// command: an OSC 11 query and a cursor-position request, which a
		// terminal answers and does not show. They are queries, not
		// colours; drop them before looking for colour escapes.
		s := strings.ReplaceAll(string(out), "\x1b]11;?\x1b\\", "")
		return strings.ReplaceAll(s, "\x1b[6n", "")
	}
	if out := onTTY("X=1", "workers"); !strings.Contains(out, "\x1b[32mALIVE\x1b[0m") {
		t.Errorf("workers on a terminal: no colour in %q", out)
	}
	if out := onTTY("NO_COLOR=1", "workers"); strings.Contains(out, "\x1b[") || !strings.Contains(out, "ALIVE") {
		t.Errorf("workers with NO_COLOR on a terminal = %q", out)
	}
	if out := onTTY("X=1", "--no-color", "workers"); strings.Contains(out, "\x1b[") || !strings.Contains(out, "ALIVE") {
		t.Errorf("workers --no-color on a terminal = %q", out)
	}
}
