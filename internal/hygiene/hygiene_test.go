package hygiene

import (
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/alohasched/aloha"

type pkg struct {
	ImportPath string
	Name       string
	Doc        string
	Deps       []string
}

func listPackages(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-e", "-json=ImportPath,Name,Doc,Deps", module+"/...")
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 5 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	return pkgs
}

func under(path, root string) bool {
	full := module + "/" + root
	return path == full || strings.HasPrefix(path, full+"/")
}

// DESIGN §2: cmd → tui → client → wire and cmd → daemon → wire; client and
// tui never reach daemon; wire is a generic transport that imports no
// other package of ours; the shared vocabulary (api) sits between wire and
// both sides.
func TestImportDirection(t *testing.T) {
	forbidden := []struct {
		from string
		to   []string
	}{
		{"wire", []string{""}}, // nothing of ours at all
		{"api", []string{"daemon", "client", "tui", "cmd"}},
		{"client", []string{"daemon", "tui", "cmd"}},
		{"tui", []string{"daemon", "cmd"}},
		{"daemon", []string{"client", "tui", "cmd"}},
	}
	for _, p := range listPackages(t) {
		for _, rule := range forbidden {
			if !under(p.ImportPath, rule.from) {
				continue
			}
			for _, dep := range p.Deps {
				if !strings.HasPrefix(dep, module+"/") {
					continue
				}
				for _, bad := range rule.to {
					if bad == "" || under(dep, bad) {
						t.Errorf("%s imports %s (directly or not): %s must not depend on %s", p.ImportPath, dep, rule.from, orOurs(bad))
					}
				}
			}
		}
	}
}

func orOurs(s string) string {
	if s == "" {
		return "any other package of this module"
	}
	return s
}

func TestEveryPackageHasAComment(t *testing.T) {
	for _, p := range listPackages(t) {
		if strings.TrimSpace(p.Doc) == "" {
			t.Errorf("package %s has no package comment", p.ImportPath)
		}
	}
}
