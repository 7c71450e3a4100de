// Package archive writes and reads backup chunks: a tar stream (USTAR, PAX
// when needed; regular files only) wrapped in one gzip stream, zstd frames,
// or nothing, as the backup format (docs/backup-format.md) describes.
//
// It streams with bounded memory — never a whole file or chunk in memory —
// and computes (Writer) and verifies (Extract) a SHA-256 per file;
// HashingWriter and HashingReader do the same for a chunk as a whole.
// Extracting is defensive: entry names are validated, links and special
// files refused, and nothing is written outside the destination directory.
//
// The package owns only bytes, tar and compression. It must not know about
// backups, descriptors, backends or HTTP; callers decide which files go into
// which chunk and which names an extraction accepts.
package archive
