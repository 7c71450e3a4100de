package api

import (
	"cmp"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"strata/internal/backup"
	"strata/internal/config"
)

// backupConfig is the "config" of a create or restore request.
type backupConfig struct {
	Endpoint         string  `json:"Endpoint"`
	Bucket           string  `json:"Bucket"`
	Path             string  `json:"Path"`
	CPUPercentage    int     `json:"CPUPercentage"`
	ChunkSize        int     `json:"ChunkSize"`
	CompressionLevel *string `json:"CompressionLevel"`
	UsersOptions     *string `json:"usersOptions"`
	RolesOptions     *string `json:"rolesOptions"`
}

type backupCreateRequest struct {
	ID              string        `json:"id"`
	Include         []string      `json:"include"`
	Exclude         []string      `json:"exclude"`
	Config          *backupConfig `json:"config"`
	IncrementalBase *string       `json:"incremental_base_backup_id"`
	IncludeUsers    []string      `json:"includeUsers"`
}

type backupRestoreRequest struct {
	Include        []string          `json:"include"`
	Exclude        []string          `json:"exclude"`
	Config         *backupConfig     `json:"config"`
	NodeMapping    map[string]string `json:"node_mapping"`
	OverwriteAlias bool              `json:"overwriteAlias"`
	// Rename restores classes under other names (an extension).
	Rename map[string]string `json:"rename"`
}

// backupVerifyRequest is the body of a verify call (an extension of
// Weaviate's API); it may be empty.
type backupVerifyRequest struct {
	Mode   string        `json:"mode"`
	Config *backupConfig `json:"config"`
}

var compressionLevels = []string{"DefaultCompression", "BestSpeed", "BestCompression", "ZstdDefaultCompression", "ZstdBestSpeed", "ZstdBestCompression", "NoCompression"}

// validate applies the request schema's rules (binding errors).
func (c *backupConfig) validate(restore bool) error {
	if c == nil {
		return nil
	}
	if c.CPUPercentage > 80 {
		return &bindingError{Code: 608, Message: "config.CPUPercentage in body should be less than or equal to 80"}
	}
	if c.CPUPercentage < 0 {
		return &bindingError{Code: 609, Message: "config.CPUPercentage in body should be greater than or equal to 1"}
	}
	if !restore && c.CompressionLevel != nil && !contains(compressionLevels, *c.CompressionLevel) {
		return &bindingError{Code: 606, Message: fmt.Sprintf("config.CompressionLevel in body should be one of %v", compressionLevels)}
	}
	if restore {
		for name, v := range map[string]*string{"usersOptions": c.UsersOptions, "rolesOptions": c.RolesOptions} {
			if v != nil && *v != "noRestore" && *v != "all" {
				return &bindingError{Code: 606, Message: fmt.Sprintf("config.%s in body should be one of [noRestore all]", name)}
			}
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (c *backupConfig) get() backupConfig {
	if c == nil {
		return backupConfig{}
	}
	return *c
}

// apiTime renders timestamps as Weaviate does: UTC, milliseconds, zero time included.
func apiTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// sizeGiB is the API's "size": GiB before compression, omitted when zero.
func sizeGiB(bytes int64) any {
	if bytes == 0 {
		return nil
	}
	return float64(bytes) / (1 << 30)
}

// progressJSON renders a job's progress, an extension of Weaviate's
// status answers: bytes and files done of the total, the rate in bytes
// per second and the seconds left at it, per class and (cluster) per node.
func progressJSON(p *backup.Progress) map[string]any {
	out := map[string]any{"bytesDone": p.BytesDone, "bytesTotal": p.BytesTotal, "filesDone": p.FilesDone,
		"filesTotal": p.FilesTotal, "bytesPerSecond": math.Round(p.Rate), "etaSeconds": math.Round(p.ETA.Seconds()*10) / 10}
	for key, parts := range map[string]map[string]*backup.Progress{"classes": p.Classes, "nodes": p.Nodes} {
		if len(parts) == 0 {
			continue
		}
		m := make(map[string]any, len(parts))
		for name, part := range parts {
			m[name] = progressJSON(part)
		}
		out[key] = m
	}
	return out
}

func (s *Server) createBackup(w http.ResponseWriter, r *http.Request) {
	var req backupCreateRequest
	if err := decodeBody(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := req.Config.validate(false); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.IncrementalBase != nil && *req.IncrementalBase != "" {
		writeMessage(w, http.StatusUnprocessableEntity, "incremental backups (incremental_base_backup_id) are not supported yet: create a full backup")
		return
	}
	if len(req.IncludeUsers) > 0 {
		writeMessage(w, http.StatusUnprocessableEntity, "'includeUsers' was set but dynamic DB users are not enabled")
		return
	}
	cfg := req.Config.get()
	level := ""
	if cfg.CompressionLevel != nil {
		level = *cfg.CompressionLevel
	}
	backend := pathParam(r, "backend")
	info, err := s.backups.Create(r.Context(), backend, backup.CreateRequest{
		ID: req.ID, Include: req.Include, Exclude: req.Exclude, Bucket: cfg.Bucket, Path: cfg.Path,
		CPUPercentage: cfg.CPUPercentage, CompressionLevel: level,
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := map[string]any{"backend": backend, "classes": info.Classes, "id": info.ID, "path": info.Home, "status": backup.StatusStarted}
	if info.Bucket != "" {
		out["bucket"] = info.Bucket
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) backupStatus(w http.ResponseWriter, r *http.Request) {
	backend, id := pathParam(r, "backend"), pathParam(r, "id")
	q := r.URL.Query()
	info, err := s.backups.CreateStatus(r.Context(), backend, id, q.Get("bucket"), q.Get("path"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := map[string]any{"backend": backend, "id": id, "path": info.Home, "status": info.Status,
		"startedAt": apiTime(info.StartedAt), "completedAt": apiTime(info.CompletedAt)}
	if info.Error != "" {
		out["error"] = info.Error
	}
	if size := sizeGiB(info.SizeBytes); size != nil && info.Status == backup.StatusSuccess {
		out["size"] = size
	}
	if info.Progress != nil {
		out["progress"] = progressJSON(info.Progress)
	}
	writeJSON(w, http.StatusOK, out)
}

// cancelBackup cancels a running backup, as in Weaviate; with ?purge=true
// (an extension) it deletes an ended backup from its backend instead.
func (s *Server) cancelBackup(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if purge := q.Get("purge"); purge != "" {
		yes, err := strconv.ParseBool(purge)
		if err != nil {
			writeMessage(w, http.StatusUnprocessableEntity, fmt.Sprintf("purge: %q is not a boolean", purge))
			return
		}
		if yes {
			if err := s.backups.Delete(r.Context(), pathParam(r, "backend"), pathParam(r, "id"), q.Get("bucket"), q.Get("path")); err != nil {
				s.writeError(w, r, err)
				return
			}
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	if err := s.backups.Cancel(r.Context(), pathParam(r, "backend"), pathParam(r, "id"), q.Get("bucket"), q.Get("path")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) listBackups(w http.ResponseWriter, r *http.Request) {
	order := r.URL.Query().Get("order")
	if order == "" {
		order = "desc"
	}
	if order != "asc" && order != "desc" {
		writeBinding(w, &bindingError{Code: 606, Message: "order in query should be one of [asc desc]"})
		return
	}
	infos, err := s.backups.List(r.Context(), pathParam(r, "backend"), order)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]map[string]any, 0, len(infos))
	for _, in := range infos {
		item := map[string]any{"classes": in.Classes, "id": in.ID, "status": in.Status,
			"startedAt": apiTime(in.StartedAt), "completedAt": apiTime(in.CompletedAt)}
		if size := sizeGiB(in.SizeBytes); size != nil && in.Status == backup.StatusSuccess {
			item["size"] = size
		}
		out = append(out, item)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) restoreBackup(w http.ResponseWriter, r *http.Request) {
	var req backupRestoreRequest
	if err := decodeBody(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := req.Config.validate(true); err != nil {
		s.writeError(w, r, err)
		return
	}
	cfg := req.Config.get()
	backend := pathParam(r, "backend")
	info, err := s.backups.Restore(r.Context(), backend, backup.RestoreRequest{
		ID: pathParam(r, "id"), Include: req.Include, Exclude: req.Exclude, Bucket: cfg.Bucket, Path: cfg.Path,
		CPUPercentage: cfg.CPUPercentage, NodeMapping: req.NodeMapping, Rename: req.Rename,
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := map[string]any{"backend": backend, "classes": info.Classes, "id": info.ID, "path": info.Home, "status": info.Status}
	if info.Bucket != "" {
		out["bucket"] = info.Bucket
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) restoreStatus(w http.ResponseWriter, r *http.Request) {
	backend, id := pathParam(r, "backend"), pathParam(r, "id")
	q := r.URL.Query()
	info, err := s.backups.RestoreStatus(r.Context(), backend, id, q.Get("bucket"), q.Get("path"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := map[string]any{"backend": backend, "id": id, "path": info.Home, "status": info.Status}
	if info.Error != "" {
		out["error"] = info.Error
	}
	if info.Progress != nil {
		out["progress"] = progressJSON(info.Progress)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) cancelRestore(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if err := s.backups.CancelRestore(r.Context(), pathParam(r, "backend"), pathParam(r, "id"), q.Get("bucket"), q.Get("path")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// verifyBackup checks a backup where it is stored without restoring it:
// {"mode": "metadata"} (the default) or {"mode": "full"}; bucket and path
// come from the body's config or the query, as for a status.
func (s *Server) verifyBackup(w http.ResponseWriter, r *http.Request) {
	var req backupVerifyRequest
	if err := decodeBody(r, &req); err != nil && err != errBodyRequired {
		s.writeError(w, r, err)
		return
	}
	q := r.URL.Query()
	bucket, path := q.Get("bucket"), q.Get("path")
	if req.Config != nil {
		cfg := req.Config.get()
		bucket, path = cmp.Or(cfg.Bucket, bucket), cmp.Or(cfg.Path, path)
	}
	backend, id := pathParam(r, "backend"), pathParam(r, "id")
	rep, err := s.backups.Verify(r.Context(), backend, id, bucket, path, req.Mode)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	problems := rep.Problems
	if problems == nil {
		problems = []backup.VerifyProblem{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "backend": backend, "mode": rep.Mode, "ok": rep.OK,
		"problems": problems, "chunks": rep.Chunks, "files": rep.Files, "bytes": rep.Bytes})
}

// retentionRequest is the body of a retention call: the policy to apply
// (empty: the configured one).
type retentionRequest struct {
	KeepLast   *int    `json:"keepLast"`
	KeepWithin *string `json:"keepWithin"`
}

// applyRetention deletes the ended backups of a backend that a retention
// policy does not keep (an extension of Weaviate's API) and lists them.
func (s *Server) applyRetention(w http.ResponseWriter, r *http.Request) {
	var req retentionRequest
	if err := decodeBody(r, &req); err != nil && err != errBodyRequired {
		s.writeError(w, r, err)
		return
	}
	policy := s.backups.RetentionPolicy()
	if req.KeepLast != nil || req.KeepWithin != nil {
		policy = backup.Retention{}
		if req.KeepLast != nil {
			policy.KeepLast = *req.KeepLast
		}
		if req.KeepWithin != nil {
			d, err := config.ParseWindow(*req.KeepWithin)
			if err != nil {
				writeMessage(w, http.StatusUnprocessableEntity, "keepWithin: "+err.Error())
				return
			}
			policy.KeepWithin = d
		}
	}
	if !policy.Active() {
		writeMessage(w, http.StatusUnprocessableEntity, "no retention policy: give keepLast and/or keepWithin, or set STRATA_BACKUP_RETENTION_KEEP_LAST / STRATA_BACKUP_RETENTION_KEEP_WITHIN")
		return
	}
	deleted, err := s.backups.ApplyRetention(r.Context(), pathParam(r, "backend"), policy)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if deleted == nil {
		deleted = []string{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"deleted": deleted})
}
