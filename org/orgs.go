package org

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/impersonation"
	"github.com/wmpolicy/wmpolicy/internal/fold"
	"github.com/wmpolicy/wmpolicy/policy"
)

// record is one organization's whole state: what its file holds and what a
// Snapshot is compiled from. Records are copy-on-write: a published record and
// every slice it holds are never modified.
type record struct {
	OrganizationId          string           `json:"OrganizationId"`
	Alias                   string           `json:"Alias"`
	State                   string           `json:"State"`
	DirectoryId             string           `json:"DirectoryId,omitempty"`
	Domains                 []Domain         `json:"Domains,omitempty"`
	KmsKeyArn               string           `json:"KmsKeyArn,omitempty"`
	InteroperabilityEnabled bool             `json:"InteroperabilityEnabled,omitempty"`
	DefaultMailDomain       string           `json:"DefaultMailDomain"`
	DateCreated             policy.Timestamp `json:"DateCreated,omitempty"`
	Revision                uint64           `json:"Revision"`
	// CreateToken is the ClientToken of the CreateOrganization call that made it.
	CreateToken *tokenRecord `json:"CreateToken,omitempty"`
	// Rules in ascending Name order; Roles in ascending (Name, ID) order; Users
	// in ascending Id order.
	Rules      []accessctl.Rule     `json:"Rules"`
	Roles      []impersonation.Role `json:"Roles"`
	Users      []User               `json:"Users"`
	RoleTokens []tokenRecord        `json:"RoleTokens,omitempty"`
}

// tokenRecord remembers one ClientToken (B5, C1): the hash of the call's other
// parameters, the ID it created and when.
type tokenRecord struct {
	ClientToken string           `json:"ClientToken"`
	Hash        string           `json:"Hash"`
	Id          string           `json:"Id"`
	Date        policy.Timestamp `json:"Date"`
}

// clone returns a shallow copy of r; slices are shared until replaced.
func (r *record) clone() *record {
	c := *r
	return &c
}

// paramHash is the hash of a call's parameters, ClientToken excluded.
func paramHash(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		// Marshalling the request shapes fails only on invalid enumerations,
		// which validation has refused before.
		b = []byte(fmt.Sprint(v))
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// defaultRule is the rule every new organization starts with (A17).
func defaultRule() accessctl.Rule {
	return accessctl.Rule{Name: "default", Effect: policy.Allow, Description: "Default WorkMail Rule"}
}

var (
	aliasRE       = regexp.MustCompile(`^[0-9A-Za-z]+(-[0-9A-Za-z]+)*$`)
	directoryIDRE = regexp.MustCompile(`^d-[0-9a-f]{10}$`)
	domainRE      = regexp.MustCompile(`^[a-zA-Z0-9.-]+$`)
	kmsRE         = regexp.MustCompile(`^arn:aws:kms:[a-z0-9-]*:[a-z0-9-]+:[A-Za-z0-9][A-Za-z0-9:_/+=,@.-]*$`)
)

// Length limits of the model are in characters, so every length check of
// this package counts runes (utf8.RuneCountInString), as accessctl does; an
// invalid UTF-8 byte counts as one character and is refused by the pattern.

// checkAlias returns what is wrong with an organization alias (C1), or "".
func checkAlias(a string) string {
	switch {
	case a == "":
		return "Alias is required"
	case utf8.RuneCountInString(a) > 62:
		return fmt.Sprintf("alias has %d characters; at most 62 are allowed", utf8.RuneCountInString(a))
	case !aliasRE.MatchString(a):
		return fmt.Sprintf("invalid alias %q: want letters and digits in groups joined by single hyphens", truncate(a, 70))
	case strings.HasPrefix(a, "d-"):
		return fmt.Sprintf("invalid alias %q: it must not start with d-", a)
	}
	return ""
}

// checkClientToken returns what is wrong with a ClientToken (1–128 characters
// of \x21–\x7e), or "".
func checkClientToken(t string) string {
	if n := utf8.RuneCountInString(t); n > 128 {
		return fmt.Sprintf("ClientToken has %d characters; at most 128 are allowed", n)
	}
	for i := 0; i < len(t); i++ {
		if t[i] < 0x21 || t[i] > 0x7e {
			return "ClientToken must be printable ASCII without spaces (\\x21-\\x7e)"
		}
	}
	return ""
}

// validate checks a CreateOrganization request's shapes (C1); every problem
// is reported.
func (in *CreateOrganizationInput) validate() error {
	var errs policy.ErrorList
	add := func(path, msg string) { errs = append(errs, policy.Errorf(policy.ValidationException, path, msg)) }
	if m := checkAlias(in.Alias); m != "" {
		add("Alias", m)
	}
	if in.DirectoryId != "" && !directoryIDRE.MatchString(in.DirectoryId) {
		add("DirectoryId", fmt.Sprintf("invalid directory ID %q: want d- and 10 lowercase hexadecimal digits", truncate(in.DirectoryId, 40)))
	}
	if in.ClientToken != "" {
		if m := checkClientToken(in.ClientToken); m != "" {
			add("ClientToken", m)
		}
	}
	if len(in.Domains) > 5 {
		add("Domains", fmt.Sprintf("%d domains; at most 5 are allowed", len(in.Domains)))
	}
	for i, d := range in.Domains {
		p := fmt.Sprintf("Domains[%d]", i)
		if n := utf8.RuneCountInString(d.DomainName); n < 3 || n > 255 || !domainRE.MatchString(d.DomainName) {
			add(p+".DomainName", fmt.Sprintf("invalid domain name %q: want 3-255 characters of a-z A-Z 0-9 . -", truncate(d.DomainName, 70)))
		}
		if d.HostedZoneId != "" && (utf8.RuneCountInString(d.HostedZoneId) > 32 || strings.ContainsAny(d.HostedZoneId, `/\`) || !utf8.ValidString(d.HostedZoneId)) {
			add(p+".HostedZoneId", "invalid hosted zone ID: want 1-32 characters without / or \\")
		}
	}
	if n := utf8.RuneCountInString(in.KmsKeyArn); in.KmsKeyArn != "" && (n < 20 || n > 2048 || !kmsRE.MatchString(in.KmsKeyArn)) {
		add("KmsKeyArn", "invalid KMS key ARN: want arn:aws:kms:REGION:ACCOUNT:key/… of 20-2048 characters")
	}
	if len(errs) == 0 && in.EnableInteroperability && in.DirectoryId == "" {
		return policy.Errorf(policy.InvalidParameterException, "EnableInteroperability", "interoperability needs a DirectoryId")
	}
	return errs.Err()
}

// CreateOrganization creates an organization (SEMANTICS C1): a new ID of m-
// and 32 random hex digits, State Active, DefaultMailDomain the first domain
// or <alias>.awsapps.com (lowercase), and the default rule (A17). Errors:
// ValidationException for malformed fields (every one reported, with its path);
// InvalidParameterException for EnableInteroperability without DirectoryId
// and for a ClientToken reused with other parameters within 24 hours;
// NameAvailabilityException for an alias a live organization has (compared
// case-insensitively); DirectoryInUseException for a directory a live
// organization uses (when both apply, NameAvailabilityException: the alias is
// checked first). A repeat with the same ClientToken and parameters within
// 24 hours returns the first call's ID and creates nothing.
func (s *Store) CreateOrganization(ctx context.Context, in CreateOrganizationInput) (CreateOrganizationOutput, error) {
	if err := in.validate(); err != nil {
		return CreateOrganizationOutput{}, err
	}
	if sb := s.sharedBackend(); sb != nil {
		return s.createShared(ctx, sb, in)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return CreateOrganizationOutput{}, errClosed
	}
	now := s.now()
	var hash string
	if in.ClientToken != "" {
		p := in
		p.ClientToken = ""
		hash = paramHash(p)
		if t, ok := s.createTokens[in.ClientToken]; ok && now-t.Date < policy.Timestamp(ClientTokenLifetime) {
			if t.Hash != hash {
				return CreateOrganizationOutput{}, policy.Errorf(policy.InvalidParameterException, "ClientToken",
					"the ClientToken was used with different parameters within the last 24 hours")
			}
			return CreateOrganizationOutput{OrganizationId: t.Id}, nil
		}
	}
	idx := s.index.Load().byID
	// The conflicts are checked in two passes, the alias over every live
	// organization first, then the DirectoryId, so that the answer never
	// depends on the map's iteration order: when the alias collides with one
	// organization and the directory with another, the answer is always
	// NameAvailabilityException. SEMANTICS C1 does not rank the two; this
	// follows its order (Alias before DirectoryId) [decided].
	alias := fold.String(in.Alias)
	for _, sl := range idx {
		if fold.String(sl.snap.Load().rec.Alias) == alias {
			return CreateOrganizationOutput{}, policy.Errorf(policy.NameAvailabilityException, "Alias",
				fmt.Sprintf("the alias %q is already in use", in.Alias))
		}
	}
	if in.DirectoryId != "" {
		for _, sl := range idx {
			if sl.snap.Load().rec.DirectoryId == in.DirectoryId {
				return CreateOrganizationOutput{}, policy.Errorf(policy.DirectoryInUseException, "DirectoryId",
					fmt.Sprintf("the directory %s is already used by another organization", in.DirectoryId))
			}
		}
	}
	var id string
	for {
		b, err := s.randomBytes(16)
		if err != nil {
			return CreateOrganizationOutput{}, err
		}
		id = "m-" + hex.EncodeToString(b)
		if idx[id] == nil && s.deleted[id] == nil {
			break
		}
	}
	rec := newOrgRecord(in, id, hash, now)
	snap, err := build(rec, nil)
	if err != nil {
		return CreateOrganizationOutput{}, err
	}
	werr := s.write(ctx, rec, 0)
	if werr != nil && !errors.Is(werr, ErrDurabilityUncertain) {
		return CreateOrganizationOutput{}, werr
	}
	// Written (or in place with uncertain durability): publish.
	s.publishNew(idx, id, snap)
	if rec.CreateToken != nil {
		s.createTokens[in.ClientToken] = *rec.CreateToken
	}
	return CreateOrganizationOutput{OrganizationId: id}, werr
}

// newOrgRecord is the record of a new organization id created by in at now;
// hash is the hash of in's parameters when in has a ClientToken.
func newOrgRecord(in CreateOrganizationInput, id, hash string, now policy.Timestamp) *record {
	rec := &record{
		OrganizationId:          id,
		Alias:                   in.Alias,
		State:                   StateActive,
		DirectoryId:             in.DirectoryId,
		Domains:                 append([]Domain(nil), in.Domains...),
		KmsKeyArn:               in.KmsKeyArn,
		InteroperabilityEnabled: in.EnableInteroperability,
		DateCreated:             now,
		Revision:                1,
		Rules:                   []accessctl.Rule{defaultRule()},
	}
	if len(in.Domains) > 0 {
		rec.DefaultMailDomain = in.Domains[0].DomainName
	} else {
		rec.DefaultMailDomain = strings.ToLower(in.Alias) + ".awsapps.com"
	}
	if in.ClientToken != "" {
		rec.CreateToken = &tokenRecord{ClientToken: in.ClientToken, Hash: hash, Id: id, Date: now}
	}
	return rec
}

// DeleteOrganization deletes an organization (SEMANTICS C2). DeleteDirectory
// is required (ValidationException when absent). An organization with ENABLED
// users is OrganizationStateException unless ForceDelete is set. The answer is
// {OrganizationId, State: "Deleted"}, also for an organization deleted
// before (idempotent); a well-formed ID that never existed is
// OrganizationNotFoundException. The deleted organization is gone from
// listings and every other operation on it is OrganizationNotFoundException;
// its alias and directory become free.
func (s *Store) DeleteOrganization(ctx context.Context, in DeleteOrganizationInput) (DeleteOrganizationOutput, error) {
	var errs policy.ErrorList
	if err := checkOrgID(in.OrganizationId); err != nil {
		errs = append(errs, policy.Errors(err)...)
	}
	if in.DeleteDirectory == nil {
		errs = append(errs, policy.Errorf(policy.ValidationException, "DeleteDirectory", "DeleteDirectory is required"))
	}
	if in.ClientToken != "" {
		if m := checkClientToken(in.ClientToken); m != "" {
			errs = append(errs, policy.Errorf(policy.ValidationException, "ClientToken", m))
		}
	}
	if err := errs.Err(); err != nil {
		return DeleteOrganizationOutput{}, err
	}
	out := DeleteOrganizationOutput{OrganizationId: in.OrganizationId, State: StateDeleted}
	if sb := s.sharedBackend(); sb != nil {
		return out, s.deleteShared(ctx, sb, in)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return DeleteOrganizationOutput{}, errClosed
	}
	if s.deleted[in.OrganizationId] != nil {
		return out, nil
	}
	idx := s.index.Load().byID
	sl := idx[in.OrganizationId]
	if sl == nil {
		return DeleteOrganizationOutput{}, s.notFound(in.OrganizationId)
	}
	prev := sl.snap.Load().rec
	if err := enabledUserError(prev, in.ForceDelete); err != nil {
		return DeleteOrganizationOutput{}, err
	}
	tomb := tombstone(prev)
	werr := s.write(ctx, tomb, prev.Revision)
	if werr != nil && !errors.Is(werr, ErrDurabilityUncertain) {
		return DeleteOrganizationOutput{}, werr
	}
	// Written (or in place with uncertain durability): publish.
	nidx := make(map[string]*slot, len(idx))
	for k, v := range idx {
		if k != in.OrganizationId {
			nidx[k] = v
		}
	}
	s.index.Store(newOrgTable(nidx))
	sl.snap.Store(nil) // Handles of the organization now answer OrganizationNotFound
	s.deleted[in.OrganizationId] = tomb
	return out, werr
}

// tombstone is the record that replaces prev when its organization is deleted.
func tombstone(prev *record) *record {
	return &record{
		OrganizationId:    prev.OrganizationId,
		Alias:             prev.Alias,
		State:             StateDeleted,
		DirectoryId:       prev.DirectoryId,
		DefaultMailDomain: prev.DefaultMailDomain,
		DateCreated:       prev.DateCreated,
		Revision:          prev.Revision + 1,
		CreateToken:       prev.CreateToken,
	}
}

// enabledUserError is DeleteOrganization's refusal of an organization with
// ENABLED users when ForceDelete is not set (C2), or nil.
func enabledUserError(prev *record, force bool) error {
	if force {
		return nil
	}
	for _, u := range prev.Users {
		if u.State == "ENABLED" {
			return policy.Errorf(policy.OrganizationStateException, "ForceDelete",
				fmt.Sprintf("the organization has enabled users (such as %s); set ForceDelete to delete it anyway", u.Id))
		}
	}
	return nil
}

// DescribeOrganization returns an organization's description (C2, C4).
func (s *Store) DescribeOrganization(ctx context.Context, in DescribeOrganizationInput) (DescribeOrganizationOutput, error) {
	snap, err := s.live(in.OrganizationId)
	if err != nil {
		return DescribeOrganizationOutput{}, err
	}
	return describe(snap.rec), nil
}

// orgKey is the listing order of organizations (C3): alias case-folded, then ID.
func orgKey(r *record) [2]string { return [2]string{fold.String(r.Alias), r.OrganizationId} }

func lessKey(a, b [2]string) bool {
	if a[0] != b[0] {
		return a[0] < b[0]
	}
	return a[1] < b[1]
}

// ListOrganizations lists the live organizations (SEMANTICS C3) in ascending
// case-insensitive alias order, then ID, MaxResults (1–100, default 100) at a
// time. NextToken is opaque and continues after the last organization of the
// previous page even if organizations were created or deleted since; a token
// not issued by this store for this listing is InvalidParameterException.
// Cost: O(n log n) for n organizations.
func (s *Store) ListOrganizations(ctx context.Context, in ListOrganizationsInput) (ListOrganizationsOutput, error) {
	max, err := checkMaxResults(in.MaxResults, DefaultOrganizationsPage)
	if err != nil {
		return ListOrganizationsOutput{}, err
	}
	var after *[2]string
	if in.NextToken != "" {
		k, err := s.openPageToken(in.NextToken, listOrganizations, "")
		if err != nil {
			return ListOrganizationsOutput{}, err
		}
		after = &k
	}
	idx := s.index.Load().byID
	recs := make([]*record, 0, len(idx))
	for _, sl := range idx {
		snap := sl.snap.Load()
		if snap == nil { // deleted since the index was loaded
			continue
		}
		r := snap.rec
		if after == nil || lessKey(*after, orgKey(r)) {
			recs = append(recs, r)
		}
	}
	sort.Slice(recs, func(i, j int) bool { return lessKey(orgKey(recs[i]), orgKey(recs[j])) })
	out := ListOrganizationsOutput{OrganizationSummaries: []OrganizationSummary{}}
	for i, r := range recs {
		if i == max {
			out.NextToken = s.pageToken(listOrganizations, "", orgKey(recs[i-1]))
			break
		}
		out.OrganizationSummaries = append(out.OrganizationSummaries, OrganizationSummary{
			OrganizationId: r.OrganizationId, Alias: r.Alias, DefaultMailDomain: r.DefaultMailDomain, State: r.State,
		})
	}
	return out, nil
}

// checkMaxResults returns the page size of a listing: def when MaxResults is
// absent (nil), else *p, which must be 1–MaxResults (ValidationException).
func checkMaxResults(p *int32, def int) (int, error) {
	if p == nil {
		return def, nil
	}
	n := *p
	if n < 1 || n > MaxResults {
		return 0, policy.Errorf(policy.ValidationException, "MaxResults", fmt.Sprintf("MaxResults %d is out of range: want 1-%d", n, MaxResults))
	}
	return int(n), nil
}

// publishNew adds the first snapshot of a new organization id to the read
// index idx (the current one, read under the writer lock) and publishes the
// new index.
func (s *Store) publishNew(idx map[string]*slot, id string, snap *Snapshot) {
	nidx := make(map[string]*slot, len(idx)+1)
	for k, v := range idx {
		nidx[k] = v
	}
	sl := &slot{}
	sl.snap.Store(snap)
	nidx[id] = sl
	s.index.Store(newOrgTable(nidx))
}
