// Package activity tells background work (backups, restores) whether the
// server is serving foreground requests, so that work beyond its first
// worker can step aside while clients wait for answers and use the whole
// machine between their requests.
package activity

import "sync/atomic"

// Tracker counts foreground requests in flight. The zero value is ready; a
// nil *Tracker never serves any.
type Tracker struct {
	inFlight atomic.Int64
}

// Begin records that a foreground request started; call the returned
// function when it ends.
func (t *Tracker) Begin() (end func()) {
	if t == nil {
		return func() {}
	}
	t.inFlight.Add(1)
	return func() { t.inFlight.Add(-1) }
}

// Serving reports whether a foreground request is in flight right now.
func (t *Tracker) Serving() bool { return t != nil && t.inFlight.Load() > 0 }
