// Package buildinfo holds the version of the build, set by the Makefile
// through -ldflags, and reports it the same way for every binary.
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Version and Commit are set at link time:
//
//	-ldflags "-X github.com/alohasched/aloha/internal/buildinfo.Version=1.0.0"
var (
	Version = "0.1.0-dev"
	Commit  = ""
)

// String describes the build in one line: program version (commit, Go version).
func String(program string) string {
	commit := Commit
	if commit == "" {
		commit = vcsRevision()
	}
	if commit == "" {
		commit = "unknown commit"
	}
	return fmt.Sprintf("%s %s (%s, %s %s/%s)", program, Version, commit, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

func vcsRevision() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			return s.Value[:12]
		}
	}
	return ""
}
