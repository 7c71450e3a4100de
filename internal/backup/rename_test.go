package backup

import (
	"context"
	"strings"
	"testing"

	"strata/internal/apperr"
)

// TestRestoreWithRename: a class restored under a new name sits next to
// the live one, with the same objects; the live class is untouched. A
// rename of a class not restored, an invalid name, two classes onto one
// name are 422; a name that exists fails the restore as an existing class
// does.
func TestRestoreWithRename(t *testing.T) {
	f := newFixture(t)
	want := f.addObjects(t, "Article", 300, 16)
	f.addObjects(t, "Other", 20, 4)
	f.backup(t, CreateRequest{ID: "n1"})
	f.addObjects(t, "Article", 10, 16) // the live class moves on
	live := f.objects(t, "Article")
	ctx := context.Background()

	info := f.restore(t, RestoreRequest{ID: "n1", Include: []string{"Article"}, Rename: map[string]string{"Article": "articleCopy"}})
	if info.Status != StatusSuccess {
		t.Fatalf("restore with rename: %+v", info)
	}
	sameObjects(t, want, f.objects(t, "ArticleCopy"))
	sameObjects(t, live, f.objects(t, "Article"))
	if c, err := f.db.GetClass("ArticleCopy"); err != nil || c.Class != "ArticleCopy" {
		t.Fatalf("the renamed class: %+v, %v", c, err)
	}

	for rename, msg := range map[string]map[string]string{
		`class "Missing" is not restored`:      {"Missing": "X"},
		`"9lives" is not a valid class name`:   {"Article": "9lives"},
		`would both be restored as "Article2"`: {"Article": "Article2", "Other": "article2"},
	} {
		_, err := f.mgr.Restore(ctx, "filesystem", RestoreRequest{ID: "n1", Rename: msg})
		if apperr.KindOf(err) != apperr.Invalid || !strings.Contains(err.Error(), rename) {
			t.Fatalf("rename %v: %v, want 422 with %q", msg, err, rename)
		}
	}
	info = f.restore(t, RestoreRequest{ID: "n1", Include: []string{"Other"}, Rename: map[string]string{"Other": "Article"}})
	if info.Status != StatusFailed || !strings.Contains(info.Error, "class name Article already exists") {
		t.Fatalf("rename onto a live class: %+v", info)
	}
	sameObjects(t, live, f.objects(t, "Article"))
}
