package backup

import (
	"io"
	"runtime"
)

// Backup and restore goroutines hand their processor back to the Go
// scheduler after every block they move, so a request that becomes runnable
// waits at most for one block of compression, not for a whole time slice.
// (OS-level priority, see lowerPriority, cannot help while every Go
// processor is busy with background work.)

type yieldingWriter struct{ w io.Writer }

func (y yieldingWriter) Write(p []byte) (int, error) {
	n, err := y.w.Write(p)
	runtime.Gosched()
	return n, err
}

type yieldingReader struct{ r io.Reader }

func (y yieldingReader) Read(p []byte) (int, error) {
	n, err := y.r.Read(p)
	runtime.Gosched()
	return n, err
}
