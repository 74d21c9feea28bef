// Package tui is the terminal UI behind `alohactl top`: live views of an
// Aloha cluster's applications, workers and events, an application's
// spec, history and logs, and the keys to filter, sort and kill.
//
//	c, _ := client.New(client.Config{Masters: []string{"aloha://m1:7077"}})
//	defer c.Close()
//	err := tui.Run(ctx, c, tui.Options{})
//
// # Where the data comes from
//
// The model never polls applications. It reads the leader's event buffer
// to find where the stream stands, loads one snapshot (List, Workers,
// MasterInfo) and from then on applies the event stream (Source.Events)
// incrementally. Events that arrive while a snapshot loads are queued and
// replayed on top of it; a replayed state change older than what the
// snapshot already knows is skipped. LeaderChanged and Lagged events, and
// a leader epoch that moved, load a new snapshot. A light MasterInfo and
// Workers call every Options.Refresh keeps the header and the workers'
// resources current and notices a lost connection. An application that
// shows up in an event but not in the snapshot is fetched with Status.
//
// # Structure
//
// Model is the bubbletea model. Its views (apps, workers, events, the
// detail of an application) are components as in soft-serve: each takes
// the room it is given (SetSize) and lists its keys (help.KeyMap). They
// are built from parts kept apart from them: a table, a log pane, the
// header, the kill dialog, the command line and the help overlay. Every
// key is declared once in keymap.go and every style in styles.go.
//
// All I/O happens in tea.Cmd functions (commands.go) that return typed
// messages; Update and View never block. Long-lived readers (the event
// stream, a log stream) run as commands that hand their output to the
// model through a bounded channel read by a second command, so a slow
// screen slows the reader down instead of losing lines or events; the
// leader, which never waits for a subscriber, reports events a slow reader
// missed as a Lagged event, and the model reloads.
//
// Rendering is O(visible rows): tables keep a filtered and sorted index
// that is rebuilt once per change (and only when a change can move a row),
// and View draws only the rows in the window. The log pane keeps a ring of
// the last Options.LogLines lines and says how many earlier lines it
// dropped; it never drops lines in the middle.
package tui
