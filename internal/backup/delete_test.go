package backup

import (
	"context"
	"strings"
	"testing"
	"time"

	"strata/internal/apperr"
	"strata/internal/blob"
	"strata/internal/blob/mem"
)

// keysUnder lists the store's keys under a backup's prefix.
func keysUnder(t *testing.T, st blob.Store, id string) []string {
	t.Helper()
	var keys []string
	if err := st.List(context.Background(), id+"/", func(a blob.Attrs) error {
		keys = append(keys, a.Key)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return keys
}

// TestDeleteBackup: a delete removes every object of the backup and only
// its; the other backups restore as before. An unknown backup is
// NotFound, a second delete too; a backup that has not ended is refused.
func TestDeleteBackup(t *testing.T) {
	f := newFixture(t)
	want := f.addObjects(t, "Article", 300, 16)
	f.backup(t, CreateRequest{ID: "d1"})
	f.backup(t, CreateRequest{ID: "d10"}) // shares the prefix "d1" as a string
	ctx := context.Background()
	if len(keysUnder(t, f.store, "d1")) < 3 {
		t.Fatalf("backup d1 has too few objects: %v", keysUnder(t, f.store, "d1"))
	}
	if err := f.mgr.Delete(ctx, "filesystem", "d1", "", ""); err != nil {
		t.Fatal(err)
	}
	if left := keysUnder(t, f.store, "d1"); len(left) != 0 {
		t.Fatalf("left after the delete: %v", left)
	}
	if err := f.mgr.Delete(ctx, "filesystem", "d1", "", ""); apperr.KindOf(err) != apperr.NotFound {
		t.Fatalf("second delete: %v", err)
	}
	if _, err := f.mgr.CreateStatus(ctx, "filesystem", "d1", "", ""); apperr.KindOf(err) != apperr.NotFound {
		t.Fatalf("status of a deleted backup: %v", err)
	}
	if err := f.db.DeleteClass("Article"); err != nil {
		t.Fatal(err)
	}
	if info := f.restore(t, RestoreRequest{ID: "d10"}); info.Status != StatusSuccess {
		t.Fatalf("restore of the other backup: %+v", info)
	}
	sameObjects(t, want, f.objects(t, "Article"))

	// A descriptor that says the backup is still transferring (a cluster
	// backup under way) is refused.
	putJSON(ctx, f.store, "d2/backup_config.json", &Descriptor{ID: "d2", Status: StatusTransferring})
	if err := f.mgr.Delete(ctx, "filesystem", "d2", "", ""); apperr.KindOf(err) != apperr.Invalid || !strings.Contains(err.Error(), "TRANSFERRING") {
		t.Fatalf("delete of a backup under way: %v", err)
	}
}

// TestRetention: after each successful backup the configured policy
// deletes the successful backups beyond the newest KeepLast; on request a
// policy is applied the same way; a policy of neither rule keeps all.
func TestRetention(t *testing.T) {
	st := mem.New()
	f := openFixture(t, st, st, func(o *Options) { o.Retention = Retention{KeepLast: 2} })
	m := f.mgr
	f.addObjects(t, "Article", 50, 4)
	ctx := context.Background()
	ids := func() []string {
		infos, err := m.List(ctx, "filesystem", "asc")
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, in := range infos {
			out = append(out, in.ID)
		}
		return out
	}
	for _, id := range []string{"r1", "r2", "r3", "r4"} {
		f.backup(t, CreateRequest{ID: id})
	}
	// Retention runs right after each SUCCESS is stored.
	deadline := time.Now().Add(10 * time.Second)
	for strings.Join(ids(), ",") != "r3,r4" {
		if time.Now().After(deadline) {
			t.Fatalf("after four backups keeping the last two: %v", ids())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if len(keysUnder(t, st, "r1")) != 0 {
		t.Fatal("r1's objects are left")
	}
	if deleted, err := m.ApplyRetention(ctx, "filesystem", Retention{}); err != nil || len(deleted) != 0 {
		t.Fatalf("an empty policy: %v, %v", deleted, err)
	}
	// Backups started within the window are kept whatever their number.
	if deleted, err := m.ApplyRetention(ctx, "filesystem", Retention{KeepLast: 1, KeepWithin: time.Hour}); err != nil || len(deleted) != 0 {
		t.Fatalf("keep the last hour's: deleted %v, %v", deleted, err)
	}
	deleted, err := m.ApplyRetention(ctx, "filesystem", Retention{KeepLast: 1})
	if err != nil || strings.Join(deleted, ",") != "r3" || strings.Join(ids(), ",") != "r4" {
		t.Fatalf("keep the last one: deleted %v (%v), left %v", deleted, err, ids())
	}
	if _, err := m.ApplyRetention(ctx, "filesystem", Retention{KeepLast: -1}); apperr.KindOf(err) != apperr.Invalid {
		t.Fatalf("a negative policy: %v", err)
	}
}
