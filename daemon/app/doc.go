// Package app runs applications on a worker: the pluggable application
// kinds of DESIGN §3 and the process runner they share.
//
// A worker keeps a Registry of kinds, looks up each launch's
// spec.EntryPoint there and calls Start:
//
//	reg := app.NewRegistry() // shell, exec, me.jrwang.app.SimpleProcess
//	reg.AddTemplate("spark", "spark-submit --name {name} --total-executor-cores {cores} {args}")
//	kind, ok := reg.Lookup(spec.EntryPoint)
//	run, err := kind.Start(ctx, &app.Launch{AppID: id, Spec: spec, Dir: dir, Env: env, KillTimeout: grace})
//	...
//	<-run.Done()
//	exit := run.Exit()
//
// Programs that embed the worker add kinds with Register, either a Kind
// of their own or a process kind built by CommandKind.
//
// # Processes
//
// Every process kind runs its command in its own process group, in the
// app directory, with exactly Launch.Env and stdin from /dev/null; stdout
// and stderr are appended to files of those names in the app directory,
// stderr starting with a "Launch command:" header. Shutdown sends SIGTERM
// to the group and SIGKILL after Launch.KillTimeout; when the leader ends,
// whatever is left of its group is killed, so no process outlives its
// application (a process that leaves the group with setsid or setpgid is
// beyond reach, as it is for any process-group based supervisor).
//
// # Worker restarts
//
// The group leader is a small shell wrapper around the command. It
// records the exit status in the app directory, and the runner records
// the leader's pid and start time next to it, so that a worker killed and
// restarted on the same directory can Reattach: find the application
// still running, watch it although it is not its parent, stop it, and
// learn its real exit status when it ends, even if it ended while no
// worker was running.
package app
