package shard

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/google/uuid"
)

// The inverted index answers where filters without reading objects. It
// lives under its own key prefix, written in the same batch as the objects
// it describes:
//
//	'p' name 0x00 'v' value id  posting: the object has this value (or token)
//	'p' name 0x00 'n' id        the object's property is not null
//	'p' "#all" 0x00 'n' id      every object (complements: Not, NotEqual, IsNull…)
//	'p' "#created" 0x00 'v' ms id, 'p' "#updated" 0x00 'v' ms id   timestamps
//	'p' "#version"              uvarint: the layout version the keys follow
//
// name is a property name; the '#' names cannot be property names. Values
// are encoded so byte order is value order, which makes range operators
// range scans:
//
//	int, timestamps  8 bytes big-endian, sign bit flipped
//	number           8 bytes: IEEE 754 bits, sign bit flipped (all bits when negative); -0 as 0
//	date             8 bytes seconds as int + 4 bytes nanoseconds, big-endian
//	boolean          1 byte, 0 or 1
//	uuid             the 16 bytes
//	text             the term's bytes with 0x00 escaped as 0x00 0xFF, ended by 0x00 0x01
//
// id is the object's 16-byte UUID; it always ends a key. Array properties
// get one posting per distinct element; text gets one per distinct term of
// its tokenization. An empty array counts as null.
const (
	prefixProps = 'p'

	kindValue   = 'v'
	kindPresent = 'n'

	// invVersion is the layout version; shards with another (or none,
	// written before the index existed) are rebuilt on first filter.
	invVersion = 1
)

var (
	invVersionKey = []byte("p#version")
	keyAll        = propKeyPrefix("#all", kindPresent)
	keyCreated    = propKeyPrefix("#created", kindValue)
	keyUpdated    = propKeyPrefix("#updated", kindValue)
)

// PropType is the data type of an indexed property (without "[]").
type PropType string

// Indexed property types.
const (
	PropText    PropType = "text"
	PropInt     PropType = "int"
	PropNumber  PropType = "number"
	PropBoolean PropType = "boolean"
	PropDate    PropType = "date"
	PropUUID    PropType = "uuid"
)

// Property is one property the shard indexes for filters.
type Property struct {
	Name         string
	Type         PropType
	Array        bool
	Tokenization string // text only; "" = word
}

// InvertedConfig is what a shard indexes for where filters: its class's
// filterable properties, and the stopwords dropped from word-tokenized
// filter values.
type InvertedConfig struct {
	Properties []Property
	Stopwords  []string
}

// invConfig is an InvertedConfig ready for use.
type invConfig struct {
	props map[string]*propIndex
	stop  map[string]bool
}

// propIndex is one indexed property and its key prefixes.
type propIndex struct {
	Property
	values  []byte // 'p' name 0x00 'v'
	present []byte // 'p' name 0x00 'n'
}

// inverted is the shard's inverted-index state.
type inverted struct {
	cfg   atomic.Pointer[invConfig]
	ready atomic.Bool // the keys are complete for every stored object
	// checked is set once the version key was read (under writeMu).
	checked bool
	// keysRead counts index keys visited by filters (for tests).
	keysRead atomic.Int64
}

func propKeyPrefix(name string, kind byte) []byte {
	k := make([]byte, 0, len(name)+3)
	k = append(k, prefixProps)
	k = append(k, name...)
	return append(k, 0, kind)
}

func compileInverted(c InvertedConfig) *invConfig {
	out := &invConfig{props: map[string]*propIndex{}, stop: map[string]bool{}}
	for _, p := range c.Properties {
		out.props[p.Name] = &propIndex{Property: p,
			values: propKeyPrefix(p.Name, kindValue), present: propKeyPrefix(p.Name, kindPresent)}
	}
	for _, w := range c.Stopwords {
		out.stop[w] = true
	}
	return out
}

// SetInverted replaces the indexed properties and stopwords (a property
// was added to the class, or its stopwords changed). Objects written from
// now on are indexed accordingly; existing objects lack any new property,
// so nothing needs reindexing.
func (s *Shard) SetInverted(c InvertedConfig) {
	s.inv.cfg.Store(compileInverted(c))
}

func (s *Shard) invConfig() *invConfig {
	if c := s.inv.cfg.Load(); c != nil {
		return c
	}
	s.inv.cfg.CompareAndSwap(nil, compileInverted(s.opts.Inverted))
	return s.inv.cfg.Load()
}

// indexProps stages in b the index changes of replacing old by o: a new
// object when old is nil, a delete when o is nil. Caller holds writeMu.
func (s *Shard) indexProps(b *pebble.Batch, old, o *Object) error {
	if err := s.checkInverted(b); err != nil {
		return err
	}
	cfg := s.invConfig()
	var oldKeys, newKeys []string
	if old != nil {
		oldKeys = cfg.objectKeys(old, s.opts.Logger)
	}
	if o != nil {
		newKeys = cfg.objectKeys(o, s.opts.Logger)
	}
	i, j := 0, 0
	for i < len(oldKeys) || j < len(newKeys) {
		var err error
		switch {
		case j == len(newKeys) || (i < len(oldKeys) && oldKeys[i] < newKeys[j]):
			err = b.Delete([]byte(oldKeys[i]), nil)
			i++
		case i == len(oldKeys) || newKeys[j] < oldKeys[i]:
			err = b.Set([]byte(newKeys[j]), nil, nil)
			j++
		default: // unchanged
			i++
			j++
		}
		if err != nil {
			return fmt.Errorf("index properties: %w", err)
		}
	}
	return nil
}

// checkInverted reads the index version once. A store without objects
// gets the current version in the same batch as its first write, so a new
// shard never needs a rebuild. Caller holds writeMu.
func (s *Shard) checkInverted(b *pebble.Batch) error {
	if s.inv.checked {
		return nil
	}
	current, err := s.invCurrent()
	if err != nil {
		return err
	}
	if !current && s.count == 0 {
		if err := b.DeleteRange([]byte{prefixProps}, []byte{prefixProps + 1}, nil); err != nil {
			return fmt.Errorf("index properties: %w", err)
		}
		if err := b.Set(invVersionKey, binary.AppendUvarint(nil, invVersion), nil); err != nil {
			return fmt.Errorf("index properties: %w", err)
		}
		current = true
	}
	s.inv.checked = true
	s.inv.ready.Store(current)
	return nil
}

// invCurrent reports whether the store's index has the current version.
func (s *Shard) invCurrent() (bool, error) {
	v, closer, err := s.db.Get(invVersionKey)
	if errors.Is(err, pebble.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read index version: %w", err)
	}
	defer closer.Close()
	n, size := binary.Uvarint(v)
	return size > 0 && n == invVersion, nil
}

// ensureInverted makes the index complete before a filter reads it: a
// store written before the index existed (or restored from such a backup)
// is indexed now. Writers wait meanwhile. The rebuild is crash-safe: the
// version key is written last, in a synced batch; until then a restart
// rebuilds again from scratch.
func (s *Shard) ensureInverted() error {
	if s.inv.ready.Load() {
		return nil
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if s.isClosed() {
		return ErrClosed
	}
	if s.inv.ready.Load() {
		return nil
	}
	current, err := s.invCurrent()
	if err != nil {
		return err
	}
	if current {
		s.inv.checked = true
		s.inv.ready.Store(true)
		return nil
	}
	start := time.Now()
	cfg := s.invConfig()
	b := s.db.NewBatch()
	defer func() { b.Close() }()
	if err := b.DeleteRange([]byte{prefixProps}, []byte{prefixProps + 1}, nil); err != nil {
		return fmt.Errorf("rebuild property index: %w", err)
	}
	n := 0
	err = s.scanPrefix(prefixObject, func(k, v []byte) error {
		if len(k) != 17 {
			return nil
		}
		id, _ := uuid.FromBytes(k[1:])
		o, err := decodeObject(id, v, false)
		if err != nil {
			return fmt.Errorf("object %s: %w", id, err)
		}
		for _, key := range cfg.objectKeys(o, s.opts.Logger) {
			if err := b.Set([]byte(key), nil, nil); err != nil {
				return err
			}
		}
		n++
		if b.Len() >= 16<<20 {
			if err := b.Commit(pebble.NoSync); err != nil {
				return err
			}
			b.Close()
			b = s.db.NewBatch()
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("rebuild property index: %w", err)
	}
	if err := b.Set(invVersionKey, binary.AppendUvarint(nil, invVersion), nil); err != nil {
		return fmt.Errorf("rebuild property index: %w", err)
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("rebuild property index: %w", err)
	}
	s.inv.checked = true
	s.inv.ready.Store(true)
	s.opts.Logger.Info("property index built", "shard", s.dir, "objects", n, "took", time.Since(start))
	return nil
}

// objectKeys returns the index keys of o, sorted and distinct. Values that
// do not fit their property's type (which validation prevents) are logged
// and left out.
func (c *invConfig) objectKeys(o *Object, log *slog.Logger) []string {
	id := o.ID[:]
	keys := []string{
		string(append(slices.Clip(keyAll), id...)),
		string(append(encInt(slices.Clip(keyCreated), o.CreationTimeUnix), id...)),
		string(append(encInt(slices.Clip(keyUpdated), o.LastUpdateTimeUnix), id...)),
	}
	if len(o.Properties) > 0 && len(c.props) > 0 {
		var props map[string]json.RawMessage
		if err := json.Unmarshal(o.Properties, &props); err != nil {
			log.Warn("property index: undecodable properties", "id", o.ID, "err", err)
		}
		for name, raw := range props {
			p := c.props[name]
			if p == nil {
				continue
			}
			vals, err := p.encodeStored(raw)
			if err != nil {
				log.Warn("property index: value left out", "id", o.ID, "property", name, "err", err)
				continue
			}
			if vals == nil {
				continue // null
			}
			keys = append(keys, string(append(slices.Clip(p.present), id...)))
			for _, v := range vals {
				k := make([]byte, 0, len(p.values)+len(v)+16)
				k = append(append(append(k, p.values...), v...), id...)
				keys = append(keys, string(k))
			}
		}
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// encodeStored encodes a stored property value (JSON) into its postings;
// nil means null (absent, JSON null or an empty array).
func (p *propIndex) encodeStored(raw json.RawMessage) ([][]byte, error) {
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil, nil
	}
	elems := []json.RawMessage{raw}
	if p.Array {
		elems = nil
		if err := json.Unmarshal(raw, &elems); err != nil {
			return nil, err
		}
		if len(elems) == 0 {
			return nil, nil
		}
	}
	out := make([][]byte, 0, len(elems))
	for _, e := range elems {
		if p.Type == PropText {
			var s string
			if err := json.Unmarshal(e, &s); err != nil {
				return nil, err
			}
			for _, t := range tokenize(p.Tokenization, s) {
				out = append(out, encText(nil, t))
			}
			continue
		}
		v, err := p.encodeStoredScalar(e)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func (p *propIndex) encodeStoredScalar(raw json.RawMessage) ([]byte, error) {
	switch p.Type {
	case PropInt:
		var n json.Number
		if err := json.Unmarshal(raw, &n); err != nil {
			return nil, err
		}
		i, err := strconv.ParseInt(string(n), 10, 64)
		if err != nil {
			f, ferr := n.Float64()
			if ferr != nil || f != math.Trunc(f) {
				return nil, err
			}
			i = int64(f)
		}
		return encInt(nil, i), nil
	case PropNumber:
		var f float64
		if err := json.Unmarshal(raw, &f); err != nil {
			return nil, err
		}
		return encNumber(nil, f), nil
	case PropBoolean:
		var v bool
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, err
		}
		return encBool(nil, v), nil
	case PropDate:
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return nil, err
		}
		return encDate(nil, t), nil
	case PropUUID:
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		id, err := uuid.Parse(s)
		if err != nil {
			return nil, err
		}
		return append([]byte(nil), id[:]...), nil
	}
	return nil, fmt.Errorf("unsupported property type %q", p.Type)
}

func encInt(dst []byte, v int64) []byte {
	return binary.BigEndian.AppendUint64(dst, uint64(v)^(1<<63))
}

func encNumber(dst []byte, f float64) []byte {
	if f == 0 {
		f = 0 // -0 and +0 are one value
	}
	b := math.Float64bits(f)
	if b>>63 == 1 {
		b = ^b
	} else {
		b |= 1 << 63
	}
	return binary.BigEndian.AppendUint64(dst, b)
}

func encDate(dst []byte, t time.Time) []byte {
	dst = encInt(dst, t.Unix())
	return binary.BigEndian.AppendUint32(dst, uint32(t.Nanosecond()))
}

func encBool(dst []byte, v bool) []byte {
	if v {
		return append(dst, 1)
	}
	return append(dst, 0)
}

// encText appends the escaped term and its terminator.
func encText(dst []byte, s string) []byte {
	return append(escText(dst, s), 0, 1)
}

// escText appends s with 0x00 escaped as 0x00 0xFF (no terminator): the
// key prefix of every term that starts with s.
func escText(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		dst = append(dst, s[i])
		if s[i] == 0 {
			dst = append(dst, 0xFF)
		}
	}
	return dst
}

// decText reverses encText on a key's value part (terminator included).
func decText(b []byte) string {
	b = b[:len(b)-2]
	if bytes.IndexByte(b, 0) < 0 {
		return string(b)
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		out = append(out, b[i])
		if b[i] == 0 {
			i++ // skip the 0xFF escape
		}
	}
	return string(out)
}

// prefixEnd is the smallest key greater than every key starting with p.
func prefixEnd(p []byte) []byte {
	end := slices.Clone(p)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] != 0xFF {
			end[i]++
			return end[:i+1]
		}
	}
	return nil // no upper bound
}
