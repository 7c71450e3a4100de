// Package jobs holds the replicated records of a cluster's backup and
// restore jobs: the part of the raft state machine that says, on every
// node alike, which jobs exist, who coordinates each, how far each
// participant got and how each ended. The coordinator (on the raft leader)
// writes it through the log; status on any node reads it.
//
// Applying a command is deterministic: every time it needs comes in the
// command, and every rule (one running job of a kind, no status going
// back, nothing after a terminal status) is checked here, so every node
// refuses or applies a command alike.
package jobs

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"strata/internal/backup"
)

// Kind tells backups from restores.
type Kind string

// Kinds.
const (
	KindBackup  Kind = "backup"
	KindRestore Kind = "restore"
)

// Job is one backup or restore of the cluster.
type Job struct {
	ID      string   `json:"id"`
	Kind    Kind     `json:"kind"`
	Backend string   `json:"backend"`
	Bucket  string   `json:"bucket,omitempty"`
	Path    string   `json:"path,omitempty"`
	Classes []string `json:"classes"`
	// Coordinator is the node that runs the job's protocol, and Epoch the
	// log index at which it took the job: a coordinator acts only while
	// the record still names it with its epoch.
	Coordinator string `json:"coordinator"`
	Epoch       uint64 `json:"epoch"`

	Status      backup.Status         `json:"status"`
	Error       string                `json:"error,omitempty"`
	Nodes       map[string]*NodeState `json:"nodes"`
	StartedAt   time.Time             `json:"startedAt"`
	CompletedAt time.Time             `json:"completedAt,omitzero"`
	// Deadline is when the job fails if it has not ended.
	Deadline time.Time `json:"deadline"`
	// Committed is set once every node accepted the job and its
	// descriptor may be in the backend. A job that ended before was
	// refused, and its id may be used again.
	Committed bool `json:"committed,omitempty"`
	// Request holds what participants need beyond the above (compression,
	// CPU share, node mapping), opaque here.
	Request json.RawMessage `json:"request,omitempty"`
}

// NodeState is one participant's part of a job.
type NodeState struct {
	Status backup.Status `json:"status"`
	Error  string        `json:"error,omitempty"`
	Bytes  int64         `json:"bytes,omitempty"`
	// Progress is the part's transfer as last reported (at most once a
	// second).
	Progress *backup.Progress `json:"progress,omitempty"`
}

// Terminal tells whether the job has ended.
func (j *Job) Terminal() bool { return j.Status.Terminal() }

func (j *Job) clone() *Job {
	c := *j
	c.Classes = slices.Clone(j.Classes)
	c.Request = slices.Clone(j.Request)
	c.Nodes = make(map[string]*NodeState, len(j.Nodes))
	for n, s := range j.Nodes {
		s := *s
		c.Nodes[n] = &s
	}
	return &c
}

// progress orders the statuses a job or a participant moves through;
// terminal statuses are last and equal.
func progress(s backup.Status) int {
	switch s {
	case backup.StatusStarted:
		return 1
	case backup.StatusTransferring:
		return 2
	case backup.StatusTransferred:
		return 3
	case backup.StatusFinalizing:
		return 4
	case backup.StatusCancelling:
		return 5
	case backup.StatusSuccess, backup.StatusFailed, backup.StatusCanceled:
		return 6
	}
	return 0
}

// Op is a command's operation.
type Op string

// Operations.
const (
	// OpStart records a new job; refused while a job of the same kind is
	// not terminal, or when the id is taken by a job of that kind.
	OpStart Op = "start"
	// OpNode records a participant's progress (never backwards).
	OpNode Op = "node"
	// OpStatus moves the job on (never backwards); a terminal status sets
	// CompletedAt and ends the job.
	OpStatus Op = "status"
	// OpCancel asks for a running job to stop: CANCELLING, then the
	// coordinator aborts the participants and records CANCELED.
	OpCancel Op = "cancel"
	// OpCommit records that every node accepted the job: from here on it
	// is a backup (its descriptor is written next), and its id is taken.
	OpCommit Op = "commit"
	// OpTakeOver makes Node the coordinator of a job that is not terminal,
	// with the command's log index as its epoch.
	OpTakeOver Op = "takeover"
)

// Command is one change to the table.
type Command struct {
	Op     Op            `json:"op"`
	Kind   Kind          `json:"kind"`
	ID     string        `json:"id"`
	Job    *Job          `json:"job,omitempty"`    // start
	Node   string        `json:"node,omitempty"`   // node, takeover
	State  *NodeState    `json:"state,omitempty"`  // node
	Status backup.Status `json:"status,omitempty"` // status
	Error  string        `json:"error,omitempty"`  // status, cancel
	At     time.Time     `json:"at,omitzero"`      // status: when it ended
	// Epoch, when set, makes the command apply only while the job's
	// coordinator epoch is still this one (a deposed coordinator's late
	// writes are dropped).
	Epoch uint64 `json:"epoch,omitempty"`
}

// Result is what applying a command returns to its proposer.
type Result struct {
	Error string `json:"error,omitempty"`
	// Invalid marks a refusal the client caused (422), as opposed to a
	// command that lost a race (a stale epoch).
	Invalid bool   `json:"invalid,omitempty"`
	Epoch   uint64 `json:"epoch,omitempty"` // start, takeover: the new epoch
	// Previous is the coordinator a takeover replaced ("" for none).
	Previous string `json:"previous,omitempty"`
}

// Err is the result as an error (nil when the command applied).
func (r Result) Err() error {
	if r.Error == "" {
		return nil
	}
	if r.Invalid {
		return &InvalidError{Msg: r.Error}
	}
	return errors.New(r.Error)
}

// InvalidError is a command refused because of the request itself.
type InvalidError struct{ Msg string }

func (e *InvalidError) Error() string { return e.Msg }

// keep is how many ended jobs of each kind the table remembers; older ones
// are read from their backend.
const keep = 256

// Table is the replicated job table. Safe for concurrent use.
type Table struct {
	mu   sync.RWMutex
	jobs map[Kind]map[string]*Job
	// changed is closed and replaced at every applied command.
	changed chan struct{}
}

// NewTable returns an empty table.
func NewTable() *Table {
	return &Table{jobs: map[Kind]map[string]*Job{KindBackup: {}, KindRestore: {}}, changed: make(chan struct{})}
}

// Apply applies one command (the raft state machine's call) at log index.
func (t *Table) Apply(index uint64, cmd []byte) []byte {
	var c Command
	res := Result{}
	if err := json.Unmarshal(cmd, &c); err != nil {
		res = Result{Error: "undecodable job command: " + err.Error()}
	} else {
		t.mu.Lock()
		res = t.apply(index, &c)
		close(t.changed)
		t.changed = make(chan struct{})
		t.mu.Unlock()
	}
	out, _ := json.Marshal(res)
	return out
}

func (t *Table) apply(index uint64, c *Command) Result {
	byID, ok := t.jobs[c.Kind]
	if !ok {
		return Result{Error: fmt.Sprintf("unknown job kind %q", c.Kind)}
	}
	if c.Op == OpStart {
		return t.start(index, byID, c)
	}
	j := byID[c.ID]
	if j == nil {
		return Result{Error: fmt.Sprintf("%s %s: no such job", c.Kind, c.ID), Invalid: true}
	}
	if c.Epoch != 0 && c.Epoch != j.Epoch {
		return Result{Error: fmt.Sprintf("%s %s: coordinator epoch %d is over (now %d on %s)", c.Kind, c.ID, c.Epoch, j.Epoch, j.Coordinator)}
	}
	if j.Terminal() {
		return Result{Error: fmt.Sprintf("%s %s has ended: %s", c.Kind, c.ID, j.Status), Invalid: true}
	}
	switch c.Op {
	case OpNode:
		n := j.Nodes[c.Node]
		if n == nil || c.State == nil {
			return Result{Error: fmt.Sprintf("%s %s: node %q takes no part", c.Kind, c.ID, c.Node)}
		}
		if progress(c.State.Status) >= progress(n.Status) && !n.Status.Terminal() {
			*n = *c.State
		}
	case OpStatus:
		if progress(c.Status) < progress(j.Status) {
			return Result{}
		}
		if j.Status == backup.StatusCancelling && c.Status == backup.StatusSuccess {
			// A cancel asked for before the end wins over a late success.
			c.Status, c.Error = backup.StatusCanceled, "backup canceled"
		}
		j.Status = c.Status
		if progress(j.Status) >= progress(backup.StatusTransferring) && !j.Terminal() {
			j.Committed = true
		}
		if c.Error != "" {
			j.Error = c.Error
		}
		if j.Terminal() {
			j.CompletedAt = c.At
			t.trim(byID)
		}
	case OpCancel:
		if j.Status != backup.StatusCancelling {
			j.Status = backup.StatusCancelling
			j.Error = c.Error
		}
	case OpCommit:
		j.Committed = true
	case OpTakeOver:
		previous := j.Coordinator
		j.Coordinator, j.Epoch = c.Node, index
		return Result{Epoch: index, Previous: previous}
	default:
		return Result{Error: fmt.Sprintf("unknown job operation %q", c.Op)}
	}
	return Result{}
}

func (t *Table) start(index uint64, byID map[string]*Job, c *Command) Result {
	if c.Job == nil || c.Job.ID == "" || c.Job.Kind != c.Kind {
		return Result{Error: "start: no job"}
	}
	for _, j := range byID {
		if j.Terminal() {
			continue
		}
		if c.Kind == KindRestore {
			return Result{Error: fmt.Sprintf("restoration %s already in progress", j.ID), Invalid: true}
		}
		return Result{Error: fmt.Sprintf("backup %s already in progress", j.ID), Invalid: true}
	}
	if old := byID[c.Job.ID]; old != nil && c.Kind == KindBackup && old.Committed && old.Status != backup.StatusCanceled {
		return Result{Error: fmt.Sprintf("backup %q already exists", c.Job.ID), Invalid: true}
	}
	j := c.Job.clone()
	j.Epoch = index
	byID[j.ID] = j
	return Result{Epoch: index}
}

// trim forgets the oldest ended jobs beyond keep.
func (t *Table) trim(byID map[string]*Job) {
	var ended []*Job
	for _, j := range byID {
		if j.Terminal() {
			ended = append(ended, j)
		}
	}
	if len(ended) <= keep {
		return
	}
	sort.Slice(ended, func(a, b int) bool { return ended[a].CompletedAt.Before(ended[b].CompletedAt) })
	for _, j := range ended[:len(ended)-keep] {
		delete(byID, j.ID)
	}
}

// Get returns a copy of a job, if the table has it.
func (t *Table) Get(kind Kind, id string) (*Job, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	j := t.jobs[kind][id]
	if j == nil {
		return nil, false
	}
	return j.clone(), true
}

// Running returns copies of the jobs that have not ended, oldest first.
func (t *Table) Running() []*Job {
	t.mu.RLock()
	defer t.mu.RUnlock()
	var out []*Job
	for _, byID := range t.jobs {
		for _, j := range byID {
			if !j.Terminal() {
				out = append(out, j.clone())
			}
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Epoch < out[b].Epoch })
	return out
}

// Changed returns a channel closed at the next applied command.
func (t *Table) Changed() <-chan struct{} {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.changed
}

// snapshot is the table as a raft snapshot holds it.
type snapshot struct {
	Jobs []*Job `json:"jobs"`
}

// MarshalJSON renders the table for a raft snapshot.
func (t *Table) MarshalJSON() ([]byte, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	var s snapshot
	for _, byID := range t.jobs {
		for _, j := range byID {
			s.Jobs = append(s.Jobs, j)
		}
	}
	sort.Slice(s.Jobs, func(a, b int) bool { return s.Jobs[a].Epoch < s.Jobs[b].Epoch })
	return json.Marshal(s)
}

// UnmarshalJSON replaces the table with a snapshot's.
func (t *Table) UnmarshalJSON(b []byte) error {
	var s snapshot
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.changed == nil {
		t.changed = make(chan struct{})
	}
	t.jobs = map[Kind]map[string]*Job{KindBackup: {}, KindRestore: {}}
	for _, j := range s.Jobs {
		if byID, ok := t.jobs[j.Kind]; ok {
			byID[j.ID] = j
		}
	}
	close(t.changed)
	t.changed = make(chan struct{})
	return nil
}
