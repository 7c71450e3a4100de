// Package failpoint marks the points in the code where tests interrupt the
// server: a crash test names one in STRATA_TEST_CRASH_AT and the process
// kills itself (SIGKILL, nothing flushed) when it gets there; a test that
// needs time at a point names it in STRATA_TEST_PAUSE_AT ("point:10s") and
// the process waits there; an in-process test sets a hook that runs there.
// Unset, a point costs two string compares.
package failpoint

import (
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// CrashEnv names the point at which the process kills itself; PauseEnv
// the point at which it waits, and how long ("point:duration").
const (
	CrashEnv = "STRATA_TEST_CRASH_AT"
	PauseEnv = "STRATA_TEST_PAUSE_AT"
)

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
	// BackupUpload: a one-node backup has its snapshot and is about to
	// upload it.
	BackupUpload = "backup-upload"
	// BackupPartUpload: this node's part of a cluster backup is committed
	// and about to upload its shards.
	BackupPartUpload = "backup-part-upload"
	// RestorePartDownload: this node's part of a cluster restore is
	// reserved and about to download its shards.
	RestorePartDownload = "restore-part-download"
)

var (
	crashAt = sync.OnceValue(func() string { return os.Getenv(CrashEnv) })
	pauseAt = sync.OnceValues(func() (string, time.Duration) {
		point, d, _ := strings.Cut(os.Getenv(PauseEnv), ":")
		pause, err := time.ParseDuration(d)
		if err != nil {
			return "", 0
		}
		return point, pause
	})
	hook atomic.Pointer[func(point string)]
)

// Reach marks that the code is at point: the hook runs, the process waits
// if PauseEnv names point, and it is killed if CrashEnv does.
func Reach(point string) {
	if h := hook.Load(); h != nil {
		(*h)(point)
	}
	if at, pause := pauseAt(); at == point {
		time.Sleep(pause)
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
