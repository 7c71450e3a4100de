package backup

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// backgroundNice is the CPU niceness of backup and restore threads: they
// use idle CPU freely but yield to request handling under contention.
const backgroundNice = 10

// lowerPriority pins the calling goroutine to its OS thread and lowers that
// thread's CPU priority. The goroutine must exit without unlocking: the Go
// runtime then ends the thread, so no other goroutine ever runs on it.
func lowerPriority() {
	runtime.LockOSThread()
	_ = unix.Setpriority(unix.PRIO_PROCESS, unix.Gettid(), backgroundNice)
}
