package config

import (
	"strings"
	"testing"

	"strata/internal/schema"
)

func TestAutoSchemaLimits(t *testing.T) {
	if got := mustLoad(t, nil, nil).AutoSchemaLimits; got != schema.DefaultAutoSchemaLimits() {
		t.Errorf("default limits %+v", got)
	}
	c := mustLoad(t, nil, map[string]string{
		"STRATA_AUTOSCHEMA_MAX_NESTING_DEPTH":     "64",
		"STRATA_AUTOSCHEMA_MAX_OBJECT_PROPERTIES": "50",
		"STRATA_AUTOSCHEMA_MAX_CLASS_PROPERTIES":  "500",
	})
	if want := (schema.AutoSchemaLimits{MaxDepth: 64, MaxWidth: 50, MaxProperties: 500}); c.AutoSchemaLimits != want {
		t.Errorf("limits %+v, want %+v", c.AutoSchemaLimits, want)
	}
	for name, bad := range map[string]string{
		"STRATA_AUTOSCHEMA_MAX_NESTING_DEPTH":     "65",
		"STRATA_AUTOSCHEMA_MAX_OBJECT_PROPERTIES": "0",
		"STRATA_AUTOSCHEMA_MAX_CLASS_PROPERTIES":  "many",
	} {
		_, err, _ := load(t, nil, map[string]string{name: bad})
		if err == nil || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), bad) {
			t.Errorf("%s=%s: err = %v", name, bad, err)
		}
	}
}
