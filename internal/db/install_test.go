package db

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"strata/internal/failpoint"
	"strata/internal/schema"
	"strata/internal/sharding"
)

// staged builds a restored class whose staged directory holds an empty
// directory per shard.
func staged(t *testing.T, c *schema.Class, shards ...string) RestoredClass {
	t.Helper()
	dir := filepath.Join(t.TempDir(), c.Class)
	rc := RestoredClass{Class: c, StagedDir: dir}
	if c.MultiTenant() {
		rc.Tenants = map[string]string{}
		for _, s := range shards {
			rc.Tenants[s] = TenantHot
		}
	} else {
		rc.Sharding = sharding.Single(shards[0], "node1")
	}
	for _, s := range shards {
		if err := os.MkdirAll(filepath.Join(dir, s), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return rc
}

// A restored class passes exactly the checks a create of it passes, with
// the create's message, prefixed with the class; nothing is installed.
func TestInstallValidatesLikeCreate(t *testing.T) {
	d := openTest(t, t.TempDir(), false)
	prop := func(name string, dt ...string) []*schema.Property {
		return []*schema.Property{{Name: name, DataType: dt}}
	}
	for name, c := range map[string]*schema.Class{
		"vector index type": {Class: "Bad", VectorIndexType: "bogus"},
		"property name":     {Class: "Bad", Properties: prop("x y", "text")},
		"data type":         {Class: "Bad", Properties: prop("p", "nonsense")},
		"reference target":  {Class: "Bad", Properties: prop("p", "Missing")},
		"distance":          {Class: "Bad", VectorIndexConfig: map[string]any{"distance": "euclid"}},
		"vectorizer":        {Class: "Bad", Vectorizer: "text2vec-nope"},
		"reserved property": {Class: "Bad", Properties: prop("id", "text")},
	} {
		t.Run(name, func(t *testing.T) {
			_, createErr := d.CreateClass(c)
			if createErr == nil {
				t.Fatal("create accepted the class")
			}
			rc := staged(t, c, "s1")
			for what, err := range map[string]error{
				"check":   d.CheckInstall([]RestoredClass{rc}),
				"install": d.InstallClasses(context.Background(), []RestoredClass{rc}),
			} {
				if want := `class "Bad": ` + createErr.Error(); err == nil || err.Error() != want || KindOf(err) != KindInvalid {
					t.Errorf("%s: error %v, want %q", what, err, want)
				}
			}
			if d.ClassExists("Bad") {
				t.Fatal("invalid class installed")
			}
			if _, err := os.Stat(filepath.Join(rc.StagedDir, "s1")); err != nil {
				t.Fatalf("staged data moved: %v", err)
			}
		})
	}
}

func TestInstallRefusesNamesACreateWouldNotStore(t *testing.T) {
	d := openTest(t, t.TempDir(), false)
	for _, tc := range []struct {
		class *schema.Class
		want  string
	}{
		{&schema.Class{Class: "Doc", Properties: []*schema.Property{{Name: "Title", DataType: []string{"text"}}}},
			`class "Doc": property name "Title" is not in normal form ("title")`},
		{&schema.Class{Class: "doc"}, `class "doc": class name "doc" is not in normal form ("Doc")`},
	} {
		err := d.InstallClasses(context.Background(), []RestoredClass{staged(t, tc.class, "s1")})
		if err == nil || err.Error() != tc.want {
			t.Errorf("error %v, want %q", err, tc.want)
		}
	}
	// Nested names are stored as given (auto-schema keeps their case).
	nested := &schema.Class{Class: "Doc", Properties: []*schema.Property{{Name: "o", DataType: []string{"object"},
		NestedProperties: []*schema.Property{{Name: "Inner", DataType: []string{"int"}}}}}}
	if err := d.InstallClasses(context.Background(), []RestoredClass{staged(t, nested, "s1")}); err != nil {
		t.Fatalf("nested property name as auto-schema stores it: %v", err)
	}
	if got, err := d.GetClass("Doc"); err != nil || got.Properties[0].NestedProperties[0].Name != "Inner" {
		t.Fatalf("nested property renamed by the install: %+v %v", got, err)
	}
}

// Cross-references between the classes of one restore resolve; a
// reference to a class neither restored nor present does not.
func TestInstallResolvesReferencesWithinTheRestore(t *testing.T) {
	d := openTest(t, t.TempDir(), false)
	a := &schema.Class{Class: "Author", Properties: []*schema.Property{{Name: "wrote", DataType: []string{"Book"}}}}
	b := &schema.Class{Class: "Book", Properties: []*schema.Property{{Name: "by", DataType: []string{"Author"}}}}
	if err := d.InstallClasses(context.Background(), []RestoredClass{staged(t, a, "s1")}); err == nil ||
		!strings.Contains(err.Error(), `class "Author": property 'wrote': invalid dataType`) {
		t.Fatalf("reference to a missing class: %v", err)
	}
	if err := d.InstallClasses(context.Background(), []RestoredClass{staged(t, a, "s1"), staged(t, b, "s2")}); err != nil {
		t.Fatalf("mutual references: %v", err)
	}
	got, err := d.GetClass("Book")
	if err != nil || got.VectorIndexType != "hnsw" || got.Properties[0].IndexFilterable == nil {
		t.Fatalf("installed class lacks a create's defaults: %+v %v", got, err)
	}
}

func TestInstallRefusesMismatchedShards(t *testing.T) {
	d := openTest(t, t.TempDir(), false)
	plain := staged(t, &schema.Class{Class: "Plain"}, "s1")
	if err := os.Mkdir(filepath.Join(plain.StagedDir, "other"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := d.InstallClasses(context.Background(), []RestoredClass{plain}); err == nil ||
		err.Error() != `class "Plain": staged data "other" is not a shard of the class` {
		t.Fatalf("extra staged shard: %v", err)
	}
	mt := &schema.Class{Class: "Multi", MultiTenancyConfig: &schema.MultiTenancyConfig{Enabled: true}}
	rc := staged(t, mt, "t1")
	rc.Sharding = sharding.Single("t1", "node1")
	if err := d.InstallClasses(context.Background(), []RestoredClass{rc}); err == nil ||
		err.Error() != `class "Multi": multi-tenant class with a sharding state of 1 shards` {
		t.Fatalf("single shard on a multi-tenant class: %v", err)
	}
	rc = staged(t, mt, "t1")
	rc.Tenants["t1"] = "FROZEN"
	if err := d.InstallClasses(context.Background(), []RestoredClass{rc}); err == nil || !strings.Contains(err.Error(), `tenant "t1" has status "FROZEN"`) {
		t.Fatalf("unsupported tenant status: %v", err)
	}
	if d.ClassExists("Plain") || d.ClassExists("Multi") {
		t.Fatal("class installed despite mismatched shards")
	}
}

// While a restore installs "Article", no class of that name up to case can
// be created, and two restored classes cannot share one.
func TestInstallReservesNamesUpToCase(t *testing.T) {
	d := openTest(t, t.TempDir(), false)
	var created []string
	var errs []string
	defer failpoint.SetHook(func(point string) {
		if point != failpoint.RestoreReserved {
			return
		}
		for _, name := range []string{"ARTICLE", "article", "ArTiClE"} {
			if _, err := d.CreateClass(&schema.Class{Class: name}); err != nil {
				errs = append(errs, err.Error())
			} else {
				created = append(created, name)
			}
		}
		if !d.ClassExists("ARTICLE") {
			errs = append(errs, "ClassExists(ARTICLE) is false during the install")
		}
	})()
	if err := d.InstallClasses(context.Background(), []RestoredClass{staged(t, &schema.Class{Class: "Article"}, "s1")}); err != nil {
		t.Fatal(err)
	}
	if len(created) > 0 {
		t.Fatalf("created %v while Article was being restored", created)
	}
	want := []string{
		`class name "ARTICLE" already exists as a similar class "Article": it is being restored from a backup`,
		`class name Article already exists: it is being restored from a backup`,
		`class name "ArTiClE" already exists as a similar class "Article": it is being restored from a backup`,
	}
	if strings.Join(errs, "\n") != strings.Join(want, "\n") {
		t.Fatalf("creates during the install:\n%s\nwant\n%s", strings.Join(errs, "\n"), strings.Join(want, "\n"))
	}
	if names := d.ClassNames(); len(names) != 1 || names[0] != "Article" {
		t.Fatalf("classes after the install: %v", names)
	}

	err := d.InstallClasses(context.Background(), []RestoredClass{
		staged(t, &schema.Class{Class: "Book"}, "s1"), staged(t, &schema.Class{Class: "BOOK"}, "s2")})
	if err == nil || err.Error() != `class "BOOK": class name "BOOK" is restored twice (as "Book" too)` {
		t.Fatalf("two similar classes in one restore: %v", err)
	}
	err = d.InstallClasses(context.Background(), []RestoredClass{staged(t, &schema.Class{Class: "ARTICLE"}, "s1")})
	if err == nil || err.Error() != `class "ARTICLE": class name "ARTICLE" already exists as a similar class "Article"` {
		t.Fatalf("restore of a class similar to an existing one: %v", err)
	}
}
