package server

import (
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/alohasched/aloha/daemon/config"
)

func TestExposureNeedsASecret(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cases := []struct {
		host, secret, insecure string
		wantErr                bool
	}{
		{"127.0.0.1", "", "false", false},
		{"localhost", "", "false", false},
		{"::1", "", "false", false},
		{"0.0.0.0", "", "false", true},
		{"::", "", "false", true},
		{"10.1.2.3", "", "false", true},
		{"0.0.0.0", "s3cret", "false", false},
		{"0.0.0.0", "", "true", false},
	}
	for _, tc := range cases {
		conf := config.Defaults()
		conf.Set(config.AuthenticateSecret, tc.secret, "test")
		conf.Set(config.SecurityAllowInsecure, tc.insecure, "test")
		err := checkExposure(conf, tc.host, "master", log)
		if (err != nil) != tc.wantErr {
			t.Errorf("checkExposure(%s, secret %q, insecure %s) = %v, want error %v", tc.host, tc.secret, tc.insecure, err, tc.wantErr)
		}
		if err != nil && !strings.Contains(err.Error(), "aloha.authenticate.secret") {
			t.Errorf("error %q does not say what to set", err)
		}
	}
}

func TestRecoveryDirectoryMustBePrivate(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := checkPrivate(dir); err == nil || !strings.Contains(err.Error(), "writable by group or others") {
		t.Fatalf("checkPrivate(0777) = %v", err)
	}
	os.Chmod(dir, 0o700)
	if err := checkPrivate(dir); err != nil {
		t.Fatalf("checkPrivate(0700) = %v", err)
	}
}
