package shard

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	"github.com/google/uuid"
)

// DeleteMany removes objects in one synced batch, as Delete removes one,
// and returns how many of them existed. Absent ids are skipped.
func (s *Shard) DeleteMany(ids []uuid.UUID) (int, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if s.isClosed() {
		return 0, ErrClosed
	}
	if err := s.ensureIndexesLocked(); err != nil {
		return 0, err
	}
	b := s.db.NewBatch()
	defer b.Close()
	var changes []vectorChange
	seen := make(map[uuid.UUID]bool, len(ids))
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		old, err := s.get(id, true)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return 0, err
		}
		if err := b.Delete(objectKey(id), nil); err != nil {
			return 0, fmt.Errorf("delete objects: %w", err)
		}
		if err := s.indexProps(b, old, nil); err != nil {
			return 0, err
		}
		changes = append(changes, vectorChange{id: id, old: old})
	}
	if len(changes) == 0 {
		return 0, nil
	}
	if err := b.Set(metaCount, binary.AppendUvarint(nil, uint64(s.count-len(changes))), nil); err != nil {
		return 0, fmt.Errorf("delete objects: %w", err)
	}
	if err := s.applyVectors(b, changes); err != nil {
		s.dropIndexes()
		return 0, err
	}
	if err := b.Commit(pebble.Sync); err != nil {
		s.dropIndexes()
		return 0, fmt.Errorf("delete objects: %w", err)
	}
	s.afterCommit()
	s.mu.Lock()
	s.count -= len(changes)
	s.mu.Unlock()
	return len(changes), nil
}
