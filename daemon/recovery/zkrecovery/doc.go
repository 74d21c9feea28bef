// Package zkrecovery is recovery mode ZOOKEEPER: the Store and the
// Elector of package recovery on a ZooKeeper ensemble shared by the
// masters.
//
// A master opens one Client (one ZooKeeper session) and takes both from
// it, so that the store knows which term the elector holds:
//
//	c, err := zkrecovery.Connect(zkrecovery.SplitServers(url), 10*time.Second, log)
//	store, err := c.Store("/aloha")
//	elector, err := c.Elector("/aloha", "aloha://10.0.0.1:7077")
//	defer c.Close() // closes the elector (resigning), then the session
//
// # Layout under the directory (aloha.deploy.zookeeper.dir)
//
//	<dir>/election/n_<rand>_<seq>   one EPHEMERAL|SEQUENTIAL node per candidate,
//	                                holding its aloha:// URL
//	<dir>/state/apps/<id>           an api.AppInfo, msgpack
//	<dir>/state/workers/<id>        an api.WorkerInfo, msgpack
//
// Ids are path-escaped to be node names. <rand> is new for every node a
// candidate creates: if the reply to a create is lost with the
// connection, the candidate finds (and removes) the node it may have
// made by that prefix, instead of queueing behind a ghost of itself.
//
// # Election
//
// The classic recipe: the candidate with the lowest sequence number
// leads; every other candidate watches only the candidate just before it
// (no herd when the leader leaves). Leader reports the URL in the lowest
// node, kept current by a watch from the Elector's creation to its Close.
//
// The epoch of a term is recorded in <dir>/epoch by the winner, in the
// same transaction as a check that its election node still exists: the
// largest of the last recorded epoch + 1, its node's sequence number + 1
// and the clock in milliseconds. Recording makes epochs strictly increase
// across terms; the clock keeps them above the epochs workers saw from a
// master without recovery (mode NONE numbers terms by the clock) or from
// an election directory deleted and recreated, whose counter restarts.
//
// # Losing the term
//
// Losing the session (expired) means losing leadership at once: Lost is
// closed from the ZooKeeper client's own event, before anything else
// runs. So is a disconnection: a disconnected leader cannot know whether
// its session still lives, and a standby takes over as soon as it has
// expired, so waiting to find out could make two masters act at once.
// The price is a spurious step-down on a network blip shorter than the
// session timeout, which costs a recovery but never a double leader.
// Our node is deleted then (once connected again, if the session
// survived), and the next Campaign creates a fresh one, so the next term
// has a larger epoch.
//
// # Fencing
//
// While the Client's elector holds a term, every multi a Commit sends
// starts with a check that the term's election node still exists. A
// deposed leader (frozen past its session timeout, say) whose write
// reaches ZooKeeper late, perhaps on the fresh session the client library
// opens by itself, fails that check, and nothing of its write is applied.
// A Client with an elector and no term refuses to commit at all
// (ErrNotLeader); a Client without an elector writes unfenced (tools,
// tests).
//
// # Locks
//
// Elector.mu and Store.mu may take Client.mu; Client.mu is taken alone.
// No ZooKeeper request is made while Client.mu or Elector.mu is held: the
// client library's event callback takes them.
package zkrecovery
