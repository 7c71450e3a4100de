package activity

import (
	"testing"
	"time"
)

func TestTracker(t *testing.T) {
	var nilTracker *Tracker
	nilTracker.Begin()()
	if nilTracker.Busy(time.Hour) {
		t.Fatal("a nil tracker is busy")
	}
	tr := &Tracker{}
	if tr.Busy(Quiet) {
		t.Fatal("a new tracker is busy")
	}
	end := tr.Begin()
	time.Sleep(2 * time.Millisecond)
	if !tr.Busy(time.Millisecond) {
		t.Fatal("not busy with a request in flight")
	}
	end()
	if !tr.Busy(time.Hour) {
		t.Fatal("not busy right after a request ended")
	}
	time.Sleep(5 * time.Millisecond)
	if tr.Busy(time.Millisecond) {
		t.Fatal("still busy after the quiet period")
	}
}
