package shard

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Tokenizations of text properties, as named in Weaviate's schema.
const (
	TokenizeWord       = "word"       // split on non-alphanumerics, lowercased (the default)
	TokenizeLowercase  = "lowercase"  // split on whitespace, lowercased
	TokenizeWhitespace = "whitespace" // split on whitespace, case kept
	TokenizeField      = "field"      // the whole value, trimmed
	TokenizeTrigram    = "trigram"    // lowercased alphanumerics, in overlapping 3-rune grams
)

func isNotAlphanumeric(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) }

// tokenize splits a text value into the terms the index holds. A
// tokenization it does not know (the language tokenizers, which schemas
// stored by older versions may still name) is treated as word.
func tokenize(tokenization, s string) []string {
	switch tokenization {
	case TokenizeField:
		return []string{strings.TrimFunc(s, unicode.IsSpace)}
	case TokenizeWhitespace:
		return strings.Fields(s)
	case TokenizeLowercase:
		return lower(strings.Fields(s))
	case TokenizeTrigram:
		return trigrams(strings.ToLower(strings.Join(strings.FieldsFunc(s, isNotAlphanumeric), "")))
	default:
		return lower(strings.FieldsFunc(s, isNotAlphanumeric))
	}
}

// tokenizeLike splits a Like pattern the way tokenize splits values, but
// keeps the wildcards '*' and '?'.
func tokenizeLike(tokenization, s string) []string {
	keep := func(r rune) bool { return isNotAlphanumeric(r) && r != '*' && r != '?' }
	switch tokenization {
	case TokenizeField, TokenizeWhitespace, TokenizeLowercase:
		return tokenize(tokenization, s)
	case TokenizeTrigram:
		return trigrams(strings.ToLower(strings.Join(strings.FieldsFunc(s, keep), "")))
	default:
		return lower(strings.FieldsFunc(s, keep))
	}
}

func lower(terms []string) []string {
	for i, t := range terms {
		terms[i] = strings.ToLower(t)
	}
	return terms
}

func trigrams(s string) []string {
	var offs []int
	for i := range s {
		offs = append(offs, i)
	}
	offs = append(offs, len(s))
	var out []string
	for i := 0; i+3 < len(offs); i++ {
		out = append(out, s[offs[i]:offs[i+3]])
	}
	return out
}

// likePrefix is the literal part of a pattern before its first wildcard.
func likePrefix(pattern string) string {
	if i := strings.IndexAny(pattern, "*?"); i >= 0 {
		return pattern[:i]
	}
	return pattern
}

// likeMatch reports whether s matches pattern, where '*' matches any run
// of characters (also none) and '?' exactly one.
func likeMatch(pattern, s string) bool {
	p, str := 0, 0
	star, mark := -1, 0
	for str < len(s) {
		r, size := utf8.DecodeRuneInString(s[str:])
		if p < len(pattern) {
			pr, psize := utf8.DecodeRuneInString(pattern[p:])
			switch {
			case pr == '*':
				star, mark = p, str
				p += psize
				continue
			case pr == '?' || pr == r:
				p += psize
				str += size
				continue
			}
		}
		if star < 0 {
			return false
		}
		// Let the last '*' swallow one more character and retry.
		p = star + 1
		_, size = utf8.DecodeRuneInString(s[mark:])
		mark += size
		str = mark
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
