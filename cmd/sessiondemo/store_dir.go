package main

import (
	"context"
	"time"

	"github.com/ctxsession/sessions"
	"github.com/ctxsession/sessions/filestore"
)

// openDir opens a filestore under dir and removes its expired files every
// ten minutes until the returned function is called.
func openDir(dir string) (sessions.Store, string, func(), error) {
	s, err := filestore.New(dir)
	if err != nil {
		return nil, "", nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(10 * time.Minute)
		defer t.Stop()
		for {
			s.Cleanup(ctx)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return s, "in files under " + s.Dir(), func() { cancel(); <-done }, nil
}
