package main

import (
	"encoding/json"
	"flag"
	"net/http"
	"time"
)

// --health ADDR: how current the store's snapshots are (SEMANTICS G3), as
// JSON on GET /: 200 when fresh, 503 when stale (the enforcement points
// keep deciding from the last snapshot meanwhile).

// healthStatus is the body of --health.
type healthStatus struct {
	Source     string    `json:"Source"` // "files", "directory" or "postgres"
	Fresh      bool      `json:"Fresh"`
	Revision   uint64    `json:"Revision"`                      // the store-wide change number last applied (postgres)
	LastSync   time.Time `json:"LastSync,omitzero"`             // when the store last knew itself current (postgres)
	Reconnects int       `json:"Reconnects"`                    // of the change feed (postgres)
	Error      string    `json:"Error,omitempty"`               // the feed's last error while stale
	OrgRev     uint64    `json:"OrganizationRevision,omitzero"` // the revision of --org's snapshot
}

func init() {
	registerListener("health", serveListener{
		usage: "HTTP: GET / answers the store's freshness as JSON (200 fresh, 503 stale): revision, last sync",
		flags: func(fs *flag.FlagSet) func(env *serveEnv) (*serveUnit, error) {
			return func(env *serveEnv) (*serveUnit, error) {
				return &serveUnit{handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					st := healthStatus{Source: "files", Fresh: true}
					if s := env.store; s != nil {
						sy := s.SyncStatus()
						st.Source, st.Fresh = "directory", sy.Fresh
						if sy.Shared {
							st.Source, st.Revision, st.LastSync, st.Reconnects = "postgres", sy.Revision, sy.LastSync, sy.Reconnects
							if sy.Err != nil {
								st.Error = sy.Err.Error()
							}
						}
						if env.orgID != "" {
							if snap := s.Snapshot(env.orgID); snap != nil {
								st.OrgRev = snap.Revision()
							}
						}
					}
					w.Header().Set("Content-Type", "application/json")
					if !st.Fresh {
						w.WriteHeader(http.StatusServiceUnavailable)
					}
					json.NewEncoder(w).Encode(st)
				})}, nil
			}
		},
	})
}
