package backup

import (
	"maps"
	"slices"
	"sync/atomic"
	"time"
)

// Progress is how far a job's transfer got: bytes and files moved of
// those it moves, per class, and, for a cluster job, per node. A backup
// counts the bytes of the files it reads (before compression), a restore
// the bytes of the chunks it downloads (as stored).
type Progress struct {
	BytesDone, BytesTotal int64
	FilesDone, FilesTotal int64
	// Rate is the bytes per second since the transfer began; ETA the time
	// left at that rate (0 when unknown or done).
	Rate    float64
	ETA     time.Duration
	Classes map[string]*Progress `json:",omitempty"`
	Nodes   map[string]*Progress `json:",omitempty"`
}

// progress counts a transfer as it runs. Its totals are fixed when the
// transfer is planned; the counters only grow.
type progress struct {
	start   time.Time
	classes map[string]*classCounter
}

type classCounter struct {
	bytesTotal, filesTotal int64
	bytesDone, filesDone   atomic.Int64
}

// newProgress starts counting a transfer whose size per class is total.
func newProgress(total map[string]*classCounter) *progress {
	return &progress{start: time.Now(), classes: total}
}

// plan adds a class's files to a transfer's totals (before it starts).
func plan(total map[string]*classCounter, class string, bytes, files int64) {
	c := total[class]
	if c == nil {
		c = &classCounter{}
		total[class] = c
	}
	c.bytesTotal += bytes
	c.filesTotal += files
}

// bytes records n bytes of class moved.
func (p *progress) bytes(class string, n int64) {
	if p == nil {
		return
	}
	if c := p.classes[class]; c != nil {
		c.bytesDone.Add(n)
	}
}

// files records n files of class moved.
func (p *progress) files(class string, n int64) {
	if p == nil {
		return
	}
	if c := p.classes[class]; c != nil {
		c.filesDone.Add(n)
	}
}

// snapshot renders the counters; ended stops the clock for the ETA.
func (p *progress) snapshot(ended bool) *Progress {
	if p == nil {
		return nil
	}
	out := &Progress{Classes: map[string]*Progress{}}
	for _, name := range slices.Sorted(maps.Keys(p.classes)) {
		c := p.classes[name]
		cp := &Progress{BytesDone: c.bytesDone.Load(), BytesTotal: c.bytesTotal, FilesDone: c.filesDone.Load(), FilesTotal: c.filesTotal}
		cp.rate(time.Since(p.start), ended)
		out.Classes[name] = cp
		out.add(cp)
	}
	out.rate(time.Since(p.start), ended)
	return out
}

// add adds o's counts to p's.
func (p *Progress) add(o *Progress) {
	p.BytesDone += o.BytesDone
	p.BytesTotal += o.BytesTotal
	p.FilesDone += o.FilesDone
	p.FilesTotal += o.FilesTotal
}

// rate sets the rate over elapsed and the time left at it.
func (p *Progress) rate(elapsed time.Duration, ended bool) {
	p.Rate, p.ETA = 0, 0
	if elapsed > 0 {
		p.Rate = float64(p.BytesDone) / elapsed.Seconds()
	}
	if left := p.BytesTotal - p.BytesDone; !ended && left > 0 && p.Rate > 0 {
		p.ETA = time.Duration(float64(left) / p.Rate * float64(time.Second))
	}
}

// MergeNodes is the progress of a cluster job: each node's, summed, with
// the classes merged and the rate over elapsed.
func MergeNodes(nodes map[string]*Progress, elapsed time.Duration, ended bool) *Progress {
	if len(nodes) == 0 {
		return nil
	}
	out := &Progress{Classes: map[string]*Progress{}, Nodes: map[string]*Progress{}}
	for _, name := range slices.Sorted(maps.Keys(nodes)) {
		n := nodes[name]
		if n == nil {
			continue
		}
		out.Nodes[name] = n
		out.add(n)
		for class, cp := range n.Classes {
			sum := out.Classes[class]
			if sum == nil {
				sum = &Progress{}
				out.Classes[class] = sum
			}
			sum.add(cp)
		}
	}
	out.rate(elapsed, ended)
	for _, cp := range out.Classes {
		cp.rate(elapsed, ended)
	}
	return out
}
