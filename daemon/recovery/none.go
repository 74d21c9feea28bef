package recovery

import (
	"context"
	"sync"
	"time"
)

// Single is the elector of recovery mode NONE: one master, always the
// leader. Its epoch comes from the clock in milliseconds, so a restarted
// master still starts a later term than the one workers saw.
type Single struct {
	URL string

	mu   sync.Mutex
	last uint64
}

// Campaign returns at once with a new term.
func (s *Single) Campaign(ctx context.Context) (*Term, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	epoch := max(uint64(time.Now().UnixMilli()), s.last+1)
	s.last = epoch
	lost := make(chan struct{})
	var once sync.Once
	return &Term{Epoch: epoch, Lost: lost, Resign: func() { once.Do(func() { close(lost) }) }}, nil
}

// Leader is this master.
func (s *Single) Leader() string { return s.URL }

// Close does nothing.
func (s *Single) Close() error { return nil }
