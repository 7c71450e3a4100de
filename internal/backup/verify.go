package backup

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"strata/internal/apperr"
	"strata/internal/backup/archive"
	"strata/internal/backup/crypt"
	"strata/internal/backup/layout"
	"strata/internal/blob"
)

// Verify modes.
const (
	// VerifyMetadata checks that the descriptor and every node's manifest
	// are readable and consistent, and that every chunk they reference is
	// in the backend with its recorded size.
	VerifyMetadata = "metadata"
	// VerifyFull also reads every chunk, checking every file's and every
	// chunk's size and SHA-256, as a restore would, without writing.
	VerifyFull = "full"
)

// VerifyProblem is one thing wrong with a backup: the object or file it
// concerns and what is wrong.
type VerifyProblem struct {
	File  string `json:"file"`
	Error string `json:"error"`
}

// VerifyReport is what Verify found.
type VerifyReport struct {
	ID, Backend, Mode string
	OK                bool
	// Chunks and Files are those checked; Bytes the chunk bytes read (full)
	// or whose size was checked (metadata).
	Chunks, Files int64
	Bytes         int64
	Problems      []VerifyProblem
}

// Verify checks a backup where it is stored, without restoring it (mode
// VerifyMetadata or VerifyFull). A backup that is not there is NotFound;
// everything else wrong with it is a problem in the report, naming the
// object. Memory is bounded as for a restore: chunks are streamed.
func (m *Manager) Verify(ctx context.Context, backendName, id, bucket, path, mode string) (VerifyReport, error) {
	if mode == "" {
		mode = VerifyMetadata
	}
	if mode != VerifyMetadata && mode != VerifyFull {
		return VerifyReport{}, apperr.Invalidf("mode: %q is not one of [%s %s]", mode, VerifyMetadata, VerifyFull)
	}
	be, loc, err := m.locate(backendName, "backend", id, bucket, path)
	if err != nil {
		return VerifyReport{}, err
	}
	v := &verifier{m: m, loc: loc, id: id, full: mode == VerifyFull}
	rep := VerifyReport{ID: id, Backend: be.Name(), Mode: mode}
	key := layout.BackupDescriptor(id)
	d, found, err := readDescriptor(ctx, loc.Store, key)
	switch {
	case err != nil:
		v.problem(key, err)
	case !found:
		return VerifyReport{}, apperr.NotFoundf("backup %q does not exist: %s not found in %s", id, key, loc.Store)
	case d.ID != id:
		v.problem(key, fmt.Errorf("holds backup %q", d.ID))
	case d.Status != StatusSuccess:
		v.problem(key, fmt.Errorf("the backup's status is %s: only a SUCCESS backup can be restored", d.Status))
	default:
		if err := checkVersion(d); err != nil {
			v.problem(key, err)
		} else if v.key, err = m.keyFor(d); err != nil {
			v.problem(key, err)
		} else {
			v.comp = compressionOf(d)
			v.nodes(ctx, d)
		}
	}
	if err := ctx.Err(); err != nil {
		return VerifyReport{}, err
	}
	rep.Chunks, rep.Files, rep.Bytes = v.chunks.Load(), v.files.Load(), v.bytes.Load()
	rep.Problems = v.problems
	rep.OK = len(rep.Problems) == 0
	return rep, nil
}

// verifier collects what one Verify finds.
type verifier struct {
	m    *Manager
	loc  *Location
	id   string
	full bool
	comp archive.Compression
	key  *crypt.Key

	chunks, files, bytes atomic.Int64

	mu       sync.Mutex
	problems []VerifyProblem
}

func (v *verifier) problem(file string, err error) {
	v.mu.Lock()
	v.problems = append(v.problems, VerifyProblem{File: file, Error: err.Error()})
	v.mu.Unlock()
}

// nodes checks every node's manifest and the chunks it references.
func (v *verifier) nodes(ctx context.Context, d *Descriptor) {
	var tasks []chunkTask
	for _, node := range sortedKeys(d.Nodes) {
		man, err := v.m.readManifest(ctx, v.loc, v.id, node, v.key)
		if err != nil {
			v.problem(layout.NodeManifest(v.id, node), err)
			continue
		}
		for _, c := range man.Classes {
			tasks = append(tasks, v.classChunks(node, c)...)
		}
	}
	_ = runPool(ctx, v.m.workers(0), len(tasks), func(ctx context.Context, i int) error {
		lowerPriority()
		v.chunk(ctx, tasks[i])
		return nil
	})
}

// classChunks checks that every file a class's shards list is in a chunk
// the manifest describes, and returns the chunks to check.
func (v *verifier) classChunks(node string, c *ClassDescriptor) []chunkTask {
	var tasks []chunkTask
	for _, sd := range c.Shards {
		for _, f := range sd.FileInfo {
			if _, ok := c.ChunkInfo[f.Chunk]; !ok {
				v.problem(layout.NodeManifest(v.id, node), fmt.Errorf("class %s: file %q is in chunk %d, which the manifest does not describe", c.Name, f.Name, f.Chunk))
			}
		}
	}
	for _, n := range sortedInts(c.Chunks) {
		tasks = append(tasks, chunkTask{node: node, class: c, n: n})
	}
	return tasks
}

// chunk checks one chunk: its presence and size, and in full mode every
// byte of it.
func (v *verifier) chunk(ctx context.Context, t chunkTask) {
	key := layout.Chunk(v.id, t.node, t.class.Name, t.n)
	info, ok := t.class.ChunkInfo[t.n]
	if !ok || info.Size < 0 {
		v.problem(key, fmt.Errorf("the manifest has no size and checksum for it"))
		return
	}
	want := chunkFiles(t.class, t.n)
	v.chunks.Add(1)
	attrs, err := v.loc.Store.Stat(ctx, key)
	switch {
	case blob.IsNotFound(err):
		v.problem(key, fmt.Errorf("missing"))
		return
	case err != nil:
		v.problem(key, err)
		return
	case attrs.Size != info.Size:
		v.problem(key, fmt.Errorf("size %d, the manifest records %d", attrs.Size, info.Size))
		return
	}
	if !v.full {
		v.files.Add(int64(len(want)))
		v.bytes.Add(info.Size)
		return
	}
	files, read, err := readChunk(ctx, v.loc.Store, key, t.class, t.n, v.key, nil, func(r io.Reader) ([]archive.FileInfo, error) {
		return archive.Verify(ctx, r, v.comp, want)
	})
	v.files.Add(int64(len(files)))
	v.bytes.Add(read)
	if err != nil {
		if ctx.Err() == nil {
			v.problem(key, err)
		}
		return
	}
	for _, name := range missingFiles(want, files) {
		v.problem(key, fmt.Errorf("file %q is missing", name))
	}
}
