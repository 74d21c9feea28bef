// Package daemon is the root of Aloha's daemons. Its sub-packages hold the
// master (scheduling and cluster state), the worker (running
// applications), application kinds, recovery, events and listeners, the
// REST server and configuration; package local wires a master and workers
// into one process for alohad local and tests.
package daemon
