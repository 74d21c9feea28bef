//go:build unix

package dist

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// make dist builds the tarball with the layout and modes the README's
// commands rely on.
func TestDistTarball(t *testing.T) {
	for _, tool := range []string{"make", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not on PATH", tool)
		}
	}
	t.Parallel()
	const version = "0.0.0-test"
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "make", "dist", "VERSION="+version, "DISTDIR="+out)
	cmd.Dir = root
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make dist: %v\n%s", err, msg)
	}

	tarball := filepath.Join(out, "aloha-"+version+"-dist.tar.gz")
	top := "aloha-" + version + "/"
	want := map[string]os.FileMode{
		top:                                      os.ModeDir | 0o755,
		top + "bin/":                             os.ModeDir | 0o755,
		top + "bin/alohad":                       0o755,
		top + "bin/alohactl":                     0o755,
		top + "sbin/":                            os.ModeDir | 0o755,
		top + "sbin/aloha-daemon.sh":             0o755,
		top + "conf/":                            os.ModeDir | 0o755,
		top + "conf/aloha-default.conf.template": 0o644,
		top + "conf/aloha-env.sh.template":       0o644,
		top + "application/":                     os.ModeDir | 0o755,
		top + "application/README.md":            0o644,
		top + "LICENSE":                          0o644,
		top + "README.md":                        0o644,
	}
	// Files whose content must be the repository's.
	same := map[string]string{
		top + "sbin/aloha-daemon.sh":             "sbin/aloha-daemon.sh",
		top + "conf/aloha-default.conf.template": "conf/aloha-default.conf.template",
		top + "conf/aloha-env.sh.template":       "conf/aloha-env.sh.template",
		top + "application/README.md":            "application/README.md",
		top + "LICENSE":                          "LICENSE",
		top + "README.md":                        "README.md",
	}

	f, err := os.Open(tarball)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	seen := map[string]bool{}
	extracted := t.TempDir()
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		name := hdr.Name
		if hdr.Typeflag == tar.TypeDir && !strings.HasSuffix(name, "/") {
			name += "/"
		}
		seen[name] = true
		mode, ok := want[name]
		if !ok {
			if !strings.HasPrefix(name, top) {
				t.Errorf("%s is outside the top directory %s", name, top)
			}
			continue
		}
		if got := hdr.FileInfo().Mode() & (os.ModeDir | os.ModePerm); got != mode {
			t.Errorf("%s has mode %v, want %v", name, got, mode)
		}
		if mode.IsDir() {
			continue
		}
		if hdr.Typeflag != tar.TypeReg {
			t.Errorf("%s is not a regular file (type %q)", name, hdr.Typeflag)
			continue
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if len(data) == 0 {
			t.Errorf("%s is empty", name)
		}
		if src, ok := same[name]; ok {
			repo, err := os.ReadFile(filepath.Join(root, src))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(data, repo) {
				t.Errorf("%s differs from the repository's %s", name, src)
			}
		}
		if strings.HasPrefix(name, top+"bin/") {
			bin := filepath.Join(extracted, filepath.Base(name))
			if err := os.WriteFile(bin, data, 0o755); err != nil {
				t.Fatal(err)
			}
			// Built with make build's ldflags: the version is the one given.
			info, err := exec.CommandContext(ctx, "go", "version", "-m", bin).CombinedOutput()
			if err != nil {
				t.Errorf("go version -m %s: %v\n%s", name, err, info)
			} else if !strings.Contains(string(info), "buildinfo.Version="+version) {
				t.Errorf("%s was not linked with buildinfo.Version=%s:\n%s", name, version, info)
			}
		}
	}
	for name := range want {
		if !seen[name] {
			t.Errorf("the tarball lacks %s", name)
		}
	}
}
