package crypt

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"strings"
	"testing"
)

func testKey(t *testing.T, b byte) *Key {
	t.Helper()
	k, err := ParseKey(strings.Repeat(string("0123456789abcdef"[b%16]), 64))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func seal(t *testing.T, k *Key, plain []byte) []byte {
	t.Helper()
	out, err := io.ReadAll(k.Encrypt(bytes.NewReader(plain)))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func open(k *Key, sealed []byte) ([]byte, error) {
	// Small reads, to cross every boundary.
	var out bytes.Buffer
	r := k.Decrypt(bytes.NewReader(sealed))
	buf := make([]byte, 7777)
	for {
		n, err := r.Read(buf)
		out.Write(buf[:n])
		if err == io.EOF {
			return out.Bytes(), nil
		}
		if err != nil {
			return nil, err
		}
	}
}

func TestRoundTrip(t *testing.T) {
	k := testKey(t, 1)
	for _, size := range []int{0, 1, segmentSize - 1, segmentSize, segmentSize + 1, 3 * segmentSize, 3*segmentSize + 12345} {
		plain := make([]byte, size)
		rand.Read(plain)
		sealed := seal(t, k, plain)
		if want := len(magic) + saltSize + size + tagSize*max(1, (size+segmentSize-1)/segmentSize); len(sealed) != want {
			t.Fatalf("size %d: sealed %d bytes, want %d", size, len(sealed), want)
		}
		if size > 16 && bytes.Contains(sealed, plain[:16]) {
			t.Fatalf("size %d: plaintext in the sealed object", size)
		}
		got, err := open(k, sealed)
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("size %d: round trip: %v (%d bytes back)", size, err, len(got))
		}
		if again := seal(t, k, plain); bytes.Equal(again, sealed) {
			t.Fatalf("size %d: two encryptions are equal (no fresh salt)", size)
		}
	}
}

// Every change is found: another key, a flipped byte anywhere, a cut at a
// segment boundary or within, segments swapped, bytes appended.
func TestTamperingFails(t *testing.T) {
	k := testKey(t, 2)
	plain := make([]byte, 3*segmentSize+100)
	rand.Read(plain)
	sealed := seal(t, k, plain)
	seg := segmentSize + tagSize
	head := len(magic) + saltSize
	cases := map[string][]byte{
		"flipped header byte": flip(sealed, 10),
		"flipped first byte":  flip(sealed, head),
		"flipped last byte":   flip(sealed, len(sealed)-1),
		"cut at a boundary":   sealed[:head+2*seg],
		"cut within":          sealed[:head+seg+100],
		"cut to the header":   sealed[:head],
		"appended":            append(bytes.Clone(sealed), 0),
		"swapped segments":    append(append(append(bytes.Clone(sealed[:head]), sealed[head+seg:head+2*seg]...), sealed[head:head+seg]...), sealed[head+2*seg:]...),
		"not encrypted":       plain,
	}
	for name, bad := range cases {
		if _, err := open(k, bad); !errors.Is(err, ErrDecrypt) {
			t.Errorf("%s: %v, want ErrDecrypt", name, err)
		}
	}
	if _, err := open(testKey(t, 3), sealed); !errors.Is(err, ErrDecrypt) {
		t.Errorf("another key: %v", err)
	}
}

func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 1
	return c
}

func TestParseKey(t *testing.T) {
	hexKey := strings.Repeat("ab", 32)
	k1, err := ParseKey(hexKey)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := ParseKey("q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=") // the same 32 bytes, base64
	if err != nil || k1.Check() != k2.Check() {
		t.Fatalf("base64 key: %v", err)
	}
	if k1.Check() == testKey(t, 4).Check() {
		t.Fatal("two keys have the same check value")
	}
	for _, bad := range []string{"", "abcd", strings.Repeat("zz", 32), strings.Repeat("ab", 31)} {
		if _, err := ParseKey(bad); err == nil {
			t.Errorf("key %q accepted", bad)
		}
	}
}

// BenchmarkCrypt measures encryption and decryption throughput.
func BenchmarkCrypt(b *testing.B) {
	k, _ := ParseKey(strings.Repeat("11", 32))
	plain := make([]byte, 32<<20)
	rand.Read(plain)
	sealed, _ := io.ReadAll(k.Encrypt(bytes.NewReader(plain)))
	b.Run("encrypt", func(b *testing.B) {
		b.SetBytes(int64(len(plain)))
		for b.Loop() {
			io.Copy(io.Discard, k.Encrypt(bytes.NewReader(plain)))
		}
	})
	b.Run("decrypt", func(b *testing.B) {
		b.SetBytes(int64(len(plain)))
		for b.Loop() {
			if _, err := io.Copy(io.Discard, k.Decrypt(bytes.NewReader(sealed))); err != nil {
				b.Fatal(err)
			}
		}
	})
}
