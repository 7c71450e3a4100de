package backup

import (
	"bytes"
	"context"
	"encoding/json"
	"io"

	"strata/internal/apperr"
	"strata/internal/backup/crypt"
	"strata/internal/blob"
)

// encryption is what a new backup's descriptor says of its encryption
// (nil: none).
func (m *Manager) encryption() *Encryption {
	if m.opts.Encryption == nil {
		return nil
	}
	return &Encryption{Algorithm: crypt.Algorithm, KeyCheck: m.opts.Encryption.Check()}
}

// keyFor is the key that opens backup d: nil for a backup that is not
// encrypted; this server's, if it is the one d was made with; else 422,
// before anything is downloaded.
func (m *Manager) keyFor(d *Descriptor) (*crypt.Key, error) {
	e := d.Encryption
	switch {
	case e == nil:
		return nil, nil
	case e.Algorithm != crypt.Algorithm:
		return nil, apperr.Invalidf("backup %q is encrypted with %q, which this server does not know", d.ID, e.Algorithm)
	case m.opts.Encryption == nil:
		return nil, apperr.Invalidf("backup %q is encrypted: start the server with its key (STRATA_BACKUP_ENCRYPTION_KEY or STRATA_BACKUP_ENCRYPTION_KEY_FILE)", d.ID)
	case m.opts.Encryption.Check() != e.KeyCheck:
		return nil, apperr.Invalidf("backup %q is encrypted with another key than this server's (key check %s, the server's %s)", d.ID, e.KeyCheck, m.opts.Encryption.Check())
	}
	return m.opts.Encryption, nil
}

// sealed is r encrypted with key (r itself without one).
func sealed(key *crypt.Key, r io.Reader) io.Reader {
	if key == nil {
		return r
	}
	return key.Encrypt(r)
}

// opened is r decrypted with key (r itself without one).
func opened(key *crypt.Key, r io.Reader) io.Reader {
	if key == nil {
		return r
	}
	return key.Decrypt(r)
}

// putSealedJSON writes v as JSON, encrypted with enc when there is one.
func putSealedJSON(ctx context.Context, st blob.Store, key string, v any, enc *crypt.Key) error {
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return err
	}
	if enc != nil {
		if b, err = io.ReadAll(enc.Encrypt(bytes.NewReader(b))); err != nil {
			return err
		}
	}
	return st.Put(ctx, key, bytes.NewReader(b), int64(len(b)))
}
