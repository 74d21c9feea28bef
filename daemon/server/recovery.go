package server

import (
	"fmt"
	"log/slog"
	"os"
	"syscall"

	"github.com/alohasched/aloha/daemon/config"
	"github.com/alohasched/aloha/daemon/recovery"
	"github.com/alohasched/aloha/daemon/recovery/fsrecovery"
	"github.com/alohasched/aloha/daemon/recovery/zkrecovery"
)

// recoveryParts is what aloha.deploy.recoveryMode gives a master: a store
// and an elector (both nil in mode NONE), and how to release them.
type recoveryParts struct {
	store   recovery.Store
	elector recovery.Elector
	close   func()
}

// openRecovery builds the store and the elector of the configured
// recovery mode for the master at url.
func openRecovery(conf *config.Conf, url string, log *slog.Logger) (*recoveryParts, error) {
	switch mode := conf.String(config.RecoveryMode); mode {
	case config.RecoveryNone:
		return &recoveryParts{close: func() {}}, nil
	case config.RecoveryFilesystem:
		dir := conf.String(config.RecoveryDirectory)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("recovery: %s %s: %w", config.RecoveryDirectory, dir, err)
		}
		if err := checkPrivate(dir); err != nil {
			return nil, fmt.Errorf("recovery: %s %s: %w", config.RecoveryDirectory, dir, err)
		}
		store, err := fsrecovery.OpenStore(dir, log)
		if err != nil {
			return nil, fmt.Errorf("recovery: %w", err)
		}
		el, err := fsrecovery.NewElector(dir, url, log, fsrecovery.ElectorOptions{})
		if err != nil {
			store.Close()
			return nil, fmt.Errorf("recovery: %w", err)
		}
		return &recoveryParts{store: store, elector: el, close: func() { el.Close(); store.Close() }}, nil
	case config.RecoveryZooKeeper:
		servers := zkrecovery.SplitServers(conf.String(config.ZooKeeperURL))
		client, err := zkrecovery.Connect(servers, conf.Duration(config.ZooKeeperSessionTimeout), log)
		if err != nil {
			return nil, fmt.Errorf("recovery: %s %s: %w", config.ZooKeeperURL, conf.String(config.ZooKeeperURL), err)
		}
		dir := conf.String(config.ZooKeeperDir)
		store, err := client.Store(dir)
		if err != nil {
			client.Close()
			return nil, fmt.Errorf("recovery: %w", err)
		}
		el, err := client.Elector(dir, url)
		if err != nil {
			client.Close()
			return nil, fmt.Errorf("recovery: %w", err)
		}
		return &recoveryParts{store: store, elector: el, close: client.Close}, nil
	default:
		return nil, fmt.Errorf("recovery: unknown %s %q", config.RecoveryMode, mode)
	}
}

// checkPrivate refuses a recovery directory another user could write to:
// whoever writes its log decides what the workers run (the default is
// under /tmp, where anyone may create it first).
func checkPrivate(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if ok && int(st.Uid) != os.Getuid() {
		return fmt.Errorf("owned by uid %d, not by this daemon's uid %d; another user could write what the workers run", st.Uid, os.Getuid())
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("writable by group or others (mode %04o); another user could write what the workers run: chmod 700 it", fi.Mode().Perm())
	}
	return nil
}
