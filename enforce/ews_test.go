package enforce

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
)

func readEWS(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/ews/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// SEMANTICS E8: the ConnectingSID mailbox and the operation of Microsoft's
// published request forms.
func TestSemanticsE8_ParseEWSRequest(t *testing.T) {
	for _, tc := range []struct {
		file, kind, target, op string
	}{
		{"finditem.xml", "PrimarySmtpAddress", "bob@example.com", "FindItem"},
		{"getitem.xml", "SmtpAddress", "bob@example.com", "GetItem"},
		{"createitem.xml", "PrincipalName", "bob@example.com", "CreateItem"},
		{"senditem.xml", "SID", "S-1-1-11-1234567890-1234567890-1234567890-1002", "SendItem"},
	} {
		body := readEWS(t, tc.file)
		got, err := ParseEWSRequest(body, true)
		want := EWSRequest{Impersonated: true, TargetKind: tc.kind, Target: tc.target, Operation: tc.op}
		if err != nil || got != want {
			t.Errorf("%s: %+v, %v; want %+v", tc.file, got, err, want)
		}
		// A prefix that holds the header but not the operation.
		cut := body[:strings.Index(string(body), "<soap:Body>")+len("<soap:Body>")]
		got, err = ParseEWSRequest(cut, false)
		want.Operation = ""
		if err != nil || got != want {
			t.Errorf("%s cut after <soap:Body>: %+v, %v; want %+v", tc.file, got, err, want)
		}
		// A prefix that ends inside the header.
		cut = body[:strings.Index(string(body), "</soap:Header>")]
		if _, err := ParseEWSRequest(cut, false); !errors.Is(err, ErrSOAPTooLarge) {
			t.Errorf("%s cut inside the header: %v, want ErrSOAPTooLarge", tc.file, err)
		}
		if _, err := ParseEWSRequest(cut, true); !errors.Is(err, ErrSOAPMalformed) {
			t.Errorf("%s truncated body: %v, want ErrSOAPMalformed", tc.file, err)
		}
	}
}

const (
	envOpen  = `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages">`
	envClose = `</s:Envelope>`
	imp      = `<t:ExchangeImpersonation><t:ConnectingSID><t:PrimarySmtpAddress>bob@example.com</t:PrimarySmtpAddress></t:ConnectingSID></t:ExchangeImpersonation>`
	body     = `<s:Body><m:GetFolder/></s:Body>`
)

// SEMANTICS E8: malformed, ambiguous, DTD-carrying and entity-expanding
// bodies are refused; a body without the header is not impersonated.
func TestSemanticsE8_ParseEWSRequestRefusals(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
		err       error
	}{
		{"not XML", "hello", ErrSOAPMalformed},
		{"empty", "", ErrSOAPMalformed},
		{"not an envelope", `<Envelope/>`, ErrSOAPMalformed},
		{"SOAP namespace missing", `<Envelope><Body><GetItem/></Body></Envelope>`, ErrSOAPMalformed},
		{"no body", envOpen + `<s:Header>` + imp + `</s:Header>` + envClose, ErrSOAPMalformed},
		{"empty body", envOpen + `<s:Body></s:Body>` + envClose, ErrSOAPMalformed},
		{"header after body", envOpen + body + `<s:Header>` + imp + `</s:Header>` + envClose, nil}, // stops at the operation
		{"two headers", envOpen + `<s:Header/><s:Header>` + imp + `</s:Header>` + body + envClose, ErrSOAPMalformed},
		{"two impersonations", envOpen + `<s:Header>` + imp + imp + `</s:Header>` + body + envClose, ErrSOAPAmbiguous},
		{"impersonation in another namespace too", envOpen + `<s:Header>` + imp + strings.ReplaceAll(imp, "t:", "x:") + `</s:Header>` + body + envClose, ErrSOAPAmbiguous},
		// Exchange's other identity-switching headers: the server could act
		// for bob while the proxy decided the ConnectingSID's mailbox.
		{"OpenAsAdminOrSystemService too", envOpen + `<s:Header>` + imp + `<t:OpenAsAdminOrSystemService LogonType="SystemService"><t:ConnectingSID><t:PrimarySmtpAddress>carol@example.com</t:PrimarySmtpAddress></t:ConnectingSID></t:OpenAsAdminOrSystemService></s:Header>` + body + envClose, ErrSOAPAmbiguous},
		{"OpenAsAdminOrSystemService first", envOpen + `<s:Header><t:OpenAsAdminOrSystemService LogonType="Admin"><t:ConnectingSID><t:SID>S-1-5-21-1</t:SID></t:ConnectingSID></t:OpenAsAdminOrSystemService>` + imp + `</s:Header>` + body + envClose, ErrSOAPAmbiguous},
		{"SerializedSecurityContext too", envOpen + `<s:Header>` + imp + `<t:SerializedSecurityContext><t:UserSid>S-1-5-21-1</t:UserSid></t:SerializedSecurityContext></s:Header>` + body + envClose, ErrSOAPAmbiguous},
		{"two ConnectingSIDs", envOpen + `<s:Header><t:ExchangeImpersonation><t:ConnectingSID><t:SID>a</t:SID></t:ConnectingSID><t:ConnectingSID><t:SID>b</t:SID></t:ConnectingSID></t:ExchangeImpersonation></s:Header>` + body + envClose, ErrSOAPAmbiguous},
		{"two mailboxes", envOpen + `<s:Header><t:ExchangeImpersonation><t:ConnectingSID><t:SID>a</t:SID><t:SmtpAddress>b</t:SmtpAddress></t:ConnectingSID></t:ExchangeImpersonation></s:Header>` + body + envClose, ErrSOAPAmbiguous},
		{"no mailbox", envOpen + `<s:Header><t:ExchangeImpersonation><t:ConnectingSID/></t:ExchangeImpersonation></s:Header>` + body + envClose, ErrSOAPMalformed},
		{"no ConnectingSID", envOpen + `<s:Header><t:ExchangeImpersonation/></s:Header>` + body + envClose, ErrSOAPMalformed},
		{"empty mailbox", envOpen + `<s:Header><t:ExchangeImpersonation><t:ConnectingSID><t:SID>  </t:SID></t:ConnectingSID></t:ExchangeImpersonation></s:Header>` + body + envClose, ErrSOAPMalformed},
		{"unknown mailbox kind", envOpen + `<s:Header><t:ExchangeImpersonation><t:ConnectingSID><t:Upn>a</t:Upn></t:ConnectingSID></t:ExchangeImpersonation></s:Header>` + body + envClose, ErrSOAPMalformed},
		{"element in the mailbox", envOpen + `<s:Header><t:ExchangeImpersonation><t:ConnectingSID><t:SID><x/>a</t:SID></t:ConnectingSID></t:ExchangeImpersonation></s:Header>` + body + envClose, ErrSOAPMalformed},
		{"mailbox text too long", envOpen + `<s:Header><t:ExchangeImpersonation><t:ConnectingSID><t:SID>` + strings.Repeat("a", MaxTargetTextLen+1) + `</t:SID></t:ConnectingSID></t:ExchangeImpersonation></s:Header>` + body + envClose, ErrSOAPMalformed},
		{"DTD", `<?xml version="1.0"?><!DOCTYPE s:Envelope [<!ENTITY x "bob@example.com">]>` + envOpen + body + envClose, ErrSOAPDTD},
		{"billion laughs", `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>` + envOpen + `<s:Body><m:GetItem>&lol2;</m:GetItem></s:Body>` + envClose, ErrSOAPDTD},
		{"undeclared entity", envOpen + `<s:Header><t:ExchangeImpersonation><t:ConnectingSID><t:SID>&xxe;</t:SID></t:ConnectingSID></t:ExchangeImpersonation></s:Header>` + body + envClose, ErrSOAPMalformed},
		{"UTF-16 declared", `<?xml version="1.0" encoding="utf-16"?>` + envOpen + body + envClose, ErrSOAPMalformed},
		{"mismatched tags", envOpen + `<s:Header></s:Body>` + envClose, ErrSOAPMalformed},
		{"stray element before body", envOpen + `<x/>` + body + envClose, ErrSOAPMalformed},
	} {
		_, err := ParseEWSRequest([]byte(tc.doc), true)
		if !errors.Is(err, tc.err) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.err)
		}
	}
	got, err := ParseEWSRequest([]byte(envOpen+`<s:Header><t:RequestServerVersion Version="Exchange2013"/></s:Header>`+body+envClose), true)
	if err != nil || got != (EWSRequest{Operation: "GetFolder"}) {
		t.Errorf("no impersonation: %+v, %v", got, err)
	}
	// Entities of XML itself and character references are read.
	got, err = ParseEWSRequest([]byte(envOpen+`<s:Header><t:ExchangeImpersonation><t:ConnectingSID><t:SmtpAddress> b&#111;b&#x40;example.com </t:SmtpAddress></t:ConnectingSID></t:ExchangeImpersonation></s:Header>`+body+envClose), true)
	if err != nil || got.Target != "bob@example.com" {
		t.Errorf("character references: %+v, %v", got, err)
	}
	// SOAP 1.2 and the https:// namespaces some documentation prints.
	doc := strings.NewReplacer(SOAP11Namespace, SOAP12Namespace, "http://schemas.microsoft", "https://schemas.microsoft").Replace(envOpen + `<s:Header>` + imp + `</s:Header>` + body + envClose)
	got, err = ParseEWSRequest([]byte(doc), true)
	if err != nil || got.Target != "bob@example.com" || got.Operation != "GetFolder" {
		t.Errorf("SOAP 1.2: %+v, %v", got, err)
	}
	// Many tiny tokens: bounded.
	many := envOpen + `<s:Header>` + strings.Repeat("<a/>", maxSOAPTokens) + `</s:Header>` + body + envClose
	if _, err := ParseEWSRequest([]byte(many), true); !errors.Is(err, ErrSOAPTooLarge) {
		t.Errorf("many tokens: %v, want ErrSOAPTooLarge", err)
	}
}

// SEMANTICS E8: the write operations E8 lists are never read-only, and
// unknown operations count as writes.
func TestSemanticsE8_ReadOnlyOperations(t *testing.T) {
	for _, op := range writeOperations {
		if EWSReadOnly(op) {
			t.Errorf("%s is listed as read-only", op)
		}
	}
	for _, op := range []string{"", "FrobnicateItem", "finditem", "ArchiveItem", "MarkAllItemsAsRead", "SetHoldOnMailboxes", "UpdateUserConfiguration"} {
		if EWSReadOnly(op) {
			t.Errorf("%q is read-only", op)
		}
	}
	for _, op := range []string{"FindItem", "GetItem", "GetFolder", "SyncFolderItems", "ResolveNames", "GetUserAvailabilityRequest"} {
		if !EWSReadOnly(op) {
			t.Errorf("%s is not read-only", op)
		}
	}
	ops := EWSReadOperations()
	if !slices.IsSorted(ops) {
		t.Errorf("EWSReadOperations is not sorted: %v", ops)
	}
	ops[0] = "CreateItem"
	if EWSReadOnly("CreateItem") {
		t.Errorf("EWSReadOperations returned the package's own slice")
	}
}
