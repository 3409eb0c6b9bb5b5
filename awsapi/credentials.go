package awsapi

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"

	"github.com/wmpolicy/wmpolicy/policy"
)

// MaxCredentialsFileBytes is the largest credentials file LoadCredentials reads.
const MaxCredentialsFileBytes = 1 << 20

// Key is one access key of a credentials file (SEMANTICS F3), with AWS's own
// member names:
//
//	{"Keys": [{"AccessKeyId": "WMP…", "SecretAccessKey": "…", "ReadOnly": false,
//	           "Organizations": ["m-…"]}]}
//
// ReadOnly limits the key to the operations that change nothing (Describe…,
// Get…, List…); Organizations, when present, limits it to those
// organizations (absent: every organization). A key used outside its grant
// gets AccessDeniedException.
type Key struct {
	AccessKeyId     string
	SecretAccessKey string
	ReadOnly        bool
	// Organizations is nil for every organization, else the organizations the
	// key may act on (never empty: an empty list in the file is refused).
	Organizations []string
}

// keyJSON is Key's file shape: Organizations absent and [] differ.
type keyJSON struct {
	AccessKeyId     string    `json:"AccessKeyId"`
	SecretAccessKey string    `json:"SecretAccessKey"`
	ReadOnly        bool      `json:"ReadOnly,omitempty"`
	Organizations   *[]string `json:"Organizations,omitempty"`
}

type credentialsJSON struct {
	Keys []keyJSON `json:"Keys"`
}

// Credentials is a parsed credentials file: the access keys the handler
// accepts. It is immutable and safe for concurrent use; the zero value holds
// no keys (every signed request is then UnrecognizedClientException).
type Credentials struct {
	keys map[string]*Key
}

var (
	accessKeyIDRE = regexp.MustCompile(`^[A-Za-z0-9_]{16,128}$`)
	secretRE      = regexp.MustCompile(`^[\x21-\x7e]{16,128}$`)
)

// ParseCredentials parses a credentials file's bytes strictly (SEMANTICS D2:
// unknown, duplicated or wrong-case members are errors). Every key needs an
// AccessKeyId of 16–128 letters, digits or underscores, unique in the file,
// and a SecretAccessKey of 16–128 printable ASCII characters; Organizations,
// when present, is a non-empty list of well-formed organization IDs. Every
// problem is reported (a policy.ErrorList with paths such as
// Keys[1].AccessKeyId); an error never quotes a secret.
func ParseCredentials(data []byte) (*Credentials, error) {
	var f credentialsJSON
	if err := policy.DecodeStrict(data, &f); err != nil {
		return nil, err
	}
	var errs policy.ErrorList
	add := func(path, msg string) { errs = append(errs, policy.Errorf(policy.ValidationException, path, msg)) }
	if len(f.Keys) == 0 {
		add("Keys", "the credentials file holds no key")
	}
	c := &Credentials{keys: make(map[string]*Key, len(f.Keys))}
	for i, k := range f.Keys {
		p := fmt.Sprintf("Keys[%d]", i)
		if !accessKeyIDRE.MatchString(k.AccessKeyId) {
			add(p+".AccessKeyId", "want 16-128 letters, digits or underscores")
		} else if c.keys[k.AccessKeyId] != nil {
			add(p+".AccessKeyId", fmt.Sprintf("the key %s appears twice", k.AccessKeyId))
		}
		if !secretRE.MatchString(k.SecretAccessKey) {
			add(p+".SecretAccessKey", "want 16-128 printable ASCII characters without spaces")
		}
		key := &Key{AccessKeyId: k.AccessKeyId, SecretAccessKey: k.SecretAccessKey, ReadOnly: k.ReadOnly}
		if k.Organizations != nil {
			if len(*k.Organizations) == 0 {
				add(p+".Organizations", "an empty list grants nothing: omit Organizations to grant every organization")
			}
			for j, o := range *k.Organizations {
				if !policy.ValidOrganizationID(o) {
					add(fmt.Sprintf("%s.Organizations[%d]", p, j), "want m- and 32 lowercase hexadecimal digits")
				}
			}
			key.Organizations = append([]string{}, *k.Organizations...)
			sort.Strings(key.Organizations)
		}
		if c.keys[k.AccessKeyId] == nil {
			c.keys[k.AccessKeyId] = key
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return c, nil
}

// LoadCredentials reads and parses the credentials file at path. The file
// must be a regular file that neither group nor others may read or write
// (mode 0600 or stricter), and at most MaxCredentialsFileBytes long.
func LoadCredentials(path string) (*Credentials, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("credentials file %s: not a regular file", path)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("credentials file %s: mode %04o lets group or others access it; chmod 600 it", path, st.Mode().Perm())
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxCredentialsFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxCredentialsFileBytes {
		return nil, fmt.Errorf("credentials file %s: larger than %d bytes", path, MaxCredentialsFileBytes)
	}
	c, err := ParseCredentials(data)
	if err != nil {
		return nil, fmt.Errorf("credentials file %s: %w", path, err)
	}
	return c, nil
}

// Key returns the key with the given access key ID.
func (c *Credentials) Key(accessKeyID string) (*Key, bool) {
	if c == nil {
		return nil, false
	}
	k, ok := c.keys[accessKeyID]
	return k, ok
}

// Len returns the number of keys.
func (c *Credentials) Len() int {
	if c == nil {
		return 0
	}
	return len(c.keys)
}

// NewKey returns a new random key with every organization and every
// operation: an access key ID of "WMP" and 17 base32 characters (20, like
// AWS's) and a secret of 40 base64 characters, from crypto/rand.
func NewKey() (Key, error) {
	b := make([]byte, 11+30)
	if _, err := rand.Read(b); err != nil {
		return Key{}, err
	}
	id := "WMP" + base32.StdEncoding.EncodeToString(b[:11])[:17]
	secret := base64.StdEncoding.EncodeToString(b[11:])
	return Key{AccessKeyId: id, SecretAccessKey: secret}, nil
}

// ErrCredentialsExist is returned by GenerateCredentials when the file exists.
var ErrCredentialsExist = errors.New("awsapi: the credentials file already exists")

// GenerateCredentials creates a credentials file at path (mode 0600, created
// exclusively: an existing file is never overwritten, ErrCredentialsExist)
// holding one new key from NewKey, and returns that key. The file is synced
// before it returns.
func GenerateCredentials(path string) (Key, error) {
	k, err := NewKey()
	if err != nil {
		return Key{}, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return Key{}, ErrCredentialsExist
		}
		return Key{}, err
	}
	data := fmt.Sprintf("{\"Keys\": [{\"AccessKeyId\": %q, \"SecretAccessKey\": %q, \"ReadOnly\": false}]}\n", k.AccessKeyId, k.SecretAccessKey)
	if _, err := f.WriteString(data); err != nil {
		f.Close()
		os.Remove(path)
		return Key{}, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return Key{}, err
	}
	return k, f.Close()
}

// allows reports whether the key may act on organization orgID.
func (k *Key) allows(orgID string) bool {
	if k.Organizations == nil {
		return true
	}
	i := sort.SearchStrings(k.Organizations, orgID)
	return i < len(k.Organizations) && k.Organizations[i] == orgID
}
