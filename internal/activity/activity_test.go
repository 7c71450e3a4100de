package activity

import "testing"

func TestTracker(t *testing.T) {
	var nilTracker *Tracker
	nilTracker.Begin()()
	if nilTracker.Serving() {
		t.Fatal("a nil tracker is serving")
	}
	tr := &Tracker{}
	if tr.Serving() {
		t.Fatal("a new tracker is serving")
	}
	end1, end2 := tr.Begin(), tr.Begin()
	if !tr.Serving() {
		t.Fatal("not serving with requests in flight")
	}
	end1()
	if !tr.Serving() {
		t.Fatal("not serving with one request still in flight")
	}
	end2()
	if tr.Serving() {
		t.Fatal("serving after every request ended")
	}
}
