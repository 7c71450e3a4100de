package config

import (
	"strings"
	"testing"
)

// TestClusterHostnameIsValidatedLikeABackupPathSegment: a node name that
// would leave its backup's directory (or is too long for a key) stops the
// start-up with an error naming the variable; usual host names pass.
func TestClusterHostnameIsValidatedLikeABackupPathSegment(t *testing.T) {
	for _, bad := range []string{"../x/node1", "..", ".", "a/b", `a\b`, "node 1", strings.Repeat("n", 129)} {
		_, err, _ := load(t, nil, map[string]string{"CLUSTER_HOSTNAME": bad})
		if err == nil || !strings.HasPrefix(err.Error(), "CLUSTER_HOSTNAME: ") {
			t.Errorf("CLUSTER_HOSTNAME=%q: %v, want an error naming the variable", bad, err)
		}
	}
	for _, good := range []string{"node1", "weaviate-0", "Weaviate_0.svc", strings.Repeat("n", 128)} {
		if c := mustLoad(t, nil, map[string]string{"CLUSTER_HOSTNAME": good}); c.NodeName != good {
			t.Errorf("CLUSTER_HOSTNAME=%q: node name %q", good, c.NodeName)
		}
	}
}
