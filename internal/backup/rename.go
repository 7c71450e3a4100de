package backup

import (
	"strings"

	"strata/internal/apperr"
	"strata/internal/schema"
)

// restoreTargets is the name each restored class is installed under: its
// own, or the one a restore's "rename" gives it ({"Old": "New"}). A key
// that is not a class being restored, a name that is not a valid class
// name, and two classes landing on the same (or a similar) name are 422.
// Whether a target exists in the database is checked with the rest of
// the install.
func restoreTargets(classes []string, rename map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(classes))
	for _, c := range classes {
		out[c] = c
	}
	for _, from := range sortedKeys(rename) {
		if _, ok := out[from]; !ok {
			return nil, apperr.Invalidf("rename: class %q is not restored from this backup (restoring %v)", from, classes)
		}
		to := schema.NormalizeClassName(rename[from])
		if !schema.ValidClassName(to) {
			return nil, apperr.Invalidf("rename: %q is not a valid class name (for class %q)", rename[from], from)
		}
		out[from] = to
	}
	seen := map[string]string{}
	for _, c := range classes {
		key := strings.ToLower(out[c])
		if other, dup := seen[key]; dup {
			return nil, apperr.Invalidf("rename: classes %q and %q would both be restored as %q", other, c, out[c])
		}
		seen[key] = c
	}
	return out, nil
}
