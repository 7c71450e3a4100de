package backup

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"

	"strata/internal/apperr"
	"strata/internal/backup/crypt"
	"strata/internal/backup/layout"
	"strata/internal/blob"
	"strata/internal/blob/mem"
	"strata/internal/db"
	"strata/internal/schema"
)

const marker = "plaintext-marker-7f3a"

// encFixture is a server with key (nil: none) backing up to st.
func encFixture(t *testing.T, st *mem.Store, key *crypt.Key) *fixture {
	t.Helper()
	return openFixture(t, st, st, func(o *Options) { o.Encryption = key })
}

func addMarked(t *testing.T, f *fixture) {
	t.Helper()
	if _, err := f.db.CreateClass(&schema.Class{Class: "Secret", Properties: []*schema.Property{{Name: "text", DataType: []string{"text"}}}}); err != nil {
		t.Fatal(err)
	}
	var ins []*db.ObjectInput
	for i := range 200 {
		ins = append(ins, &db.ObjectInput{Class: "Secret", GenerateID: true, RawProperties: json.RawMessage(fmt.Sprintf(`{"text":"%s %d"}`, marker, i)),
			Vector: []float32{float32(i), 1, 2}})
	}
	if _, err := f.db.PutObjects(context.Background(), ins); err != nil {
		t.Fatal(err)
	}
}

// storedWith lists the stored objects of backup id holding text.
func storedWith(t *testing.T, st blob.Store, id, text string) []string {
	t.Helper()
	var found []string
	err := st.List(context.Background(), id+"/", func(a blob.Attrs) error {
		rc, err := st.Get(context.Background(), a.Key)
		if err != nil {
			return err
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		if bytes.Contains(b, []byte(text)) {
			found = append(found, a.Key)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// TestEncryptedBackup: with a key, no chunk or manifest holds plaintext
// (without one, an uncompressed backup does); the same key restores every
// object and verifies every byte; another key, or none, is refused before
// anything is downloaded, naming the problem.
func TestEncryptedBackup(t *testing.T) {
	key, err := crypt.ParseKey(strings.Repeat("5a", 32))
	if err != nil {
		t.Fatal(err)
	}
	st := mem.New()
	f := encFixture(t, st, key)
	addMarked(t, f)
	want := f.objects(t, "Secret")
	f.backup(t, CreateRequest{ID: "plain-check", CompressionLevel: "NoCompression"})
	for _, text := range []string{marker, `"Secret"`, `"chunkInfo"`} {
		if found := storedWith(t, st, "plain-check", text); len(found) != 0 && !(text == `"Secret"` && len(found) == 1 && found[0] == layout.BackupDescriptor("plain-check")) {
			t.Fatalf("%q in the encrypted backup's objects: %v", text, found)
		}
	}
	var d Descriptor
	readJSONKey(t, st, layout.BackupDescriptor("plain-check"), &d)
	if d.Encryption == nil || d.Encryption.Algorithm != crypt.Algorithm || d.Encryption.KeyCheck != key.Check() {
		t.Fatalf("descriptor encryption: %+v", d.Encryption)
	}
	ctx := context.Background()
	if rep, err := f.mgr.Verify(ctx, "filesystem", "plain-check", "", "", VerifyFull); err != nil || !rep.OK {
		t.Fatalf("verify with the key: %+v, %v", rep, err)
	}

	// Control: the same backup without a key holds the plaintext.
	other := mem.New()
	g := encFixture(t, other, nil)
	addMarked(t, g)
	g.backup(t, CreateRequest{ID: "plain-check", CompressionLevel: "NoCompression"})
	if len(storedWith(t, other, "plain-check", marker)) == 0 {
		t.Fatal("the control backup holds no plaintext: the check above proves nothing")
	}

	// Another key, or none: refused at once.
	wrong, _ := crypt.ParseKey(strings.Repeat("a5", 32))
	for name, k := range map[string]*crypt.Key{"another key": wrong, "no key": nil} {
		h := encFixture(t, st, k)
		_, err := h.mgr.Restore(ctx, "filesystem", RestoreRequest{ID: "plain-check"})
		if apperr.KindOf(err) != apperr.Invalid || !strings.Contains(err.Error(), "encrypted") {
			t.Fatalf("%s: %v", name, err)
		}
		if rep, err := h.mgr.Verify(ctx, "filesystem", "plain-check", "", "", VerifyMetadata); err != nil || rep.OK {
			t.Fatalf("%s: verify: %+v, %v", name, rep, err)
		}
		if h.db.ClassExists("Secret") {
			t.Fatalf("%s: a class was installed", name)
		}
	}

	// The same key elsewhere restores every object.
	h := encFixture(t, st, key)
	if info := h.restore(t, RestoreRequest{ID: "plain-check"}); info.Status != StatusSuccess {
		t.Fatalf("restore with the key: %+v", info)
	}
	sameObjects(t, want, h.objects(t, "Secret"))

	// A flipped byte in an encrypted chunk is found.
	chunk := layout.Chunk("plain-check", "node1", "Secret", 1)
	b := readAll(t, f, chunk)
	b[len(b)/2] ^= 1
	if err := st.Put(ctx, chunk, bytes.NewReader(b), int64(len(b))); err != nil {
		t.Fatal(err)
	}
	if rep, err := f.mgr.Verify(ctx, "filesystem", "plain-check", "", "", VerifyFull); err != nil || rep.OK || rep.Problems[0].File != chunk {
		t.Fatalf("verify of a damaged encrypted chunk: %+v, %v", rep, err)
	}
}

// TestPartRefusesAnotherKey: a node of a cluster backup whose key differs
// from the coordinator's refuses its part, naming the variable.
func TestPartRefusesAnotherKey(t *testing.T) {
	key, _ := crypt.ParseKey(strings.Repeat("5a", 32))
	f := encFixture(t, mem.New(), key)
	addMarked(t, f)
	req := PartRequest{ID: "p1", Backend: "filesystem", Classes: []string{"Secret"}, KeyCheck: "0123"}
	if err := f.mgr.PreparePart(context.Background(), req); apperr.KindOf(err) != apperr.Invalid || !strings.Contains(err.Error(), "STRATA_BACKUP_ENCRYPTION_KEY") {
		t.Fatalf("another key: %v", err)
	}
	req.KeyCheck = key.Check()
	if err := f.mgr.PreparePart(context.Background(), req); err != nil {
		t.Fatalf("the same key: %v", err)
	}
	f.mgr.AbortPart("p1", "test over")
}
