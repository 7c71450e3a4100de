package api

import (
	"net/http"

	"strata/internal/db"
	"strata/internal/schema"
)

func (s *Server) listClasses(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"classes": s.db.Classes()})
}

func (s *Server) createClass(w http.ResponseWriter, r *http.Request) {
	var c schema.Class
	if err := decodeBody(r, &c); err != nil {
		s.writeSchemaError(w, r, err)
		return
	}
	created, err := s.db.CreateClass(&c)
	if err != nil {
		s.writeSchemaError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, created)
}

func (s *Server) getClass(w http.ResponseWriter, r *http.Request) {
	c, err := s.db.GetClass(pathParam(r, "class"))
	if err != nil {
		if db.KindOf(err) == db.KindNotFound {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		s.writeError(w, r, err)
		return
	}
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (s *Server) updateClass(w http.ResponseWriter, r *http.Request) {
	var c schema.Class
	if err := decodeBody(r, &c); err != nil {
		s.writeSchemaError(w, r, err)
		return
	}
	updated, err := s.db.UpdateClass(pathParam(r, "class"), &c)
	if err != nil {
		if db.KindOf(err) == db.KindNotFound {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		s.writeSchemaError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, updated)
}

func (s *Server) deleteClass(w http.ResponseWriter, r *http.Request) {
	if err := s.db.DeleteClass(pathParam(r, "class")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (s *Server) addProperty(w http.ResponseWriter, r *http.Request) {
	var p schema.Property
	if err := decodeBody(r, &p); err != nil {
		s.writeSchemaError(w, r, err)
		return
	}
	added, err := s.db.AddProperty(pathParam(r, "class"), &p)
	if err != nil {
		s.writeSchemaError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, added)
}

func (s *Server) getShards(w http.ResponseWriter, r *http.Request) {
	infos, err := s.db.Shards(pathParam(r, "class"))
	if err != nil {
		if db.KindOf(err) == db.KindNotFound {
			writeMessage(w, http.StatusNotFound, err.Error())
			return
		}
		s.writeError(w, r, err)
		return
	}
	tenant := r.URL.Query().Get("tenant")
	out := []map[string]any{}
	for _, in := range infos {
		if tenant != "" && in.Name != tenant {
			continue
		}
		out = append(out, map[string]any{"name": in.Name, "status": in.Status, "vectorQueueSize": 0})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) addTenants(w http.ResponseWriter, r *http.Request) {
	var ts []db.Tenant
	if err := decodeBody(r, &ts); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.db.AddTenants(pathParam(r, "class"), ts); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, echoTenants(ts))
}

// echoTenants renders tenants as Weaviate echoes them: legacy status names,
// no status for tenants created active without one.
func echoTenants(ts []db.Tenant) []db.Tenant {
	out := make([]db.Tenant, len(ts))
	for i, t := range ts {
		out[i] = db.Tenant{Name: t.Name, ActivityStatus: legacyStatus(t.ActivityStatus)}
	}
	return out
}

func legacyStatus(s string) string {
	switch s {
	case "ACTIVE":
		return db.TenantHot
	case "INACTIVE":
		return db.TenantCold
	case "OFFLOADED":
		return db.TenantFrozen
	}
	return s
}

func (s *Server) listTenants(w http.ResponseWriter, r *http.Request) {
	ts, err := s.db.Tenants(pathParam(r, "class"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ts)
}

func (s *Server) getTenant(w http.ResponseWriter, r *http.Request) {
	t, err := s.db.GetTenant(pathParam(r, "class"), pathParam(r, "tenant"))
	if err != nil {
		if db.KindOf(err) == db.KindNotFound {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		s.writeError(w, r, err)
		return
	}
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

func (s *Server) updateTenants(w http.ResponseWriter, r *http.Request) {
	var ts []db.Tenant
	if err := decodeBody(r, &ts); err != nil {
		s.writeError(w, r, err)
		return
	}
	out, err := s.db.UpdateTenants(pathParam(r, "class"), ts)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) deleteTenants(w http.ResponseWriter, r *http.Request) {
	var names []string
	if err := decodeBody(r, &names); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.db.DeleteTenants(pathParam(r, "class"), names); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusOK)
}
