package org

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"unicode/utf8"

	"github.com/wmpolicy/wmpolicy/policy"
)

// Listings that issue NextTokens; a token is bound to its listing.
const (
	listOrganizations byte = 1
	listRoles         byte = 2
	listUsers         byte = 3
	listAliases       byte = 4
)

const (
	pageTokenVersion = 1
	pageMACLen       = 16 // bytes of HMAC-SHA-256 kept
	maxNextToken     = 1024
)

// pageToken returns the opaque NextToken that continues listing kind (of
// organization orgID, "" for ListOrganizations; for ListAliases orgID is
// aliasListing's, so the token is bound to the user too) after the item with sort key
// last. It encodes the key, not an offset, so that inserts and deletes between
// pages neither skip nor repeat a surviving item, and it is MACed with the
// store's page key over the listing's identity, so that a token that was
// tampered with or issued for another listing is refused.
//
// Layout (base64url without padding): version, kind, uvarint length and bytes
// of each of the two key parts, then the first 16 bytes of
// HMAC-SHA-256(pageKey, "wmpolicy/org page" ‖ kind ‖ orgID ‖ payload).
func (s *Store) pageToken(kind byte, orgID string, last [2]string) string {
	p := []byte{pageTokenVersion, kind}
	for _, part := range last {
		p = binary.AppendUvarint(p, uint64(len(part)))
		p = append(p, part...)
	}
	p = append(p, s.pageMAC(kind, orgID, p)...)
	return pageEncoding.EncodeToString(p)
}

// pageEncoding is the encoding of NextTokens: base64url without padding,
// strict (the unused bits of the last character must be zero).
var pageEncoding = base64.RawURLEncoding.Strict()

// isBase64URL reports whether c is a character of the base64url alphabet.
func isBase64URL(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

func (s *Store) pageMAC(kind byte, orgID string, payload []byte) []byte {
	m := hmac.New(sha256.New, s.pageKey)
	m.Write([]byte("wmpolicy/org page"))
	m.Write([]byte{kind})
	m.Write([]byte(orgID))
	m.Write([]byte{0})
	m.Write(payload)
	return m.Sum(nil)[:pageMACLen]
}

// openPageToken checks a NextToken for listing kind of orgID and returns the
// key it continues after.
func (s *Store) openPageToken(tok string, kind byte, orgID string) ([2]string, error) {
	bad := policy.Errorf(policy.InvalidParameterException, "NextToken", "the NextToken was not issued for this listing, or was altered")
	if utf8.RuneCountInString(tok) > maxNextToken {
		return [2]string{}, policy.Errorf(policy.ValidationException, "NextToken", "NextToken is longer than 1024 characters")
	}
	// Only the exact string issued is accepted: the decoder skips CR and LF
	// even in strict mode, so every byte is checked against the alphabet
	// first; strict mode then refuses non-zero unused bits in the last
	// character (so no two strings decode to the same token).
	for i := 0; i < len(tok); i++ {
		if !isBase64URL(tok[i]) {
			return [2]string{}, bad
		}
	}
	b, err := pageEncoding.DecodeString(tok)
	if err != nil || len(b) < 2+pageMACLen {
		return [2]string{}, bad
	}
	payload, mac := b[:len(b)-pageMACLen], b[len(b)-pageMACLen:]
	if !hmac.Equal(mac, s.pageMAC(kind, orgID, payload)) {
		return [2]string{}, bad
	}
	if payload[0] != pageTokenVersion || payload[1] != kind {
		return [2]string{}, bad
	}
	rest := payload[2:]
	var key [2]string
	for i := range key {
		n, w := binary.Uvarint(rest)
		if w <= 0 || n > uint64(len(rest)-w) {
			return [2]string{}, bad
		}
		key[i] = string(rest[w : w+int(n)])
		rest = rest[w+int(n):]
	}
	if len(rest) != 0 {
		return [2]string{}, bad
	}
	return key, nil
}
