package enforce

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wmpolicy/wmpolicy/impersonation"
)

// SEMANTICS B9 with files: roles and keys reload when their files change;
// an invalid change keeps the version in force.
func TestSemanticsB9_EWSFilesReload(t *testing.T) {
	dir := t.TempDir()
	keyFile, roleFile := filepath.Join(dir, "key.json"), filepath.Join(dir, "role.json")
	copyFile(t, "testdata/ews/demo-key.json", keyFile)
	copyFile(t, "testdata/ews/role.json", roleFile)
	const orgID = "m-d281d0a2fd824be5b6cd3d3ce909fd27"
	files, err := NewEWSFiles(EWSFilesOptions{OrganizationID: orgID, KeyFile: keyFile, RoleFiles: []string{roleFile}, Poll: time.Nanosecond, Log: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	auths := files.Authorizers(exampleFileSource(t))
	keyData, _ := os.ReadFile(keyFile)
	ring := must(decodeKeyFile(keyData))
	tok := must(must(impersonation.NewIssuer(ring, impersonation.IssuerOptions{})).AssumeImpersonationRole(orgID, "9f1c2a64-3b7e-4d5a-8c21-0e6b7a9d4f10")).Token
	dc := mustAddr("10.20.1.1")
	if d := auths.Authorizer().Authorize(tok, dc, "bob"); !d.Allowed {
		t.Fatalf("before: bob denied at %v", d.Failed)
	}
	first := auths.Authorizer()
	if auths.Authorizer() != first {
		t.Errorf("the authorizer was rebuilt without a change")
	}

	// The role now denies bob too.
	role, _ := os.ReadFile(roleFile)
	os.WriteFile(roleFile, []byte(strings.Replace(string(role), `"alice@example.com"`, `"alice@example.com", "bob"`, 1)), 0o644)
	if d := auths.Authorizer().Authorize(tok, dc, "bob"); d.Allowed || d.Failed != impersonation.StepRole {
		t.Errorf("after the role change: bob allowed %v, failed %v", d.Allowed, d.Failed)
	}
	// An invalid role file: the version in force stays.
	os.WriteFile(roleFile, []byte(`{"Name": "x"`), 0o644)
	if err := files.Check(); err == nil {
		t.Errorf("an invalid role file was accepted")
	}
	if d := auths.Authorizer().Authorize(tok, dc, "bob"); d.Allowed || d.Failed != impersonation.StepRole {
		t.Errorf("after an invalid change: bob allowed %v, failed %v", d.Allowed, d.Failed)
	}
	// Key rotation: a new current key; the old one kept verifies the old token.
	os.WriteFile(roleFile, role, 0o644)
	newKey := `{"Keys": [{"Id": "k2", "Secret": "c2Vjb25kLWtleS1mb3ItdGVzdHMtb25seS0wMTIzNDU2Nzg5"}, ` + strings.TrimPrefix(strings.TrimSpace(string(keyData)), `{
    "Keys": [`)
	os.WriteFile(keyFile, []byte(newKey), 0o600)
	if err := files.Check(); err != nil {
		t.Fatal(err)
	}
	if d := auths.Authorizer().Authorize(tok, dc, "bob"); !d.Allowed {
		t.Errorf("after rotation: the old key's token denied at %v (%v)", d.Failed, d.TokenErr)
	}
	// The old key dropped: its token no longer verifies.
	os.WriteFile(keyFile, []byte(`{"Keys": [{"Id": "k2", "Secret": "c2Vjb25kLWtleS1mb3ItdGVzdHMtb25seS0wMTIzNDU2Nzg5"}]}`), 0o600)
	if d := auths.Authorizer().Authorize(tok, dc, "bob"); d.Allowed || d.Failed != impersonation.StepToken {
		t.Errorf("after dropping the key: allowed %v, failed %v", d.Allowed, d.Failed)
	}
	for _, bad := range []EWSFilesOptions{
		{KeyFile: keyFile, RoleFiles: []string{roleFile}},
		{OrganizationID: orgID, RoleFiles: []string{roleFile}},
		{OrganizationID: orgID, KeyFile: keyFile},
		{OrganizationID: orgID, KeyFile: keyFile, RoleFiles: []string{roleFile, roleFile}},
		{OrganizationID: orgID, KeyFile: roleFile, RoleFiles: []string{roleFile}},
		{OrganizationID: orgID, KeyFile: keyFile, RoleFiles: []string{filepath.Join(dir, "missing.json")}},
	} {
		if _, err := NewEWSFiles(bad); err == nil {
			t.Errorf("NewEWSFiles(%+v) accepted", bad)
		}
	}
}
