// Package schema owns class (collection) definitions: their JSON shape, the
// defaults Weaviate fills in, name rules, validation of class definitions and
// of object properties against them, and auto-schema inference. It knows
// nothing of storage or HTTP.
package schema

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Class is a collection definition, as exchanged on /v1/schema.
type Class struct {
	Class               string                  `json:"class"`
	Description         string                  `json:"description,omitempty"`
	Properties          []*Property             `json:"properties"`
	Vectorizer          string                  `json:"vectorizer,omitempty"`
	VectorIndexType     string                  `json:"vectorIndexType,omitempty"`
	VectorIndexConfig   map[string]any          `json:"vectorIndexConfig,omitempty"`
	VectorConfig        map[string]VectorConfig `json:"vectorConfig,omitempty"`
	InvertedIndexConfig map[string]any          `json:"invertedIndexConfig,omitempty"`
	MultiTenancyConfig  *MultiTenancyConfig     `json:"multiTenancyConfig,omitempty"`
	ReplicationConfig   map[string]any          `json:"replicationConfig,omitempty"`
	ShardingConfig      map[string]any          `json:"shardingConfig,omitempty"`
	ModuleConfig        any                     `json:"moduleConfig,omitempty"`
}

// VectorConfig is one named vector of a class.
type VectorConfig struct {
	Vectorizer        any            `json:"vectorizer,omitempty"`
	VectorIndexType   string         `json:"vectorIndexType,omitempty"`
	VectorIndexConfig map[string]any `json:"vectorIndexConfig,omitempty"`
}

// MultiTenancyConfig says whether a class has one shard per tenant.
type MultiTenancyConfig struct {
	Enabled              bool `json:"enabled"`
	AutoTenantCreation   bool `json:"autoTenantCreation"`
	AutoTenantActivation bool `json:"autoTenantActivation"`
}

// Property is a class property; nested properties use the same shape.
type Property struct {
	Name              string      `json:"name"`
	DataType          []string    `json:"dataType"`
	Description       string      `json:"description,omitempty"`
	Tokenization      string      `json:"tokenization,omitempty"`
	IndexFilterable   *bool       `json:"indexFilterable,omitempty"`
	IndexSearchable   *bool       `json:"indexSearchable,omitempty"`
	IndexRangeFilters *bool       `json:"indexRangeFilters,omitempty"`
	NestedProperties  []*Property `json:"nestedProperties,omitempty"`
	ModuleConfig      any         `json:"moduleConfig,omitempty"`
}

// MultiTenant reports whether the class has multi-tenancy enabled.
func (c *Class) MultiTenant() bool {
	return c.MultiTenancyConfig != nil && c.MultiTenancyConfig.Enabled
}

// Property returns the property with the given (already normalised) name.
func (c *Class) Property(name string) *Property {
	for _, p := range c.Properties {
		if p != nil && p.Name == name {
			return p
		}
	}
	return nil
}

// Distance is the configured distance of the named vector ("" = legacy vector).
func (c *Class) Distance(vectorName string) string {
	cfg := c.VectorIndexConfig
	if vectorName != "" {
		cfg = c.VectorConfig[vectorName].VectorIndexConfig
	}
	if d, ok := cfg["distance"].(string); ok && d != "" {
		return d
	}
	return DistanceCosine
}

// VectorIndex is the index type and config of the named vector ("" =
// legacy vector).
func (c *Class) VectorIndex(vectorName string) (string, map[string]any) {
	if vectorName != "" {
		vc := c.VectorConfig[vectorName]
		return vc.VectorIndexType, vc.VectorIndexConfig
	}
	return c.VectorIndexType, c.VectorIndexConfig
}

// VectorNames lists the class's named vectors, sorted.
func (c *Class) VectorNames() []string {
	return slices.Sorted(maps.Keys(c.VectorConfig))
}

// Clone returns a deep copy (via JSON, which is the class's canonical form).
func (c *Class) Clone() *Class {
	b, err := json.Marshal(c)
	if err != nil {
		panic(fmt.Sprintf("schema: marshal class: %v", err))
	}
	var out Class
	if err := json.Unmarshal(b, &out); err != nil {
		panic(fmt.Sprintf("schema: unmarshal class: %v", err))
	}
	return &out
}

// Certainty is Weaviate's certainty of a cosine distance d, 1 - d/2,
// computed in float64 from the float32 distance as Weaviate does.
func Certainty(d float32) float64 { return 1 - float64(d)/2 }

// CertaintyDistance is the cosine distance of certainty c: 2 × (1 - c).
func CertaintyDistance(c float64) float32 { return float32(2 * (1 - c)) }

// Distance names.
const (
	DistanceCosine    = "cosine"
	DistanceDot       = "dot"
	DistanceL2Squared = "l2-squared"
	DistanceHamming   = "hamming"
	DistanceManhattan = "manhattan"
)

var (
	classNameRE    = regexp.MustCompile(`^[A-Z][_0-9A-Za-z]{0,254}$`)
	propertyNameRE = regexp.MustCompile(`^[_A-Za-z][_0-9A-Za-z]{0,230}$`)
	tenantNameRE   = regexp.MustCompile(`^[A-Za-z0-9\-_]{1,64}$`)
)

// NormalizeClassName upper-cases the first letter, as Weaviate does on write and lookup.
func NormalizeClassName(name string) string {
	r, size := utf8.DecodeRuneInString(name)
	if size == 0 {
		return name
	}
	return string(unicode.ToUpper(r)) + name[size:]
}

// NormalizePropertyName lower-cases the first letter.
func NormalizePropertyName(name string) string {
	r, size := utf8.DecodeRuneInString(name)
	if size == 0 {
		return name
	}
	return string(unicode.ToLower(r)) + name[size:]
}

// ValidClassName reports whether a normalised class name is allowed.
func ValidClassName(name string) bool { return classNameRE.MatchString(name) }

// ValidTenantName reports whether a tenant name is allowed (it is also a directory name).
func ValidTenantName(name string) bool { return tenantNameRE.MatchString(name) }

// ValidateTenantName returns Weaviate's error for a bad tenant name.
func ValidateTenantName(name string) error {
	if !ValidTenantName(name) {
		return fmt.Errorf("tenant name %q is invalid: must match %s", name, tenantNameRE.String())
	}
	return nil
}

var vectorIndexTypes = map[string]bool{"hnsw": true, "flat": true, "dynamic": true}
var distances = map[string]bool{DistanceCosine: true, DistanceDot: true, DistanceL2Squared: true, DistanceHamming: true, DistanceManhattan: true}
var tokenizations = map[string]bool{"word": true, "lowercase": true, "whitespace": true, "field": true, "trigram": true, "gse": true, "kagome_kr": true, "kagome_ja": true, "gse_ch": true}

// Normalize applies name normalisation to a class and its properties.
func (c *Class) Normalize() {
	c.Class = NormalizeClassName(c.Class)
	for _, p := range c.Properties {
		if p != nil {
			p.normalize()
		}
	}
}

func (p *Property) normalize() {
	p.Name = NormalizePropertyName(p.Name)
	for _, n := range p.NestedProperties {
		if n != nil {
			n.normalize()
		}
	}
}

// Validate checks a (normalised) class definition. knownClass tells whether a
// class name exists, for cross-reference data types.
func (c *Class) Validate(knownClass func(string) bool) error {
	if !ValidClassName(c.Class) {
		return fmt.Errorf("'%s' is not a valid class name", c.Class)
	}
	if c.Vectorizer != "" && c.Vectorizer != "none" {
		return fmt.Errorf("vectorizer: no module with name %q present", c.Vectorizer)
	}
	if err := validateVectorIndex(c.VectorIndexType, c.VectorIndexConfig); err != nil {
		return err
	}
	for name, vc := range c.VectorConfig {
		if name == "" || !propertyNameRE.MatchString(name) {
			return fmt.Errorf("vectorConfig: %q is not a valid vector name", name)
		}
		if err := validateVectorizer(vc.Vectorizer); err != nil {
			return fmt.Errorf("vectorConfig %q: %w", name, err)
		}
		if err := validateVectorIndex(vc.VectorIndexType, vc.VectorIndexConfig); err != nil {
			return fmt.Errorf("vectorConfig %q: %w", name, err)
		}
	}
	seen := map[string]bool{}
	for _, p := range c.Properties {
		if p == nil {
			return fmt.Errorf("property: must not be null")
		}
		if err := p.validate(c.Class, knownClass, false); err != nil {
			return err
		}
		lower := strings.ToLower(p.Name)
		if seen[lower] {
			return fmt.Errorf("class %q: conflict for property %q: already in use or provided multiple times", c.Class, p.Name)
		}
		seen[lower] = true
	}
	return nil
}

// validateVectorizer accepts "none", {"none":{}} or absent: modules are out of scope.
func validateVectorizer(v any) error {
	switch v := v.(type) {
	case nil:
		return nil
	case string:
		if v == "" || v == "none" {
			return nil
		}
		return fmt.Errorf("vectorizer: no module with name %q present", v)
	case map[string]any:
		for name := range v {
			if name != "none" {
				return fmt.Errorf("vectorizer: no module with name %q present", name)
			}
		}
		return nil
	default:
		return fmt.Errorf("vectorizer: unexpected value %v", v)
	}
}

func validateVectorIndex(typ string, cfg map[string]any) error {
	if typ != "" && !vectorIndexTypes[typ] {
		return fmt.Errorf("unrecognized or unsupported vectorIndexType %q", typ)
	}
	if d, ok := cfg["distance"]; ok {
		s, isStr := d.(string)
		if !isStr || !distances[s] {
			return fmt.Errorf("vectorIndexConfig: unsupported distance %v, use one of cosine, dot, l2-squared, hamming, manhattan", d)
		}
	}
	for _, key := range []string{"ef", "efConstruction", "maxConnections"} {
		if v, ok := cfg[key]; ok {
			if _, isNum := v.(float64); !isNum {
				return fmt.Errorf("vectorIndexConfig: %s must be a number, got %v", key, v)
			}
		}
	}
	return nil
}

func (p *Property) validate(className string, knownClass func(string) bool, nested bool) error {
	if !propertyNameRE.MatchString(p.Name) {
		return fmt.Errorf("'%s' is not a valid property name. Property names in Weaviate are restricted to valid GraphQL names, which must be “/[_A-Za-z][_0-9A-Za-z]{0,230}/”.", p.Name)
	}
	if isReservedProperty(p.Name) {
		return fmt.Errorf("'%s' is a reserved property name", p.Name)
	}
	if len(p.DataType) == 0 {
		return fmt.Errorf("property '%s': dataType must have at least one element", p.Name)
	}
	dt, err := ParseDataType(p.DataType, knownClass)
	if err != nil {
		return fmt.Errorf("property '%s': invalid dataType: %v: %w", p.Name, p.DataType, err)
	}
	if dt.IsRef() && nested {
		return fmt.Errorf("property '%s': cross-references are not allowed in nested properties", p.Name)
	}
	if p.Tokenization != "" {
		if !tokenizations[p.Tokenization] {
			return fmt.Errorf("property '%s': tokenization '%s' is not allowed", p.Name, p.Tokenization)
		}
		if !dt.IsText() {
			return fmt.Errorf("Tokenization is not allowed for data type '%s'", p.DataType[0])
		}
	}
	if dt.IsObject() {
		if len(p.NestedProperties) == 0 {
			return fmt.Errorf("property '%s': At least one nested property is required for data type object/object[]", p.Name)
		}
		seen := map[string]bool{}
		for _, n := range p.NestedProperties {
			if n == nil {
				return fmt.Errorf("property '%s': nested property must not be null", p.Name)
			}
			if err := n.validate(className, knownClass, true); err != nil {
				return err
			}
			if seen[n.Name] {
				return fmt.Errorf("property '%s': nested property '%s' is defined twice", p.Name, n.Name)
			}
			seen[n.Name] = true
		}
	} else if len(p.NestedProperties) > 0 {
		return fmt.Errorf("property '%s': nestedProperties are only allowed for data type object/object[]", p.Name)
	}
	return nil
}

func isReservedProperty(name string) bool {
	switch name {
	case "_additional", "_id", "id":
		return true
	}
	return false
}
