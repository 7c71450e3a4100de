package shard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"strata/internal/filter"
	"strata/internal/vector"
)

var testProps = InvertedConfig{
	Properties: []Property{
		{Name: "title", Type: PropText}, // word
		{Name: "code", Type: PropText, Tokenization: TokenizeField},
		{Name: "name", Type: PropText, Tokenization: TokenizeWhitespace},
		{Name: "tags", Type: PropText, Array: true},
		{Name: "count", Type: PropInt},
		{Name: "nums", Type: PropInt, Array: true},
		{Name: "score", Type: PropNumber},
		{Name: "flag", Type: PropBoolean},
		{Name: "when", Type: PropDate},
		{Name: "ref", Type: PropUUID},
	},
	Stopwords: []string{"a", "is", "the"},
}

// testObjects are idN(0..6), created at 1000+i ms.
var testObjects = []string{
	0: `{"title":"Hello World","code":"A-1","name":"Alice Smith","tags":["red","blue"],"count":-5,"nums":[1,2,3],
	     "score":-1.5,"flag":true,"when":"2024-01-01T00:00:00Z","ref":"00000000-0000-0000-0000-000000000001"}`,
	1: `{"title":"hello there","code":"A-2","name":"alice jones","tags":["green"],"count":0,"nums":[],
	     "score":0,"flag":false,"when":"2024-01-01T01:00:00+02:00","ref":"00000000-0000-0000-0000-000000000002"}`,
	2: `{"title":"The quick brown fox","code":" B-1 ","name":"Bob","tags":["red"],"count":7,"nums":[3,4],
	     "score":2.25,"when":"2024-06-01T12:00:00.5Z"}`,
	3: `{"title":"world of wonders","count":100,"score":-0.0,"flag":true}`,
	4: ``,
	5: `{"title":"a the is","code":"x\u0000y","count":9223372036854775807,"score":1e300,"tags":["blue","red"]}`,
	6: `{"count":-9223372036854775808,"score":-1e300,"name":"Élan Vital"}`,
}

func openFilterShard(t *testing.T, dir string) *Shard {
	t.Helper()
	s, err := Open(dir, Options{Logger: quiet, Inverted: testProps})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func putTestObjects(t *testing.T, s *Shard) {
	t.Helper()
	objs := make([]*Object, len(testObjects))
	for i, p := range testObjects {
		objs[i] = obj(idN(i), p)
		objs[i].CreationTimeUnix = 1000 + int64(i)
		objs[i].LastUpdateTimeUnix = 5000 - int64(i)
	}
	mustPut(t, s, objs...)
}

// Clause builders.

func text(op filter.Operator, prop string, vals ...string) *filter.Clause {
	return &filter.Clause{Operator: op, Property: prop,
		Value: filter.Value{Type: filter.TypeText, Texts: vals, Array: len(vals) > 1}}
}

func ints(op filter.Operator, prop string, vals ...int64) *filter.Clause {
	return &filter.Clause{Operator: op, Property: prop,
		Value: filter.Value{Type: filter.TypeInt, Ints: vals, Array: len(vals) > 1}}
}

func num(op filter.Operator, prop string, v float64) *filter.Clause {
	return &filter.Clause{Operator: op, Property: prop, Value: filter.Value{Type: filter.TypeNumber, Numbers: []float64{v}}}
}

func boolean(op filter.Operator, prop string, v bool) *filter.Clause {
	return &filter.Clause{Operator: op, Property: prop, Value: filter.Value{Type: filter.TypeBoolean, Booleans: []bool{v}}}
}

func date(op filter.Operator, prop, v string) *filter.Clause {
	d, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		panic(err)
	}
	return &filter.Clause{Operator: op, Property: prop, Value: filter.Value{Type: filter.TypeDate, Dates: []time.Time{d}}}
}

func isNull(prop string, v bool) *filter.Clause { return boolean(filter.IsNull, prop, v) }

func and(cs ...*filter.Clause) *filter.Clause {
	return &filter.Clause{Operator: filter.And, Operands: cs}
}

func or(cs ...*filter.Clause) *filter.Clause {
	return &filter.Clause{Operator: filter.Or, Operands: cs}
}

func notC(c *filter.Clause) *filter.Clause {
	return &filter.Clause{Operator: filter.Not, Operands: []*filter.Clause{c}}
}

// ids maps object numbers to their ids, in ascending order.
func ids(ns ...int) []uuid.UUID {
	out := []uuid.UUID{}
	for _, n := range ns {
		out = append(out, idN(n))
	}
	slices.SortFunc(out, compareIDs)
	return out
}

func filterIDs(t *testing.T, s *Shard, c *filter.Clause) []uuid.UUID {
	t.Helper()
	got, err := s.Filter(context.Background(), c)
	if err != nil {
		t.Fatalf("filter %s: %v", describe(c), err)
	}
	if got == nil {
		got = []uuid.UUID{}
	}
	return got
}

func wantIDs(t *testing.T, s *Shard, c *filter.Clause, want ...int) {
	t.Helper()
	if got := filterIDs(t, s, c); !slices.Equal(got, ids(want...)) {
		t.Errorf("%s: got %v, want objects %v", describe(c), names(got), want)
	}
}

// names renders ids as object numbers.
func names(ids []uuid.UUID) []int {
	out := []int{}
	for _, id := range ids {
		out = append(out, int(id[14])<<8|int(id[15]))
	}
	return out
}

func describe(c *filter.Clause) string {
	if c == nil {
		return "<nil>"
	}
	if len(c.Operands) > 0 {
		parts := make([]string, len(c.Operands))
		for i, o := range c.Operands {
			parts[i] = describe(o)
		}
		return fmt.Sprintf("%s(%s)", c.Operator, strings.Join(parts, ", "))
	}
	v := c.Value
	var vals any
	switch v.Type {
	case filter.TypeText:
		vals = v.Texts
	case filter.TypeInt:
		vals = v.Ints
	case filter.TypeNumber:
		vals = v.Numbers
	case filter.TypeBoolean:
		vals = v.Booleans
	case filter.TypeDate:
		vals = v.Dates
	}
	return fmt.Sprintf("%s %s %q", c.Property, c.Operator, fmt.Sprint(vals))
}

func TestFilterOperatorsAndTypes(t *testing.T) {
	s := openFilterShard(t, t.TempDir())
	putTestObjects(t, s)
	cases := []struct {
		c    *filter.Clause
		want []int
	}{
		// text, word tokenization: every term of the value, lowercased, stopwords dropped.
		{text(filter.Equal, "title", "hello"), []int{0, 1}},
		{text(filter.Equal, "title", "HELLO"), []int{0, 1}},
		{text(filter.Equal, "title", "hello world"), []int{0}},
		{text(filter.Equal, "title", "world, hello!"), []int{0}},
		{text(filter.Equal, "title", "the fox"), []int{2}},
		{text(filter.Equal, "title", "nothing"), nil},
		{text(filter.NotEqual, "title", "hello"), []int{2, 3, 4, 5, 6}},
		{text(filter.NotEqual, "title", "hello world"), []int{2, 4, 5, 6}},
		{text(filter.Like, "title", "hel*"), []int{0, 1}},
		{text(filter.Like, "title", "w?rld"), []int{0, 3}},
		{text(filter.Like, "title", "*o*"), []int{0, 1, 2, 3}},
		{text(filter.Like, "title", "*"), []int{0, 1, 2, 3, 5}},
		{text(filter.Like, "title", "hello w*"), []int{0}},
		{text(filter.Like, "title", "HELLO"), []int{0, 1}},
		{text(filter.Like, "title", "wonder"), nil},
		{text(filter.GreaterThan, "title", "there"), []int{0, 3}},
		{isNull("title", true), []int{4, 6}},
		{isNull("title", false), []int{0, 1, 2, 3, 5}},
		// text, field tokenization: the whole trimmed value, case kept.
		{text(filter.Equal, "code", "A-1"), []int{0}},
		{text(filter.Equal, "code", "a-1"), nil},
		{text(filter.Equal, "code", "B-1"), []int{2}},
		{text(filter.Equal, "code", "  B-1"), []int{2}},
		{text(filter.Equal, "code", "x\x00y"), []int{5}},
		{text(filter.Equal, "code", "x"), nil},
		{text(filter.Like, "code", "A*"), []int{0, 1}},
		{text(filter.Like, "code", "x?y"), []int{5}},
		{text(filter.GreaterThan, "code", "A-1"), []int{1, 2, 5}},
		{text(filter.GreaterThanEqual, "code", "A-2"), []int{1, 2, 5}},
		{text(filter.LessThan, "code", "B-1"), []int{0, 1}},
		{text(filter.LessThanEqual, "code", "A-2"), []int{0, 1}},
		// text, whitespace tokenization: case kept.
		{text(filter.Equal, "name", "Alice"), []int{0}},
		{text(filter.Equal, "name", "alice"), []int{1}},
		{text(filter.Equal, "name", "Élan"), []int{6}},
		{text(filter.Like, "name", "?lan"), []int{6}},
		// text[]
		{text(filter.Equal, "tags", "red"), []int{0, 2, 5}},
		{text(filter.ContainsAny, "tags", "green", "blue"), []int{0, 1, 5}},
		{text(filter.ContainsAll, "tags", "red", "blue"), []int{0, 5}},
		{text(filter.ContainsAll, "tags", "red"), []int{0, 2, 5}},
		{text(filter.ContainsNone, "tags", "red"), []int{1, 3, 4, 6}},
		{text(filter.ContainsNone, "tags", "red", "green"), []int{3, 4, 6}},
		// int, including the extremes.
		{ints(filter.Equal, "count", 0), []int{1}},
		{ints(filter.NotEqual, "count", 7), []int{0, 1, 3, 4, 5, 6}},
		{ints(filter.GreaterThan, "count", 0), []int{2, 3, 5}},
		{ints(filter.GreaterThanEqual, "count", 0), []int{1, 2, 3, 5}},
		{ints(filter.LessThan, "count", 0), []int{0, 6}},
		{ints(filter.LessThanEqual, "count", -5), []int{0, 6}},
		{ints(filter.GreaterThan, "count", -5), []int{1, 2, 3, 5}},
		{ints(filter.GreaterThan, "count", math.MaxInt64), nil},
		{ints(filter.GreaterThanEqual, "count", math.MaxInt64), []int{5}},
		{ints(filter.LessThan, "count", math.MinInt64), nil},
		{ints(filter.LessThanEqual, "count", math.MinInt64), []int{6}},
		{ints(filter.ContainsAny, "count", 7, 100, 12345), []int{2, 3}},
		{isNull("count", true), []int{4}},
		// int[]
		{ints(filter.Equal, "nums", 3), []int{0, 2}},
		{ints(filter.GreaterThan, "nums", 3), []int{2}},
		{ints(filter.LessThan, "nums", 3), []int{0}},
		{ints(filter.ContainsAll, "nums", 3, 4), []int{2}},
		{ints(filter.ContainsAny, "nums", 1, 4), []int{0, 2}},
		{ints(filter.ContainsNone, "nums", 1, 4), []int{1, 3, 4, 5, 6}},
		{isNull("nums", true), []int{1, 3, 4, 5, 6}}, // an empty array is null
		{isNull("nums", false), []int{0, 2}},
		// number: -0 equals 0; the extremes order correctly.
		{num(filter.Equal, "score", 0), []int{1, 3}},
		{num(filter.Equal, "score", math.Copysign(0, -1)), []int{1, 3}},
		{num(filter.LessThan, "score", 0), []int{0, 6}},
		{num(filter.GreaterThan, "score", 0), []int{2, 5}},
		{num(filter.GreaterThanEqual, "score", -1.5), []int{0, 1, 2, 3, 5}},
		{num(filter.LessThan, "score", -1.5), []int{6}},
		{num(filter.GreaterThan, "score", 2.25), []int{5}},
		{num(filter.LessThanEqual, "score", 2.25), []int{0, 1, 2, 3, 6}},
		{num(filter.GreaterThan, "score", math.MaxFloat64), nil},
		// boolean
		{boolean(filter.Equal, "flag", true), []int{0, 3}},
		{boolean(filter.Equal, "flag", false), []int{1}},
		{boolean(filter.NotEqual, "flag", true), []int{1, 2, 4, 5, 6}},
		{isNull("flag", true), []int{2, 4, 5, 6}},
		// date: instants compare across time zones, to the nanosecond.
		{date(filter.Equal, "when", "2023-12-31T23:00:00Z"), []int{1}},
		{date(filter.GreaterThan, "when", "2024-01-01T00:00:00Z"), []int{2}},
		{date(filter.GreaterThanEqual, "when", "2024-01-01T00:00:00Z"), []int{0, 2}},
		{date(filter.LessThan, "when", "2024-06-01T12:00:00.5Z"), []int{0, 1}},
		{date(filter.LessThanEqual, "when", "2024-06-01T12:00:00.5Z"), []int{0, 1, 2}},
		{date(filter.GreaterThan, "when", "2024-06-01T12:00:00.499999999Z"), []int{2}},
		{date(filter.GreaterThan, "when", "2024-06-01T12:00:00.500000001Z"), nil},
		// uuid
		{text(filter.Equal, "ref", "00000000-0000-0000-0000-000000000001"), []int{0}},
		{text(filter.GreaterThan, "ref", "00000000-0000-0000-0000-000000000001"), []int{1}},
		{text(filter.NotEqual, "ref", "00000000-0000-0000-0000-000000000001"), []int{1, 2, 3, 4, 5, 6}},
		// _id, from every object's key.
		{text(filter.Equal, filter.PropID, idN(3).String()), []int{3}},
		{text(filter.Equal, filter.PropID, idN(99).String()), nil},
		{text(filter.NotEqual, filter.PropID, idN(3).String()), []int{0, 1, 2, 4, 5, 6}},
		{text(filter.GreaterThan, filter.PropID, idN(4).String()), []int{5, 6}},
		{text(filter.LessThanEqual, filter.PropID, idN(1).String()), []int{0, 1}},
		{text(filter.ContainsAny, filter.PropID, idN(2).String(), idN(9).String()), []int{2}},
		// timestamps: milliseconds as text, or dates.
		{text(filter.Equal, filter.PropCreationTime, "1003"), []int{3}},
		{text(filter.GreaterThanEqual, filter.PropCreationTime, "1005"), []int{5, 6}},
		{&filter.Clause{Operator: filter.GreaterThan, Property: filter.PropCreationTime,
			Value: filter.Value{Type: filter.TypeDate, Dates: []time.Time{time.UnixMilli(1004)}}}, []int{5, 6}},
		{text(filter.LessThan, filter.PropLastUpdateTime, "4996"), []int{5, 6}},
		{isNull(filter.PropCreationTime, true), nil},
		// no filter: everything
		{nil, []int{0, 1, 2, 3, 4, 5, 6}},
	}
	for _, tc := range cases {
		wantIDs(t, s, tc.c, tc.want...)
	}
}

func TestFilterCombinations(t *testing.T) {
	s := openFilterShard(t, t.TempDir())
	putTestObjects(t, s)
	red := text(filter.Equal, "tags", "red")
	cases := []struct {
		c    *filter.Clause
		want []int
	}{
		{and(red, ints(filter.GreaterThan, "count", 0)), []int{2, 5}},
		{or(boolean(filter.Equal, "flag", false), ints(filter.LessThan, "count", 0)), []int{0, 1, 6}},
		{notC(red), []int{1, 3, 4, 6}},
		{notC(notC(red)), []int{0, 2, 5}},
		{and(notC(boolean(filter.Equal, "flag", true)), notC(isNull("title", true))), []int{1, 2, 5}},
		{and(notC(red), notC(isNull("count", true))), []int{1, 3, 6}},
		{or(notC(ints(filter.Equal, "count", 0)), text(filter.Equal, "title", "hello")), []int{0, 1, 2, 3, 4, 5, 6}},
		{or(notC(ints(filter.LessThan, "count", 0)), notC(ints(filter.GreaterThan, "count", 0))), []int{0, 1, 2, 3, 4, 5, 6}},
		{or(notC(ints(filter.LessThan, "count", 8)), red), []int{0, 2, 3, 4, 5}},
		{and(ints(filter.Equal, "count", 0), ints(filter.Equal, "count", 7)), nil},
		{and(or(red, text(filter.Equal, "tags", "green")), notC(text(filter.Equal, "code", "A-1"))), []int{1, 2, 5}},
		{notC(or(red, isNull("tags", true))), []int{1}},
		{and(red), []int{0, 2, 5}},
		{or(and(red, boolean(filter.Equal, "flag", true)), and(isNull("title", true), ints(filter.LessThan, "count", 0))), []int{0, 6}},
	}
	for _, tc := range cases {
		wantIDs(t, s, tc.c, tc.want...)
	}
}

func TestFilterErrors(t *testing.T) {
	s := openFilterShard(t, t.TempDir())
	putTestObjects(t, s)
	for _, c := range []*filter.Clause{
		text(filter.Equal, "title", "the"),        // only stopwords
		text(filter.Equal, "title", "!!"),         // no terms at all
		text(filter.Equal, "nope", "x"),           // not indexed
		text(filter.Like, "count", "1*"),          // Like on int
		num(filter.Equal, "count", 1),             // number value on an int property
		text(filter.Equal, "ref", "not-a-uuid"),   // bad uuid
		text(filter.Like, filter.PropID, "0000*"), // Like on _id
		{Operator: filter.Not, Operands: []*filter.Clause{red(), red()}},
	} {
		_, err := s.Filter(context.Background(), c)
		var fe *FilterError
		if !errors.As(err, &fe) {
			t.Errorf("%s: got %v, want a FilterError", describe(c), err)
		}
	}
	wantIDs(t, s, text(filter.ContainsAny, "title", "the", "fox"), 2) // stopword values are skipped
}

// postingKey is the index key saying object n has value v in prop.
func postingKey(prop string, v []byte, n int) []byte {
	id := idN(n)
	k := append(propKeyPrefix(prop, kindValue), v...)
	return append(k, id[:]...)
}

func red() *filter.Clause { return text(filter.Equal, "tags", "red") }

// Updates and deletes remove the old postings, also within one batch and
// across a reopen.
func TestFilterFollowsWrites(t *testing.T) {
	dir := t.TempDir()
	s := openFilterShard(t, dir)
	putTestObjects(t, s)

	upd := obj(idN(2), `{"title":"slow green turtle","count":-1,"tags":["green"]}`)
	mustPut(t, s, upd)
	wantIDs(t, s, text(filter.Equal, "title", "fox"))
	wantIDs(t, s, text(filter.Equal, "title", "turtle"), 2)
	wantIDs(t, s, red(), 0, 5)
	wantIDs(t, s, ints(filter.Equal, "count", 7))
	wantIDs(t, s, ints(filter.LessThan, "count", 0), 0, 2, 6)
	wantIDs(t, s, isNull("flag", true), 2, 4, 5, 6)
	wantIDs(t, s, isNull("when", true), 2, 3, 4, 5, 6)

	// Two versions of one object in one batch: the last one counts.
	mustPut(t, s, obj(idN(3), `{"count":1,"tags":["red"]}`), obj(idN(3), `{"count":2,"tags":["blue"]}`))
	wantIDs(t, s, ints(filter.Equal, "count", 1))
	wantIDs(t, s, ints(filter.Equal, "count", 2), 3)
	wantIDs(t, s, red(), 0, 5)
	wantIDs(t, s, text(filter.Equal, "title", "wonders"))

	if ok, err := s.Delete(idN(0)); !ok || err != nil {
		t.Fatalf("delete: %v %v", ok, err)
	}
	wantIDs(t, s, red(), 5)
	wantIDs(t, s, text(filter.Equal, filter.PropID, idN(0).String()))
	wantIDs(t, s, notC(red()), 1, 2, 3, 4, 6)

	if n, err := s.DeleteMany([]uuid.UUID{idN(5), idN(6), idN(42), idN(5)}); n != 2 || err != nil {
		t.Fatalf("DeleteMany: %d %v, want 2 deleted", n, err)
	}
	if s.Count() != 4 {
		t.Fatalf("count after DeleteMany: %d, want 4", s.Count())
	}
	wantIDs(t, s, nil, 1, 2, 3, 4)
	wantIDs(t, s, red())

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openFilterShard(t, dir)
	wantIDs(t, s, nil, 1, 2, 3, 4)
	wantIDs(t, s, text(filter.Equal, "tags", "green"), 1, 2)
	wantIDs(t, s, ints(filter.GreaterThanEqual, "count", 0), 1, 3)
	if s.Count() != 4 {
		t.Fatalf("count after reopen: %d", s.Count())
	}
	// Keys visited by a full-table filter equal the objects left: no
	// orphaned postings of deleted objects remain.
	before := s.inv.keysRead.Load()
	wantIDs(t, s, isNull("count", false), 1, 2, 3)
	if n := s.inv.keysRead.Load() - before; n != 3 {
		t.Errorf("IsNull(count,false) read %d keys, want 3", n)
	}
}

// A store written before the index existed has objects but no index keys;
// the first filter builds them, once, and later writes keep them current.
func TestFilterBuildsIndexForOldData(t *testing.T) {
	dir := t.TempDir()
	s := openFilterShard(t, dir)
	putTestObjects(t, s)
	// Make it look like old data: no index keys, no version.
	if err := s.db.DeleteRange([]byte{prefixProps}, []byte{prefixProps + 1}, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openFilterShard(t, dir)
	// A write before the first filter is indexed too.
	mustPut(t, s, obj(idN(7), `{"tags":["red"],"count":7}`))
	if s.inv.ready.Load() {
		t.Fatal("index reported ready before it was built")
	}
	wantIDs(t, s, red(), 0, 2, 5, 7)
	wantIDs(t, s, ints(filter.Equal, "count", 7), 2, 7)
	wantIDs(t, s, text(filter.Equal, "title", "hello"), 0, 1)
	wantIDs(t, s, notC(red()), 1, 3, 4, 6)
	if current, err := s.invCurrent(); !current || err != nil {
		t.Fatalf("version after build: %v %v", current, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Reopened, it does not rebuild (a planted stale key would be dropped
	// by a rebuild) and still answers correctly.
	s = openFilterShard(t, dir)
	if err := s.db.Set(postingKey("count", encInt(nil, 12345), 1), nil, nil); err != nil {
		t.Fatal(err)
	}
	wantIDs(t, s, ints(filter.Equal, "count", 12345), 1)
}

// A build interrupted before its version key was written starts over:
// keys it left behind do not survive.
func TestFilterRebuildDropsLeftovers(t *testing.T) {
	dir := t.TempDir()
	s := openFilterShard(t, dir)
	putTestObjects(t, s)
	if err := s.db.Delete(invVersionKey, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.db.Set(postingKey("count", encInt(nil, 12345), 1), nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openFilterShard(t, dir)
	wantIDs(t, s, ints(filter.Equal, "count", 12345))
	wantIDs(t, s, ints(filter.Equal, "count", 0), 1)
}

// A property added to the class later: new objects are indexed, old ones
// are null.
func TestFilterPropertyAddedLater(t *testing.T) {
	s := openFilterShard(t, t.TempDir())
	putTestObjects(t, s)
	cfg := testProps
	cfg.Properties = append(slices.Clone(cfg.Properties), Property{Name: "extra", Type: PropInt})
	s.SetInverted(cfg)
	mustPut(t, s, obj(idN(8), `{"extra":3}`))
	wantIDs(t, s, ints(filter.Equal, "extra", 3), 8)
	wantIDs(t, s, isNull("extra", false), 8)
	wantIDs(t, s, isNull("extra", true), 0, 1, 2, 3, 4, 5, 6)
}

// Selective filters read only the index keys they need, not every object.
func TestFilterSelectiveReadsFewKeys(t *testing.T) {
	s := openFilterShard(t, t.TempDir())
	const n = 5000
	objs := make([]*Object, n)
	for i := range objs {
		objs[i] = obj(idN(i), fmt.Sprintf(`{"count":%d,"code":"item-%04d","flag":%v,"title":"common w%d"}`, i, i, i%5000 != 7, i))
	}
	mustPut(t, s, objs...)
	cases := []struct {
		c        *filter.Clause
		want     int
		maxReads int64
	}{
		{ints(filter.Equal, "count", 1234), 1, 1},
		{ints(filter.ContainsAny, "count", 1, 2, 3), 3, 3},
		{ints(filter.GreaterThan, "count", n-10), 9, 9},
		{text(filter.Like, "code", "item-12*"), 100, 100},
		{text(filter.Equal, filter.PropID, idN(77).String()), 1, 1},
		{and(ints(filter.Equal, "count", 10), notC(text(filter.Equal, "code", "item-0010"))), 0, 2},
		{and(ints(filter.LessThan, "count", 3), ints(filter.Equal, "count", 4000)), 0, 4},
		// A broad operand beside a selective one is checked per candidate
		// after a bounded probe, not scanned.
		{and(boolean(filter.Equal, "flag", true), ints(filter.Equal, "count", 1234)), 1, probeKeys + 3},
		{and(boolean(filter.Equal, "flag", true), ints(filter.Equal, "count", 7)), 0, probeKeys + 3},
		{and(text(filter.Equal, "code", "item-1234"), notC(boolean(filter.Equal, "flag", false))), 1, 4},
		{text(filter.Equal, "title", "common w1234"), 1, probeKeys + 3},
		{and(or(ints(filter.Equal, "count", 1), ints(filter.Equal, "count", 2)), boolean(filter.Equal, "flag", true)), 2, probeKeys + 5},
		{and(boolean(filter.Equal, "flag", true), isNull("count", false), ints(filter.ContainsAny, "count", 5, 6, 7)), 2, 2*probeKeys + 10},
	}
	for _, tc := range cases {
		before := s.inv.keysRead.Load()
		got := filterIDs(t, s, tc.c)
		read := s.inv.keysRead.Load() - before
		if len(got) != tc.want {
			t.Errorf("%s: %d results, want %d", describe(tc.c), len(got), tc.want)
		}
		if read > tc.maxReads {
			t.Errorf("%s: read %d index keys, want at most %d (of %d objects)", describe(tc.c), read, tc.maxReads, n)
		}
	}
}

// A filtered vector search returns the k nearest allowed objects, through
// the HNSW index's exact search among the allowed ids and through a flat
// index's allow function alike.
func TestSearchFilteredReturnsK(t *testing.T) {
	for name, vectors := range map[string]map[string]VectorIndexConfig{
		"hnsw": nil,
		"flat": {"": {Flat: true, HNSW: vector.HNSWConfig{Distance: vector.Cosine}}},
	} {
		t.Run(name, func(t *testing.T) {
			s, err := Open(t.TempDir(), Options{Logger: quiet, Inverted: testProps, Vectors: vectors})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			var objs []*Object
			for i := range 200 {
				objs = append(objs, obj(idN(i), fmt.Sprintf(`{"count":%d}`, i%10), 1, float32(i)/200))
			}
			mustPut(t, s, objs...)
			allowed := filterIDs(t, s, ints(filter.Equal, "count", 3))
			if len(allowed) != 20 {
				t.Fatalf("%d allowed, want 20", len(allowed))
			}
			hits, err := s.SearchFiltered("", []float32{1, 0}, 5, nil, allowed)
			if err != nil {
				t.Fatal(err)
			}
			got := make([]uuid.UUID, len(hits))
			for i, h := range hits {
				got[i] = h.ID
			}
			// The nearest allowed objects, in order.
			if !slices.Equal(names(got), []int{3, 13, 23, 33, 43}) {
				t.Errorf("hits %v, want [3 13 23 33 43]", names(got))
			}
			if hits, err := s.SearchFiltered("", []float32{1, 0}, 5, nil, nil); err != nil || len(hits) != 0 {
				t.Errorf("nothing allowed: %v %v", hits, err)
			}
		})
	}
}

func TestEncodingsPreserveOrder(t *testing.T) {
	intsIn := []int64{math.MinInt64, -1 << 40, -2, -1, 0, 1, 2, 1 << 40, math.MaxInt64}
	for i := 1; i < len(intsIn); i++ {
		if string(encInt(nil, intsIn[i-1])) >= string(encInt(nil, intsIn[i])) {
			t.Errorf("encInt(%d) >= encInt(%d)", intsIn[i-1], intsIn[i])
		}
	}
	nums := []float64{math.Inf(-1), -math.MaxFloat64, -1e10, -1.5, -math.SmallestNonzeroFloat64, 0,
		math.SmallestNonzeroFloat64, 1, 1.5, 1e10, math.MaxFloat64, math.Inf(1)}
	for i := 1; i < len(nums); i++ {
		if string(encNumber(nil, nums[i-1])) >= string(encNumber(nil, nums[i])) {
			t.Errorf("encNumber(%v) >= encNumber(%v)", nums[i-1], nums[i])
		}
	}
	texts := []string{"", "\x00", "\x00\x00", "\x00a", "a", "a\x00", "a\x00b", "aa", "b", "\xff"}
	for i := 1; i < len(texts); i++ {
		if string(encText(nil, texts[i-1])) >= string(encText(nil, texts[i])) {
			t.Errorf("encText(%q) >= encText(%q)", texts[i-1], texts[i])
		}
	}
	for _, s := range texts {
		if got := decText(encText(nil, s)); got != s {
			t.Errorf("decText(encText(%q)) = %q", s, got)
		}
	}
}

func TestTokenizeAndLike(t *testing.T) {
	for _, tc := range []struct {
		tok, in string
		want    []string
	}{
		{TokenizeWord, "Hello, World! x2", []string{"hello", "world", "x2"}},
		{"", "Ünïcode—Straße", []string{"ünïcode", "straße"}},
		{TokenizeLowercase, "Hello, World!", []string{"hello,", "world!"}},
		{TokenizeWhitespace, " Hello  World ", []string{"Hello", "World"}},
		{TokenizeField, "  Hello World \n", []string{"Hello World"}},
		{TokenizeTrigram, "Hello!", []string{"hel", "ell", "llo"}},
	} {
		if got := tokenize(tc.tok, tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("tokenize(%q, %q) = %q, want %q", tc.tok, tc.in, got, tc.want)
		}
	}
	if got := tokenizeLike(TokenizeWord, "Hel* w?rld!"); !slices.Equal(got, []string{"hel*", "w?rld"}) {
		t.Errorf("tokenizeLike: %q", got)
	}
	for _, tc := range []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true}, {"*", "abc", true}, {"a*", "abc", true}, {"*c", "abc", true},
		{"a*c", "abbbc", true}, {"a*c", "abcd", false}, {"?", "é", true}, {"??", "é", false},
		{"a?c", "abc", true}, {"a?c", "ac", false}, {"*b*b*", "abcbd", true}, {"*b*b*", "abcd", false},
		{"abc", "abc", true}, {"abc", "abd", false}, {"", "", true}, {"", "a", false},
	} {
		if got := likeMatch(tc.pattern, tc.s); got != tc.want {
			t.Errorf("likeMatch(%q, %q) = %v, want %v", tc.pattern, tc.s, got, tc.want)
		}
	}
	if p := likePrefix("abc*d?"); p != "abc" {
		t.Errorf("likePrefix = %q", p)
	}
}

func BenchmarkFilterEqual(b *testing.B) {
	s, err := Open(b.TempDir(), Options{Logger: quiet, Inverted: testProps})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const n = 20000
	objs := make([]*Object, n)
	for i := range objs {
		objs[i] = obj(idN(i), fmt.Sprintf(`{"count":%d,"title":"word%d common"}`, i, i%100))
	}
	if _, err := s.Put(objs); err != nil {
		b.Fatal(err)
	}
	b.Run("selective", func(b *testing.B) {
		c := ints(filter.Equal, "count", 777)
		for b.Loop() {
			if _, err := s.Filter(context.Background(), c); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("one-percent-and-text", func(b *testing.B) {
		c := and(text(filter.Equal, "title", "word7"), ints(filter.LessThan, "count", n/2))
		for b.Loop() {
			if _, err := s.Filter(context.Background(), c); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// Random filter trees over random data agree with a direct evaluation of
// the same semantics on the objects.
func TestFilterMatchesModel(t *testing.T) {
	s := openFilterShard(t, t.TempDir())
	rng := rand.New(rand.NewPCG(7, 11))
	type model struct {
		count *int64
		tags  []string
	}
	// Enough objects that broad operands outgrow an And's probe budget and
	// get checked per candidate.
	const n = 3000
	objs := make([]model, n)
	var puts []*Object
	for i := range objs {
		props := map[string]any{}
		if rng.IntN(5) > 0 {
			c := int64(rng.IntN(41) - 20)
			objs[i].count = &c
			props["count"] = c
		}
		for _, tag := range []string{"t1", "t2", "t3", "t4"} {
			if rng.IntN(3) == 0 {
				objs[i].tags = append(objs[i].tags, tag)
			}
		}
		if objs[i].tags != nil || rng.IntN(2) == 0 {
			props["tags"] = append([]string{}, objs[i].tags...)
		}
		b, _ := json.Marshal(props)
		puts = append(puts, obj(idN(i), string(b)))
	}
	mustPut(t, s, puts...)

	ops := []filter.Operator{filter.Equal, filter.NotEqual, filter.GreaterThan, filter.GreaterThanEqual,
		filter.LessThan, filter.LessThanEqual}
	var gen func(depth int) (*filter.Clause, func(model) bool)
	gen = func(depth int) (*filter.Clause, func(model) bool) {
		switch k := rng.IntN(7); {
		case depth < 3 && k < 2:
			var cs []*filter.Clause
			var fs []func(model) bool
			for range 1 + rng.IntN(3) {
				c, f := gen(depth + 1)
				cs, fs = append(cs, c), append(fs, f)
			}
			if k == 0 {
				return and(cs...), func(m model) bool {
					for _, f := range fs {
						if !f(m) {
							return false
						}
					}
					return true
				}
			}
			return or(cs...), func(m model) bool {
				for _, f := range fs {
					if f(m) {
						return true
					}
				}
				return false
			}
		case depth < 3 && k == 2:
			c, f := gen(depth + 1)
			return notC(c), func(m model) bool { return !f(m) }
		case k == 3:
			want := rng.IntN(2) == 0
			return isNull("count", want), func(m model) bool { return (m.count == nil) == want }
		case k == 4:
			tags := []string{"t1", "t2", "t3", "t4", "t5"}[:1+rng.IntN(5)]
			rng.Shuffle(len(tags), func(i, j int) { tags[i], tags[j] = tags[j], tags[i] })
			tags = tags[:1+rng.IntN(len(tags))]
			op := []filter.Operator{filter.ContainsAny, filter.ContainsAll, filter.ContainsNone}[rng.IntN(3)]
			return text(op, "tags", tags...), func(m model) bool {
				hits := 0
				for _, tag := range tags {
					if slices.Contains(m.tags, tag) {
						hits++
					}
				}
				switch op {
				case filter.ContainsAny:
					return hits > 0
				case filter.ContainsAll:
					return hits == len(tags)
				}
				return hits == 0
			}
		default:
			op := ops[rng.IntN(len(ops))]
			v := int64(rng.IntN(45) - 22)
			return ints(op, "count", v), func(m model) bool {
				if m.count == nil {
					return op == filter.NotEqual
				}
				c := *m.count
				switch op {
				case filter.Equal:
					return c == v
				case filter.NotEqual:
					return c != v
				case filter.GreaterThan:
					return c > v
				case filter.GreaterThanEqual:
					return c >= v
				case filter.LessThan:
					return c < v
				}
				return c <= v
			}
		}
	}
	for range 500 {
		c, f := gen(0)
		var want []int
		for i, m := range objs {
			if f(m) {
				want = append(want, i)
			}
		}
		wantIDs(t, s, c, want...)
		if t.Failed() {
			break
		}
	}
}
