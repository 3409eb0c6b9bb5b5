package policy

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/wmpolicy/wmpolicy/internal/fold"
	"github.com/wmpolicy/wmpolicy/internal/userdir"
)

// User is one user of an organization's directory, as far as rule evaluation needs
// it: the identifiers it can be named by and its state.
type User struct {
	// ID is the WorkMail user ID ("S-1-1-11-…" or a GUID). Required, unique.
	ID string
	// Email is the primary email address; may be empty.
	Email string
	// Aliases are further email addresses of the user.
	Aliases []string
	// Name is the user name; may be empty.
	Name string
	// DisplayName is informational only.
	DisplayName string
	// State is "ENABLED", "DISABLED" or "DELETED" (the model's EntityState).
	State string
}

// Enabled reports whether the user's state is ENABLED.
func (u User) Enabled() bool { return u.State == "ENABLED" }

// Directory resolves the identifiers of an organization's users (SEMANTICS A18, B2).
//
// Lookup returns the user named by id, which may be the user's ID (compared
// exactly), email address or alias, or user name (both compared
// case-insensitively). IDs take precedence over emails, emails over user names.
// Implementations must be safe for concurrent use and should not allocate.
type Directory interface {
	Lookup(id string) (User, bool)
}

// MemDirectory is an immutable in-memory [Directory]. Build one with
// [NewDirectory] or [DecodeUsers]; it is safe for concurrent use, and Lookup
// costs one or two hash lookups and never allocates for ASCII identifiers of up to
// 256 bytes.
//
// The zero MemDirectory (and a nil *MemDirectory) holds no users.
type MemDirectory struct {
	users []User
	// keys maps every identifier to its user's index: IDs exactly as written,
	// emails, aliases and user names folded. No two identifiers collide even
	// when folded (NewDirectory refuses that), so one table serves both; an
	// ID entry carries userdir.IDFlag so that a folded lookup never matches an
	// ID in another case. The library's evaluators reach it through userdir.Of.
	keys userdir.Keys
}

func init() {
	userdir.Of = func(dir any) *userdir.Keys {
		if d, ok := dir.(*MemDirectory); ok && d != nil {
			return &d.keys
		}
		return nil
	}
}

// NewDirectory builds a directory from users. Every user needs an ID; no
// identifier (ID, email, alias or user name, compared case-insensitively) may name
// two different users, so that a name can never resolve ambiguously. Every problem
// is reported, with the path Users[i].Field, as an [ErrorList] of
// ValidationException errors. The users slice is copied.
func NewDirectory(users []User) (*MemDirectory, error) {
	if len(users) >= 1<<30 {
		return nil, Errorf(ValidationException, "Users", fmt.Sprintf("%d users: a directory holds fewer than 2^30", len(users)))
	}
	d := &MemDirectory{users: make([]User, len(users))}
	// The identifiers and their entries, for the table (claim keeps them
	// distinct).
	keys := make([]string, 0, 3*len(users))
	vals := make([]int32, 0, 3*len(users))
	var errs ErrorList
	type place struct {
		user  int
		field string
		entry int // its entry in keys and vals
	}
	seen := make(map[string]place, 3*len(users))
	// put enters identifier key (value v, written in field) of user i
	// unless it names another user. A user's identifiers that fold alike
	// share their place; when one also has the same table key as the entry
	// there (an ID already in folded form and an email equal to it, an
	// email repeated as an alias), the later value replaces the earlier, as
	// a map assignment would.
	put := func(i int, field, v, key string, val int32) {
		k := fold.String(v)
		p, ok := seen[k]
		if ok && p.user != i {
			errs = append(errs, Errorf(ValidationException, fmt.Sprintf("Users[%d].%s", i, field),
				fmt.Sprintf("identifier %q already names Users[%d] (its %s)", v, p.user, p.field)))
			return
		}
		if ok && keys[p.entry] == key {
			vals[p.entry] = val
		} else {
			p.entry = len(keys)
			keys, vals = append(keys, key), append(vals, val)
		}
		seen[k] = place{i, field, p.entry}
	}
	for i, u := range users {
		u.Aliases = append([]string(nil), u.Aliases...)
		d.users[i] = u
		if u.ID == "" {
			errs = append(errs, Errorf(ValidationException, fmt.Sprintf("Users[%d].Id", i), "user ID is required"))
			continue
		}
		for _, f := range []struct{ name, v string }{{"Id", u.ID}, {"Email", u.Email}, {"Name", u.Name}, {"DisplayName", u.DisplayName}, {"State", u.State}} {
			if !utf8.ValidString(f.v) {
				errs = append(errs, Errorf(ValidationException, fmt.Sprintf("Users[%d].%s", i, f.name), "invalid UTF-8"))
			}
		}
		for j, a := range u.Aliases {
			if !utf8.ValidString(a) {
				errs = append(errs, Errorf(ValidationException, fmt.Sprintf("Users[%d].Aliases[%d]", i, j), "invalid UTF-8"))
			}
		}
		switch u.State {
		case "", "ENABLED", "DISABLED", "DELETED":
		default:
			errs = append(errs, Errorf(ValidationException, fmt.Sprintf("Users[%d].State", i),
				fmt.Sprintf("invalid state %q: must be ENABLED, DISABLED or DELETED", u.State)))
		}
		var en int32
		if u.State == "ENABLED" {
			en = userdir.EnabledFlag
		}
		put(i, "Id", u.ID, u.ID, int32(i)|userdir.IDFlag|en)
		add := func(field, v string) {
			if v != "" {
				put(i, field, v, fold.String(v), int32(i)|en)
			}
		}
		add("Email", u.Email)
		for j, a := range u.Aliases {
			add(fmt.Sprintf("Aliases[%d]", j), a)
		}
		add("Name", u.Name)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	d.keys = userdir.FromPairs(keys, vals)
	return d, nil
}

// Lookup implements [Directory]. An ID or an identifier already in folded form
// costs one hash probe; one in another case costs a second probe of its folded
// form. It does not allocate for ASCII identifiers of up to 256 bytes (folding
// a non-ASCII one allocates).
func (d *MemDirectory) Lookup(id string) (User, bool) {
	if d == nil {
		return User{}, false
	}
	i, _, _, ok := d.keys.Find(id)
	if !ok {
		return User{}, false
	}
	return d.users[i], true
}

// Users returns a copy of the directory's users, in the order they were given.
func (d *MemDirectory) Users() []User {
	if d == nil {
		return nil
	}
	out := make([]User, len(d.users))
	for i, u := range d.users {
		u.Aliases = append([]string(nil), u.Aliases...)
		out[i] = u
	}
	return out
}

// Len returns the number of users.
func (d *MemDirectory) Len() int {
	if d == nil {
		return 0
	}
	return len(d.users)
}

// UserJSON is the wire shape of one user in `aws workmail list-users` output (the
// model's User structure). Members the library does not use are kept raw, so that
// real AWS CLI output always loads (SEMANTICS D2).
type UserJSON struct {
	Id                              string          `json:"Id"`
	Email                           string          `json:"Email,omitempty"`
	Name                            string          `json:"Name,omitempty"`
	DisplayName                     string          `json:"DisplayName,omitempty"`
	State                           string          `json:"State,omitempty"`
	UserRole                        json.RawMessage `json:"UserRole,omitempty"`
	EnabledDate                     json.RawMessage `json:"EnabledDate,omitempty"`
	DisabledDate                    json.RawMessage `json:"DisabledDate,omitempty"`
	IdentityProviderUserId          json.RawMessage `json:"IdentityProviderUserId,omitempty"`
	IdentityProviderIdentityStoreId json.RawMessage `json:"IdentityProviderIdentityStoreId,omitempty"`
}

// ListUsersOutput is the wire shape of `aws workmail list-users` output.
type ListUsersOutput struct {
	Users     []UserJSON      `json:"Users"`
	NextToken json.RawMessage `json:"NextToken,omitempty"`
}

// DecodeUsers reads `aws workmail list-users` output strictly (SEMANTICS D2, D3)
// and builds a directory from it. Every problem is reported with its path. One
// page of a longer listing (a NextToken) is refused (D4): a directory missing
// users would make rules naming them unknown.
func DecodeUsers(data []byte) (*MemDirectory, error) {
	out, err := DecodeListUsers(data)
	if err != nil {
		return nil, err
	}
	users := make([]User, len(out.Users))
	for i, u := range out.Users {
		users[i] = User{ID: u.Id, Email: u.Email, Name: u.Name, DisplayName: u.DisplayName, State: u.State}
	}
	return NewDirectory(users)
}
