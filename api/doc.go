// Package api is Aloha's shared vocabulary: the application spec and its
// validation, the states of applications, workers and masters, identifiers,
// the summaries shown to users, the events, and every message the daemons
// and clients exchange over wire, with their stable type codes.
//
// Both sides import it: the daemons (master, worker) and the front ends
// (client, alohactl, the TUI). It holds data and the rules about data only;
// behaviour lives in the daemons.
package api
