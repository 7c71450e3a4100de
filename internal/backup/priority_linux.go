package backup

import (
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// lowerPriority pins the calling goroutine to its OS thread and makes that
// thread a background thread: SCHED_IDLE (it runs only when a CPU would
// otherwise idle, and any request thread preempts it at once), or niceness
// 19 where SCHED_IDLE is refused. The goroutine must exit without
// unlocking: the Go runtime then ends the thread, so no other goroutine
// ever runs on it.
func lowerPriority() {
	runtime.LockOSThread()
	attr := unix.SchedAttr{Size: uint32(unsafe.Sizeof(unix.SchedAttr{})), Policy: unix.SCHED_IDLE}
	if err := unix.SchedSetAttr(0, &attr, 0); err != nil {
		_ = unix.Setpriority(unix.PRIO_PROCESS, unix.Gettid(), 19)
	}
}
