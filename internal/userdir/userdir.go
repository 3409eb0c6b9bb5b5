// Package userdir is the key table behind policy.MemDirectory: every
// identifier of every user mapped to the user's position, with the flags hot
// paths need (an ID, an ENABLED user), so that the library's own evaluators
// resolve a name to a position without copying a user (SEMANTICS A18, B2).
package userdir

import (
	"unsafe"

	"github.com/wmpolicy/wmpolicy/internal/fold"
	"github.com/wmpolicy/wmpolicy/internal/strtab"
)

// Entry flags: IDFlag marks an entry that is a user ID (matched only
// exactly), EnabledFlag one whose user is ENABLED. The user's position is the
// entry's value without Flags.
const (
	IDFlag      = -1 << 31
	EnabledFlag = 1 << 30
	Flags       = IDFlag | EnabledFlag
)

// Keys maps identifiers to entries: IDs exactly as written, emails, aliases
// and user names folded ([fold.String]). The zero Keys holds nothing; a Keys is
// immutable and safe for concurrent use.
type Keys struct{ t strtab.Table }

// FromPairs builds the table of keys[i] → vals[i]; keys must be distinct.
func FromPairs(keys []string, vals []int32) Keys {
	return Keys{strtab.FromPairs(keys, vals)}
}

// Find resolves id as policy.Directory's Lookup does and returns the user's
// position, whether the user is ENABLED, and whether id had to be case-folded
// to match (folded is false when id is the user's ID, or an email, alias or
// user name already in folded form). It costs one hash probe, two when id must
// be folded, and does not allocate for ASCII identifiers of up to 256 bytes. A
// nil *Keys finds nothing.
func (k *Keys) Find(id string) (i int, enabled, folded, ok bool) {
	if k == nil {
		return 0, false, false, false
	}
	// An exact ID, or a folded email/alias/name: strtab's Get, written out
	// around its frameless Lookup.
	v, r := k.t.Lookup(id)
	if ok = r == strtab.Hit; r == strtab.Slow {
		v, ok = k.t.Get(id)
	}
	if ok {
		return int(v &^ Flags), v&EnabledFlag != 0, false, true
	}
	var buf [256]byte
	if len(id) <= len(buf) {
		changed, ascii := fold.ASCIILower(buf[:], id)
		switch {
		case ascii && !changed:
			return 0, false, false, false
		case ascii:
			v, ok = k.t.Get(unsafe.String(&buf[0], len(id)))
		default:
			v, ok = k.t.Get(fold.String(id))
		}
	} else {
		v, ok = k.t.Get(fold.String(id))
	}
	if !ok || v&IDFlag != 0 { // IDs match only exactly
		return 0, false, false, false
	}
	return int(v &^ Flags), v&EnabledFlag != 0, true, true
}

// Of returns the Keys of a non-nil *policy.MemDirectory, and nil for anything
// else (another Directory, a nil pointer). Package policy sets it in its init,
// which runs before any package that imports policy, so it is never nil for
// them. It costs a type assertion: call it when compiling, not per request.
var Of func(dir any) *Keys
