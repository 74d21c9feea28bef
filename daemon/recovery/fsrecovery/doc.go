// Package fsrecovery is recovery mode FILESYSTEM: the masters share one
// directory (aloha.deploy.recoveryDirectory) that holds both the state a
// new leader reads (Store) and the election among the masters (Elector).
//
// # Files
//
// These are the package's files in the directory; it touches no other.
//
//	wal-<seq>.log       store: a log segment, records back to back
//	snapshot-<seq>      store: the whole state after every segment below seq
//	snapshot-<seq>.tmp  store: a snapshot being written; removed if left over
//	lock                election: the file the masters flock
//	epoch               election: the epoch of the latest term, in decimal
//	leader              election: JSON {"url": "aloha://…", "epoch": n}
//	epoch.tmp, leader.tmp  election: being written; overwritten if left over
//
// # Store: a write-ahead log with snapshots
//
// A Commit appends one record to the open log segment and fdatasyncs it
// before returning, so an acknowledged change survives any crash after
// the answer, at the cost of one append and one sync per Commit however
// many changes the master grouped into it. Writing one file per object
// instead would cost a file creation (0.3–1 ms here) per change.
//
// <seq> is 16 lower-case hex digits. Files of every kind share one
// sequence, so each file has its own number and every name sorts in
// numeric order. A record, and a snapshot (one record alone in its file),
// is
//
//	[4 bytes] payload length, big-endian, at least 1
//	[4 bytes] CRC-32C (Castagnoli) of the payload, big-endian
//	[length bytes] payload: msgpack(recovery.Batch)
//
// A snapshot is a Batch that puts every application and worker of the
// state. Records are idempotent upserts and deletes, replayed in file and
// offset order.
//
// Load reads the newest snapshot, then replays every segment numbered
// above it in order. A record that is cut short or fails its checksum at
// the end of the last segment is what a crash in the middle of an append
// leaves (the append was never acknowledged): replay stops there with one
// warning naming the file and offset. Anything else — a bad record with a
// valid one after it, a bad record in an earlier segment, an unreadable
// snapshot — is an error naming the file and offset: acknowledged data
// is never dropped silently.
//
// Load, and the first Commit after OpenStore or a failed Commit, take the
// directory over as its writer: they cut the torn tail off the last
// segment, remove leftover temporary files and files an interrupted
// compaction left behind, and the next Commit starts a new segment. A
// writer never appends to a segment an earlier writer left, so whatever a
// crash did to that segment's tail stays cut off. Only the leader calls
// Load and Commit: the store relies on the election for a single writer,
// and OpenStore touches nothing, since a standby opens its store while
// the leader writes.
//
// When the log written since the last snapshot grows past both
// StoreOptions.CompactBytes (64 MiB) and the size of that snapshot, a
// Commit also writes a snapshot-<seq> (temp file, fsync, rename, fsync of
// the directory), moves on to a new segment, and only then removes the
// older segments and snapshots. A crash at any step leaves either the old
// snapshot and its segments, or the new snapshot, which makes the older
// files obsolete: Load ignores segments below the newest snapshot, so an
// old segment is never replayed over a newer snapshot. Snapshotting when
// the log outgrows the snapshot keeps its cost a constant fraction of the
// appends, however large the state.
//
// # Election: a lock file
//
// Masters sharing the directory contend for flock(2) LOCK_EX on the file
// lock, each on a descriptor of its own: flock locks belong to an open
// file description, so two electors conflict even inside one process. The
// descriptor stays open for the whole term and is close-on-exec, so no
// child process inherits the lock; the kernel releases it when the
// process dies, even by SIGKILL. The lock file is never removed, since a
// master that opened the old file and one that opens a new one would then
// both hold "the" lock.
//
// The winner, under the lock, reads the file epoch (a decimal number),
// writes back the larger of it plus one and the clock in milliseconds
// (temp file, fsync, rename, fsync of the directory) and uses that as the
// term's epoch, so epochs strictly increase across terms and processes,
// and stay above those workers saw from a master of mode NONE (which
// numbers terms by the clock) or before the directory was wiped. It then writes the file leader, JSON
// {"url": its aloha:// URL, "epoch": the epoch}, which Leader reads on the
// standbys. Resigning removes the leader record if it is still ours,
// unlocks, and then touches the lock file (a chmod to its own mode),
// because an unlock raises no inotify event.
//
// Standbys watch the directory with inotify (fsnotify): the record
// removed or the lock file touched by a resigning leader wakes them at
// once. They also retry the lock every ElectorOptions.PollInterval (250
// ms), because a leader killed with SIGKILL changes nothing on disk: the
// kernel releases its lock, which inotify cannot see. Polling also covers
// filesystems without inotify. A watch on the directory also reports
// every log append; standbys drop those by name. The leader stops
// watching while it leads (its own appends would wake it on every Commit)
// and instead checks on every poll that <dir>/lock still names the file
// it locked (same device and inode): if the lock file or the directory
// was removed or replaced, another master may lock a new file, so
// Term.Lost closes and the master must stop acting.
//
// A leader paused with SIGSTOP, or hung, keeps its lock: the kernel
// releases a lock only when its holder dies. No standby takes over a
// paused leader in this mode. FILESYSTEM mode therefore fits masters on
// one host, or on a shared filesystem with working POSIX locks;
// ZOOKEEPER, whose sessions expire, fits masters on several hosts.
//
// Epochs live in the directory: a new, empty directory starts them at 1
// again, below what running workers have seen.
package fsrecovery
