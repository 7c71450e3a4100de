package sharding

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"
)

func namer() func() string {
	n := 0
	return func() string { n++; return fmt.Sprintf("shard%02d", n) }
}

func TestNewSpreadsObjectsOverShardsAndNodes(t *testing.T) {
	st, err := New(3, 0, []string{"node1", "node2", "node3"}, namer())
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(st.Uppers) != 3*VirtualPerPhysical {
		t.Fatalf("%d virtual shards, want %d", len(st.Uppers), 3*VirtualPerPhysical)
	}
	nodes := map[string]bool{}
	for _, sh := range st.Shards {
		nodes[sh.Node()] = true
	}
	if len(nodes) != 3 {
		t.Fatalf("3 shards on %d nodes, want one each: %+v", len(nodes), st.Shards)
	}
	counts := make([]int, 3)
	for range 30000 {
		counts[st.ShardOf(uuid.New())]++
	}
	for i, c := range counts {
		if c < 7000 || c > 13000 { // 10,000 expected; 384 virtual shards keep it near
			t.Errorf("shard %d got %d of 30000 ids", i, c)
		}
	}
}

// ShardOf is Weaviate's lookup: the first virtual shard whose upper is at
// least the token, wrapping to the first.
func TestShardOfIsTheFirstUpperAtOrAboveTheToken(t *testing.T) {
	st := &State{Shards: []Shard{{Name: "a"}, {Name: "b"}}, Uppers: []uint64{100, 1 << 63, 1<<64 - 1000}, Owners: []int{1, 0, 1}}
	if err := st.Validate(); err != nil {
		t.Fatal(err)
	}
	for range 2000 {
		id := uuid.New()
		tok := Token(id)
		want := 1 // wraps to the first (owner 1)
		switch {
		case tok <= 100:
			want = 1
		case tok <= 1<<63:
			want = 0
		case tok <= 1<<64-1000:
			want = 1
		}
		if got := st.ShardOf(id); got != want {
			t.Fatalf("token %d: shard %d, want %d", tok, got, want)
		}
	}
}

func TestDescriptorRoundTripKeepsEveryObjectInItsShard(t *testing.T) {
	st, err := New(4, 0, []string{"node1", "node2"}, namer())
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(st.Describe("Article", map[string]any{"desiredCount": 4.0}))
	if err != nil {
		t.Fatal(err)
	}
	var d Descriptor
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	var total float64
	for _, p := range d.Physical {
		total += p.OwnsPercentage
		if len(p.OwnsVirtual) == 0 {
			t.Fatalf("shard %s owns no virtual shard", p.Name)
		}
	}
	if total < 0.999 || total > 1.001 {
		t.Fatalf("shards own %.4f of the ring, want 1", total)
	}
	back, err := d.State()
	if err != nil {
		t.Fatal(err)
	}
	for range 5000 {
		id := uuid.New()
		if a, b := st.Shards[st.ShardOf(id)], back.Shards[back.ShardOf(id)]; a.Name != b.Name || a.Node() != b.Node() {
			t.Fatalf("id %s: shard %v before, %v after", id, a, b)
		}
	}
}

func TestSingleShardDescriptor(t *testing.T) {
	d := Single("abc", "node1").Describe("C", nil)
	if d.Virtual != nil || d.Physical["abc"].OwnsPercentage != 1 {
		t.Fatalf("descriptor %+v", d)
	}
	st, err := d.State()
	if err != nil || len(st.Shards) != 1 || st.Shards[0].Node() != "node1" || st.ShardOf(uuid.New()) != 0 {
		t.Fatalf("state %+v, %v", st, err)
	}
}

func TestValidateNamesTheProblem(t *testing.T) {
	for _, tc := range []struct {
		st   State
		want string
	}{
		{State{}, "0 shards"},
		{State{Shards: []Shard{{Name: "a"}, {Name: "a"}}, Uppers: []uint64{1, 2}, Owners: []int{0, 1}}, "repeated shard name"},
		{State{Shards: []Shard{{Name: "a"}, {Name: "b"}}}, "without virtual shards"},
		{State{Shards: []Shard{{Name: "a"}, {Name: "b"}}, Uppers: []uint64{2, 1}, Owners: []int{0, 1}}, "out of order"},
		{State{Shards: []Shard{{Name: "a"}, {Name: "b"}}, Uppers: []uint64{1, 2}, Owners: []int{0, 2}}, "shard 2 of 2"},
		{State{Shards: []Shard{{Name: "a"}, {Name: "b"}}, Uppers: []uint64{1, 2}, Owners: []int{0, 0}}, "owns no virtual"},
		{State{Shards: []Shard{{Name: "a"}, {Name: "b"}}, Uppers: []uint64{1, 2}, Owners: []int{0}}, "owners"},
	} {
		err := tc.st.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.st, err, tc.want)
		}
	}
	if _, err := New(MaxShards+1, 0, []string{"n"}, namer()); err == nil {
		t.Error("New accepted more than MaxShards")
	}
}
