package client_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/client"
	"github.com/alohasched/aloha/daemon/config"
	"github.com/alohasched/aloha/daemon/server"
)

// Submit an application, wait for it to end and read its output. The
// example starts a one-worker cluster in the process so that it runs on
// its own; against a real cluster, only the client part is needed.
func Example() {
	dir, _ := os.MkdirTemp("", "aloha-example-")
	defer os.RemoveAll(dir)
	conf := config.Defaults()
	conf.Set(config.MasterPort, "0", "example")
	conf.Set(config.MasterRESTEnabled, "false", "example")
	cluster, err := server.NewLocal(conf, server.LocalOptions{Workers: 1, Cores: 1, Memory: 512, WorkDir: dir},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cluster.Run(ctx) }()
	defer func() { stop(); <-done }()

	// The client part: give it every master; it finds the leader.
	c, err := client.New(client.Config{Masters: []string{cluster.Master.URL()}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	id, err := c.Submit(cctx, api.AppSpec{Name: "greet", EntryPoint: "shell", Args: "echo hello from $ALOHA_APP_NAME", Memory: 64})
	if err != nil {
		fmt.Println(err)
		return
	}
	var out bytes.Buffer
	if err := c.Logs(cctx, id, client.LogOptions{Follow: true}, &out); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(out.String())
	for {
		info, err := c.Status(cctx, id)
		if err != nil {
			fmt.Println(err)
			return
		}
		if info.State.IsFinal() {
			fmt.Println(info.State, *info.ExitCode)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Output:
	// hello from greet
	// FINISHED 0
}
