package rest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Server limits. Requests are small and answered from memory, so the
// timeouts are generous for slow clients yet bound idle and stuck ones.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second // a whole request, body included (≤ 1 MiB)
	writeTimeout      = 60 * time.Second // leaves room for Extra handlers such as /metrics
	idleTimeout       = 2 * time.Minute
	maxHeaderBytes    = 64 << 10
	// shutdownGrace is how long in-flight requests may finish once ctx is
	// done; after it the remaining connections are closed.
	shutdownGrace = 5 * time.Second
)

// Serve serves h on ln until ctx is done, then stops accepting, lets the
// requests in flight finish for a few seconds and returns. It returns nil
// after a graceful stop, and an error when serving fails or the grace
// period ran out. It closes ln. A nil log discards the server's own
// messages.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("rest server listening", slog.String("addr", ln.Addr().String()))

	select {
	case err := <-errc:
		return fmt.Errorf("rest: serve on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	err := srv.Shutdown(sctx)
	if err != nil {
		_ = srv.Close()
		err = fmt.Errorf("rest: graceful shutdown: %w", err)
	}
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = fmt.Errorf("rest: serve on %s: %w", ln.Addr(), serr)
	}
	log.Info("rest server stopped", slog.String("addr", ln.Addr().String()))
	return err
}
