package enforce

import (
	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/impersonation"
	"github.com/wmpolicy/wmpolicy/org"
	"github.com/wmpolicy/wmpolicy/policy"
)

// Snapshot is one consistent version of an organization's rules, as an
// enforcement point decides from it: the compiled access-control policy, the
// directory it was compiled against, the compiled impersonation roles and a
// revision number for the log. A Snapshot never changes; *org.Snapshot is
// one, and so is what a FileSource publishes.
type Snapshot interface {
	// Policy returns the compiled access-control rules; nil denies everything.
	Policy() *accessctl.Policy
	// Directory returns the user directory the policy was compiled against;
	// never nil (an empty directory knows no user).
	Directory() *policy.MemDirectory
	// Role returns the compiled role with that ID, or nil.
	Role(id string) *impersonation.Evaluator
	// Revision numbers the snapshots of one source: a later snapshot has a
	// higher revision.
	Revision() uint64
}

// Source hands out the current Snapshot. Every enforcement point and the
// embedded gateway decide from one Source, so that every protocol follows the
// same version of the rules.
//
// Snapshot must be safe for concurrent use and cheap (an atomic load: it is
// called once per decision). It returns nil when there is nothing to decide
// from (the organization was deleted, say); enforcement points then deny (E3).
type Source interface {
	Snapshot() Snapshot
}

// OrgSource is the Source of one organization of an org.Store: it follows the
// organization's snapshots through an org.Handle, so that every mutation made
// through the store (or, with a shared store, through any process) reaches the
// enforcement points at once.
type OrgSource struct {
	h *org.Handle
}

// NewOrgSource returns the Source of organization orgID in s; an unknown
// organization is the store's OrganizationNotFoundException.
func NewOrgSource(s *org.Store, orgID string) (*OrgSource, error) {
	h, err := s.Handle(orgID)
	if err != nil {
		return nil, err
	}
	return &OrgSource{h: h}, nil
}

// Snapshot returns the organization's latest snapshot, or nil once the
// organization is deleted. It costs one atomic load.
func (o *OrgSource) Snapshot() Snapshot {
	if s := o.h.Snapshot(); s != nil {
		return s
	}
	return nil
}
