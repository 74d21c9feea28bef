package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The completion scripts complete commands, flags and their values.
func TestAlohactlCompletion(t *testing.T) {
	c := ctl{t: t}
	dir := t.TempDir()
	for _, sh := range []string{"bash", "zsh", "fish"} {
		script := filepath.Join(dir, "alohactl."+sh)
		os.WriteFile(script, []byte(c.ok("completion", sh)), 0o644)
		if _, err := exec.LookPath(sh); err != nil {
			t.Logf("%s is not installed: its script is not checked", sh)
			continue
		}
		if out, err := exec.Command(sh, "-n", script).CombinedOutput(); err != nil {
			t.Errorf("alohactl completion %s: not valid %s: %v\n%s", sh, sh, err, out)
		}
	}
	bash := func(line string) string {
		words := strings.Fields(line)
		if strings.HasSuffix(line, " ") {
			words = append(words, "")
		}
		prog := fmt.Sprintf("source %s; COMP_WORDS=(%s); COMP_CWORD=%d; _alohactl; echo \"${COMPREPLY[*]}\"",
			filepath.Join(dir, "alohactl.bash"), `"`+strings.Join(words, `" "`)+`"`, len(words)-1)
		out, err := exec.Command("bash", "-c", prog).Output()
		if err != nil {
			t.Fatalf("bash completion of %q: %v", line, err)
		}
		return strings.TrimSpace(string(out))
	}
	for line, want := range map[string]string{
		"alohactl st":                   "status",
		"alohactl -o ":                  "table json",
		"alohactl submit --rest":        "--restart",
		"alohactl submit --restart ":    "never on-failure",
		"alohactl logs --f":             "--follow",
		"alohactl completion ":          "bash zsh fish",
		"alohactl --master x list --st": "--state",
	} {
		if got := bash(line); got != want {
			t.Errorf("bash completion of %q = %q, want %q", line, got, want)
		}
	}
	if _, err := exec.LookPath("fish"); err == nil {
		out, err := exec.Command("fish", "-c", "source "+filepath.Join(dir, "alohactl.fish")+"; complete -C'alohactl submit --restart '").Output()
		if err != nil || !strings.HasPrefix(string(out), "never\t") {
			t.Errorf("fish completion of --restart = %q, %v", out, err)
		}
	}
}
