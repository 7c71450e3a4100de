// Package activity tells background work (backups, restores) whether the
// server is serving foreground requests, so that work beyond its first
// worker can step aside while clients wait for answers and use the whole
// machine when nobody does.
package activity

import (
	"sync/atomic"
	"time"
)

// Tracker counts foreground requests. The zero value is ready; a nil
// *Tracker is never busy.
type Tracker struct {
	inFlight atomic.Int64
	last     atomic.Int64 // UnixNano when a request last began or ended
}

// Begin records that a foreground request started; call the returned
// function when it ends.
func (t *Tracker) Begin() (end func()) {
	if t == nil {
		return func() {}
	}
	t.inFlight.Add(1)
	t.last.Store(time.Now().UnixNano())
	return func() {
		t.last.Store(time.Now().UnixNano())
		t.inFlight.Add(-1)
	}
}

// Busy reports whether a foreground request is in flight or one ended less
// than quiet ago.
func (t *Tracker) Busy(quiet time.Duration) bool {
	if t == nil {
		return false
	}
	return t.inFlight.Load() > 0 || time.Since(time.Unix(0, t.last.Load())) < quiet
}

// Quiet is how long after the last foreground request the server counts as
// idle: longer than the gap between one client's back-to-back requests.
const Quiet = 50 * time.Millisecond
