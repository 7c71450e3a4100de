// Package crypt encrypts backup objects at rest: AES-256-GCM over a
// stream cut into 64 KiB segments (the STREAM construction, as age does),
// so that objects of any size are encrypted and checked with bounded
// memory. Each object has its own key, derived with HKDF-SHA256 from the
// backup key and a random salt in the object's header; a segment's nonce
// is its index and a flag for the last one, so segments cannot be
// reordered, dropped or cut off without the decryption failing.
//
// Object layout: "STRATAE1" | 32-byte salt | segments, each up to 64 KiB
// of plaintext sealed (+16 bytes of tag).
package crypt

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Algorithm names the scheme in backup descriptors.
const Algorithm = "AES-256-GCM-STREAM-64K"

const (
	magic       = "STRATAE1"
	saltSize    = 32
	segmentSize = 64 << 10
	tagSize     = 16
)

// ErrDecrypt is wrapped by every failure to decrypt: a wrong key, or
// data that was changed, cut or reordered.
var ErrDecrypt = errors.New("cannot decrypt: wrong key, or damaged data")

// Key is a backup encryption key (32 bytes).
type Key struct{ k [32]byte }

// ParseKey reads a key written as 64 hex digits or as base64 of 32 bytes.
func ParseKey(s string) (*Key, error) {
	s = strings.TrimSpace(s)
	var raw []byte
	if b, err := hex.DecodeString(s); err == nil && len(b) == 32 {
		raw = b
	} else if b, err := base64.StdEncoding.DecodeString(s); err == nil && len(b) == 32 {
		raw = b
	} else if b, err := base64.RawURLEncoding.DecodeString(s); err == nil && len(b) == 32 {
		raw = b
	} else {
		return nil, errors.New("an encryption key is 32 bytes, written as 64 hex digits or in base64 (openssl rand -hex 32)")
	}
	k := &Key{}
	copy(k.k[:], raw)
	return k, nil
}

// Check is a value that identifies the key without revealing it, kept in
// a backup's descriptor so that a restore with another key fails before
// it downloads anything.
func (k *Key) Check() string {
	m := hmac.New(sha256.New, k.k[:])
	m.Write([]byte("strata backup key check"))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// aead derives the key of the object whose header has salt.
func (k *Key) aead(salt []byte) (cipher.AEAD, error) {
	key, err := hkdf.Key(sha256.New, k.k[:], salt, "strata backup object", 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func nonce(dst []byte, index uint64, final bool) []byte {
	dst = dst[:12]
	clear(dst)
	binary.BigEndian.PutUint64(dst[3:11], index)
	if final {
		dst[11] = 1
	}
	return dst
}

// Encrypt returns a reader of src encrypted.
func (k *Key) Encrypt(src io.Reader) io.Reader {
	e := &encrypter{src: src}
	salt := make([]byte, saltSize)
	if _, err := rand.Read(salt); err != nil {
		e.err = err
		return e
	}
	e.aead, e.err = k.aead(salt)
	e.out = append([]byte(magic), salt...)
	e.cur = make([]byte, 0, segmentSize)
	e.next = make([]byte, segmentSize)
	e.sealed = make([]byte, 0, segmentSize+tagSize)
	return e
}

type encrypter struct {
	src    io.Reader
	aead   cipher.AEAD
	out    []byte // ready to be read
	cur    []byte // the segment being read ahead of
	next   []byte // buffer for the segment after it
	sealed []byte
	nonce  [12]byte
	index  uint64
	primed bool // cur holds the first segment
	done   bool // the final segment was sealed
	err    error
}

func (e *encrypter) Read(p []byte) (int, error) {
	for len(e.out) == 0 {
		if e.err != nil {
			return 0, e.err
		}
		if e.done {
			return 0, io.EOF
		}
		e.err = e.seal()
	}
	n := copy(p, e.out)
	e.out = e.out[n:]
	return n, nil
}

// seal seals the next segment: it reads the one after to know whether
// this one is the last.
func (e *encrypter) seal() error {
	if !e.primed {
		n, err := io.ReadFull(e.src, e.cur[:segmentSize])
		if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
			return err
		}
		e.cur, e.primed = e.cur[:n], true
	}
	final := len(e.cur) < segmentSize
	var n int
	if !final {
		var err error
		n, err = io.ReadFull(e.src, e.next)
		if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
			return err
		}
		final = n == 0
	}
	e.sealed = e.aead.Seal(e.sealed[:0], nonce(e.nonce[:], e.index, final), e.cur, nil)
	e.out = e.sealed
	e.index++
	if final {
		e.done = true
		return nil
	}
	e.cur, e.next = e.next[:n], e.cur[:segmentSize]
	return nil
}

// Decrypt returns a reader of src decrypted; reading fails with
// ErrDecrypt if src was not encrypted with this key or was changed.
func (k *Key) Decrypt(src io.Reader) io.Reader {
	return &decrypter{k: k, src: src}
}

type decrypter struct {
	k      *Key
	src    io.Reader
	aead   cipher.AEAD
	buf    []byte
	plain  []byte
	out    []byte
	nonce  [12]byte
	index  uint64
	peeked []byte // bytes read past a full segment
	done   bool
	err    error
}

func (d *decrypter) Read(p []byte) (int, error) {
	for len(d.out) == 0 {
		if d.err != nil {
			return 0, d.err
		}
		if d.done {
			return 0, io.EOF
		}
		d.err = d.open()
	}
	n := copy(p, d.out)
	d.out = d.out[n:]
	return n, nil
}

func (d *decrypter) open() error {
	if d.aead == nil {
		head := make([]byte, len(magic)+saltSize)
		if _, err := io.ReadFull(d.src, head); err != nil {
			return fmt.Errorf("%w: no encryption header (%v)", ErrDecrypt, err)
		}
		if !bytes.Equal(head[:len(magic)], []byte(magic)) {
			return fmt.Errorf("%w: not an encrypted backup object", ErrDecrypt)
		}
		aead, err := d.k.aead(head[len(magic):])
		if err != nil {
			return err
		}
		d.aead = aead
		d.buf = make([]byte, segmentSize+tagSize)
		d.plain = make([]byte, 0, segmentSize)
	}
	have := copy(d.buf, d.peeked) // the byte read past the last segment
	d.peeked = d.peeked[:0]
	n, err := io.ReadFull(d.src, d.buf[have:])
	n += have
	switch {
	case n == 0:
		return fmt.Errorf("%w: the object is cut short", ErrDecrypt)
	case err != nil && err != io.EOF && err != io.ErrUnexpectedEOF:
		return err
	}
	seg := d.buf[:n]
	if n == len(d.buf) {
		// A full segment: the last one only if nothing follows.
		var one [1]byte
		m, err := io.ReadFull(d.src, one[:])
		if err != nil && err != io.EOF {
			return err
		}
		if m == 0 {
			return d.openSegment(seg, true)
		}
		if err := d.openSegment(seg, false); err != nil {
			return err
		}
		d.peeked = append(d.peeked, one[0])
		return nil
	}
	return d.openSegment(seg, true)
}

func (d *decrypter) openSegment(seg []byte, final bool) error {
	plain, err := d.aead.Open(d.plain[:0], nonce(d.nonce[:], d.index, final), seg, nil)
	if err != nil {
		return fmt.Errorf("%w (segment %d)", ErrDecrypt, d.index)
	}
	d.index++
	d.out = plain
	d.done = final
	return nil
}
