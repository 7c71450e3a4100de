// Package failpoint marks the points in the code where tests interrupt the
// server: a crash test names one in STRATA_TEST_CRASH_AT and the process
// kills itself (SIGKILL, nothing flushed) when it gets there; an in-process
// test sets a hook that runs there. Unset, a point costs one string compare.
package failpoint

import (
	"os"
	"sync"
	"sync/atomic"
)

// CrashEnv names the point at which the process kills itself.
const CrashEnv = "STRATA_TEST_CRASH_AT"

// The points.
const (
	// RestoreReserved: a restore has reserved its class names and is about to
	// move its staged shards into place.
	RestoreReserved = "restore-reserved"
	// RestoreBeforeCatalog: a restore's shards are in place and open; the
	// schema write that registers the classes comes next.
	RestoreBeforeCatalog = "restore-before-catalog"
	// RestoreAfterInstall: the restored classes are registered; the
	// restore's final status is not written yet.
	RestoreAfterInstall = "restore-after-install"
	// BackupPartUpload: this node's part of a cluster backup is committed
	// and about to upload its shards.
	BackupPartUpload = "backup-part-upload"
)

var (
	crashAt = sync.OnceValue(func() string { return os.Getenv(CrashEnv) })
	hook    atomic.Pointer[func(point string)]
)

// Reach marks that the code is at point: the hook runs, and the process is
// killed if CrashEnv names point.
func Reach(point string) {
	if h := hook.Load(); h != nil {
		(*h)(point)
	}
	if crashAt() == point {
		if p, err := os.FindProcess(os.Getpid()); err == nil {
			_ = p.Kill()
			select {} // the signal is on its way
		}
	}
}

// SetHook makes fn run at every point reached, until the returned function
// removes it. For tests.
func SetHook(fn func(point string)) (remove func()) {
	hook.Store(&fn)
	return func() { hook.Store(nil) }
}
