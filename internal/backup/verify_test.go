package backup

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"strata/internal/apperr"
	"strata/internal/backup/layout"
)

// TestVerify: a sound backup verifies in both modes; a flipped byte is
// found by a full verify (the sizes still match), a truncated chunk and a
// missing one by both, a missing manifest too — each problem naming the
// object; an unknown backup is NotFound and an unknown mode 422.
func TestVerify(t *testing.T) {
	f := newFixture(t)
	f.addObjects(t, "Article", 400, 32)
	f.addObjects(t, "Other", 50, 8)
	f.backup(t, CreateRequest{ID: "v1"})
	ctx := context.Background()
	verify := func(mode string) VerifyReport {
		t.Helper()
		rep, err := f.mgr.Verify(ctx, "filesystem", "v1", "", "", mode)
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	for _, mode := range []string{"", VerifyMetadata, VerifyFull} {
		rep := verify(mode)
		if !rep.OK || rep.Chunks < 2 || rep.Files == 0 || rep.Bytes == 0 || len(rep.Problems) != 0 {
			t.Fatalf("sound backup, mode %q: %+v", mode, rep)
		}
	}
	key := layout.Chunk("v1", "node1", "Article", 1)
	orig := readAll(t, f, key)
	put := func(b []byte) {
		t.Helper()
		if err := f.store.Put(ctx, key, bytes.NewReader(b), int64(len(b))); err != nil {
			t.Fatal(err)
		}
	}
	expect := func(what, mode, want string) {
		t.Helper()
		rep := verify(mode)
		if rep.OK || len(rep.Problems) != 1 || rep.Problems[0].File != key || !strings.Contains(rep.Problems[0].Error, want) {
			t.Fatalf("%s, mode %s: %+v", what, mode, rep)
		}
	}

	flipped := bytes.Clone(orig)
	flipped[len(flipped)/2] ^= 0x01
	put(flipped)
	if rep := verify(VerifyMetadata); !rep.OK {
		t.Fatalf("a flipped byte keeps the size; metadata mode found: %+v", rep)
	}
	expect("flipped byte", VerifyFull, "")

	put(orig[:len(orig)-100])
	expect("truncated", VerifyMetadata, "size")
	expect("truncated", VerifyFull, "size")

	if err := f.store.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	expect("missing", VerifyMetadata, "missing")
	expect("missing", VerifyFull, "missing")
	put(orig)
	if rep := verify(VerifyFull); !rep.OK {
		t.Fatalf("repaired: %+v", rep)
	}

	manifest := layout.NodeManifest("v1", "node1")
	if err := f.store.Delete(ctx, manifest); err != nil {
		t.Fatal(err)
	}
	if rep := verify(VerifyMetadata); rep.OK || len(rep.Problems) != 1 || rep.Problems[0].File != manifest {
		t.Fatalf("missing manifest: %+v", rep)
	}

	if _, err := f.mgr.Verify(ctx, "filesystem", "nope", "", "", VerifyFull); apperr.KindOf(err) != apperr.NotFound {
		t.Fatalf("unknown backup: %v", err)
	}
	if _, err := f.mgr.Verify(ctx, "filesystem", "v1", "", "", "deep"); apperr.KindOf(err) != apperr.Invalid || !strings.Contains(err.Error(), "mode") {
		t.Fatalf("unknown mode: %v", err)
	}
}

func readAll(t *testing.T, f *fixture, key string) []byte {
	t.Helper()
	rc, err := f.store.Get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
