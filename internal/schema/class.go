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
	// ObjectTTLConfig is Weaviate's object expiry; Strata refuses it enabled.
	ObjectTTLConfig map[string]any `json:"objectTtlConfig,omitempty"`
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
	Name              string   `json:"name"`
	DataType          []string `json:"dataType"`
	Description       string   `json:"description,omitempty"`
	Tokenization      string   `json:"tokenization,omitempty"`
	IndexFilterable   *bool    `json:"indexFilterable,omitempty"`
	IndexSearchable   *bool    `json:"indexSearchable,omitempty"`
	IndexRangeFilters *bool    `json:"indexRangeFilters,omitempty"`
	// IndexInverted is the setting indexFilterable and indexSearchable
	// replaced; SetDefaults migrates it to them and clears it.
	IndexInverted    *bool       `json:"indexInverted,omitempty"`
	NestedProperties []*Property `json:"nestedProperties,omitempty"`
	ModuleConfig     any         `json:"moduleConfig,omitempty"`
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
var tokenizations = map[string]bool{"word": true, "lowercase": true, "whitespace": true, "field": true, "trigram": true}

// languageTokenizers are Weaviate's optional tokenizers (refused there too
// unless enabled); Strata has none of them.
var languageTokenizers = map[string]bool{"gse": true, "gse_ch": true, "kagome_kr": true, "kagome_ja": true}

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

// MaxNestingDepth bounds how deep object properties nest, in class
// definitions and in object values alike (a top-level property is depth 1).
const MaxNestingDepth = 64

// MaxClassProperties bounds the properties of a class definition, nested
// ones included, so that no class makes the schema (which every client
// reads whole) tens of megabytes.
const MaxClassProperties = 100_000

// MaxNamedVectors bounds a class's named vectors (vectorConfig): each has
// its own index in every shard and its own settings in the schema.
const MaxNamedVectors = 1000

// Validate checks a (normalised) class definition: names, data types, the
// legacy property settings and the range of every setting. It checks the
// class as given and again with its defaults filled in, so whatever it
// accepts is also what gets stored. knownClass tells whether a class name
// exists, for cross-reference data types.
func (c *Class) Validate(knownClass func(string) bool) error {
	if err := c.validate(knownClass); err != nil {
		return err
	}
	d := c.Clone()
	d.SetDefaults()
	return d.validate(knownClass)
}

func (c *Class) validate(knownClass func(string) bool) error {
	if !ValidClassName(c.Class) {
		return fmt.Errorf("'%s' is not a valid class name", c.Class)
	}
	if c.Vectorizer != "" && c.Vectorizer != "none" {
		return fmt.Errorf("vectorizer: no module with name %q present", c.Vectorizer)
	}
	if err := validateVectorIndex("vectorIndexConfig", c.VectorIndexType, c.VectorIndexConfig); err != nil {
		return err
	}
	if len(c.VectorConfig) > MaxNamedVectors {
		return fmt.Errorf("vectorConfig: %d named vectors, more than the limit of %d", len(c.VectorConfig), MaxNamedVectors)
	}
	for name, vc := range c.VectorConfig {
		if name == "" || !propertyNameRE.MatchString(name) {
			return fmt.Errorf("vectorConfig: %q is not a valid vector name", name)
		}
		if err := validateVectorizer(vc.Vectorizer); err != nil {
			return fmt.Errorf("vectorConfig %q: %w", name, err)
		}
		if err := validateVectorIndex("vectorIndexConfig", vc.VectorIndexType, vc.VectorIndexConfig); err != nil {
			return fmt.Errorf("vectorConfig %q: %w", name, err)
		}
	}
	if err := firstErr(
		validateInvertedIndexConfig(c.InvertedIndexConfig),
		validateReplicationConfig(c.ReplicationConfig),
		validateShardingConfig(c.ShardingConfig),
	); err != nil {
		return err
	}
	ttl := settings{path: "objectTtlConfig", m: c.ObjectTTLConfig}
	if err := ttl.boolean("enabled"); err != nil {
		return err
	}
	if ttl.enabled() {
		return fmt.Errorf("objectTtlConfig.enabled: object expiry is not supported")
	}
	if n := countProperties(c.Properties); n > MaxClassProperties {
		return fmt.Errorf("class %q: %d properties (nested ones included), more than the limit of %d", c.Class, n, MaxClassProperties)
	}
	seen := map[string]bool{}
	for _, p := range c.Properties {
		if p == nil {
			return fmt.Errorf("property: must not be null")
		}
		if err := p.validate(c.Class, knownClass, ""); err != nil {
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

func validateVectorIndex(path, typ string, cfg map[string]any) error {
	if typ != "" && !vectorIndexTypes[typ] {
		return fmt.Errorf("unrecognized or unsupported vectorIndexType %q", typ)
	}
	return validateVectorIndexConfig(path, typ, cfg)
}

// validate checks one property; parent is the dotted path of the object
// property it is nested in ("" at the top level).
func (p *Property) validate(className string, knownClass func(string) bool, parent string) error {
	nested := parent != ""
	path := p.Name
	if nested {
		path = parent + "." + p.Name
	}
	if !propertyNameRE.MatchString(p.Name) {
		return fmt.Errorf("'%s' is not a valid property name. Property names in Weaviate are restricted to valid GraphQL names, which must be “/[_A-Za-z][_0-9A-Za-z]{0,230}/”.", p.Name)
	}
	if isReservedProperty(p.Name, nested) {
		return fmt.Errorf("'%s' is a reserved property name", p.Name)
	}
	if len(p.DataType) == 0 {
		return fmt.Errorf("property '%s': dataType must have at least one element", path)
	}
	dt, err := ParseDataType(p.DataType, knownClass)
	if err != nil {
		return fmt.Errorf("property '%s': invalid dataType: %v: %w", path, p.DataType, err)
	}
	if dt.IsRef() && nested {
		return fmt.Errorf("property '%s': cross-references are not allowed in nested properties", path)
	}
	if err := p.validateTokenization(dt); err != nil {
		return err
	}
	if err := p.validateIndexing(dt, path); err != nil {
		return err
	}
	if dt.IsObject() {
		if depth := strings.Count(path, ".") + 2; depth > MaxNestingDepth {
			return fmt.Errorf("property '%s': nested properties deeper than %d levels", path, MaxNestingDepth)
		}
		if len(p.NestedProperties) == 0 {
			return fmt.Errorf("property '%s': At least one nested property is required for data type object/object[]", path)
		}
		seen := map[string]bool{}
		for _, n := range p.NestedProperties {
			if n == nil {
				return fmt.Errorf("property '%s': nested property must not be null", path)
			}
			if err := n.validate(className, knownClass, path); err != nil {
				return err
			}
			if seen[n.Name] {
				return fmt.Errorf("property '%s': nested property '%s' is defined twice", path, n.Name)
			}
			seen[n.Name] = true
		}
	} else if len(p.NestedProperties) > 0 {
		return fmt.Errorf("property '%s': nestedProperties are only allowed for data type object/object[]", path)
	}
	return nil
}

// validateTokenization allows the tokenizations Weaviate allows: the
// deprecated string type only word and field (it becomes text with
// whitespace or field), text any known one, other types none.
func (p *Property) validateTokenization(dt DataType) error {
	if p.Tokenization == "" {
		return nil
	}
	if languageTokenizers[p.Tokenization] {
		return fmt.Errorf("property '%s': the %s tokenizer is not supported by this server", p.Name, p.Tokenization)
	}
	if !tokenizations[p.Tokenization] {
		return fmt.Errorf("property '%s': tokenization '%s' is not allowed", p.Name, p.Tokenization)
	}
	if !dt.IsText() {
		return fmt.Errorf("Tokenization is not allowed for data type '%s'", p.DataType[0])
	}
	if dt.Name == typeString && p.Tokenization != "word" && p.Tokenization != "field" {
		return fmt.Errorf("tokenization '%s' is not allowed for data type '%s'", p.Tokenization, p.DataType[0])
	}
	return nil
}

// validateIndexing applies Weaviate's rules for the index settings.
func (p *Property) validateIndexing(dt DataType, path string) error {
	if p.IndexInverted != nil && (p.IndexFilterable != nil || p.IndexSearchable != nil || p.IndexRangeFilters != nil) {
		return fmt.Errorf("property '%s': `indexInverted` is deprecated and can not be set together with `indexFilterable`, `indexSearchable` or `indexRangeFilters`", path)
	}
	if p.IndexSearchable != nil && *p.IndexSearchable && !dt.IsText() {
		return fmt.Errorf("property '%s': `indexSearchable` is allowed only for text/text[] data types. For other data types set false or leave empty", path)
	}
	rangeable := !dt.Ref && !dt.Array && (dt.Name == TypeInt || dt.Name == TypeNumber || dt.Name == TypeDate)
	if p.IndexRangeFilters != nil && *p.IndexRangeFilters && !rangeable {
		return fmt.Errorf("property '%s': `indexRangeFilters` is allowed only for number/int/date data types. For other data types set false or leave empty", path)
	}
	return nil
}

// isReservedProperty reports whether a property name is reserved; "id" is
// reserved only at the top level, where it would shadow the object's id.
func isReservedProperty(name string, nested bool) bool {
	switch name {
	case "_additional", "_id":
		return true
	case "id":
		return !nested
	}
	return false
}
