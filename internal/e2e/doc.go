// Package e2e holds the end-to-end tests: they build alohad and alohactl,
// start them as real processes on loopback ports, and drive them the way
// an operator does, through the command line, the REST API and signals.
// It has no code of its own.
package e2e
