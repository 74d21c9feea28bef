//go:build !linux

package main

import "io"

// isTerminal reports false off Linux: output is never coloured there.
func isTerminal(io.Writer) bool { return false }
