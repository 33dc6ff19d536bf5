package postgres

import (
	"context"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

// closeOnInterrupt closes db when SIGINT or SIGTERM arrives, then lets the
// signal take its default course (the process exits as it would have). The
// returned function stops watching.
func closeOnInterrupt(db *Database) (unwatch func()) {
	ch := make(chan os.Signal, 1)
	done := make(chan struct{})
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		select {
		case sig := <-ch:
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_ = db.Close(ctx)
			signal.Stop(ch)
			// With our handler gone, re-sending the signal ends the process
			// the way it would have ended without us (unless someone else
			// handles it too).
			if p, err := os.FindProcess(os.Getpid()); err == nil {
				_ = p.Signal(sig)
			}
		case <-done:
			signal.Stop(ch)
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(done) }) }
}
