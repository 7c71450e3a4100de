package blob

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// MaxKeyLen is the longest key, in bytes, that every provider accepts
// (S3, GCS and Azure all stop at 1024).
const MaxKeyLen = 1024

// ValidateKey reports whether key is a valid object key, returning an error
// wrapping ErrInvalidKey if not. A valid key
//   - is non-empty, valid UTF-8 and at most MaxKeyLen bytes long;
//   - is relative: it does not start with "/";
//   - consists of "/"-separated segments none of which is empty (no "a//b",
//     no trailing "/"), "." or "..";
//   - contains no backslash and no control character (NUL, CR, LF, ...).
func ValidateKey(key string) error {
	if key == "" {
		return invalidKey(key, "empty")
	}
	if err := checkChars(key); err != nil {
		return err
	}
	for seg := range strings.SplitSeq(key, "/") {
		if err := checkSegment(key, seg); err != nil {
			return err
		}
	}
	return nil
}

// ValidatePrefix reports whether prefix is acceptable to Store.List,
// returning an error wrapping ErrInvalidKey if not. The empty prefix matches
// every key. Otherwise the prefix follows the rules of ValidateKey, except
// that its last segment may be partial: it may be empty ("a/b/"), "." or
// ".." (which match keys such as "a/.x" or "a/..x").
func ValidatePrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	if err := checkChars(prefix); err != nil {
		return err
	}
	segs := strings.Split(prefix, "/")
	for _, seg := range segs[:len(segs)-1] {
		if err := checkSegment(prefix, seg); err != nil {
			return err
		}
	}
	return nil
}

// ValidateDir checks a ListDirs directory: "" or a valid key followed by
// "/".
func ValidateDir(dir string) error {
	if dir == "" {
		return nil
	}
	key, ok := strings.CutSuffix(dir, "/")
	if !ok {
		return invalidKey(dir, `a directory is "" or ends with "/"`)
	}
	return ValidateKey(key)
}

// EmitDirs calls fn for the names, sorted and without duplicates (for
// ListDirs).
func EmitDirs(names []string, fn func(string) error) error {
	slices.Sort(names)
	for i, n := range names {
		if i > 0 && names[i-1] == n {
			continue
		}
		if err := fn(n); err != nil {
			return err
		}
	}
	return nil
}

// DirOf is the directory name right under dir that key lies in, if any
// (for ListDirs).
func DirOf(dir, key string) (string, bool) {
	rest, ok := strings.CutPrefix(key, dir)
	if !ok {
		return "", false
	}
	name, _, deeper := strings.Cut(rest, "/")
	return name, deeper && name != ""
}

// checkChars applies the rules on length and characters shared by keys and
// prefixes.
func checkChars(s string) error {
	if len(s) > MaxKeyLen {
		return invalidKey(s, fmt.Sprintf("longer than %d bytes", MaxKeyLen))
	}
	if !utf8.ValidString(s) {
		return invalidKey(s, "not valid UTF-8")
	}
	if strings.HasPrefix(s, "/") {
		return invalidKey(s, "absolute")
	}
	for _, r := range s {
		switch {
		case r == '\\':
			return invalidKey(s, "contains a backslash")
		case r < 0x20 || r == 0x7f:
			return invalidKey(s, "contains a control character")
		}
	}
	return nil
}

func checkSegment(s, seg string) error {
	switch seg {
	case "":
		return invalidKey(s, "empty segment")
	case ".", "..":
		return invalidKey(s, fmt.Sprintf("%q segment", seg))
	}
	return nil
}

func invalidKey(key, reason string) error {
	return fmt.Errorf("%w %q: %s", ErrInvalidKey, key, reason)
}
