package enforce

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"
)

// XML namespaces of EWS requests.
const (
	SOAP11Namespace      = "http://schemas.xmlsoap.org/soap/envelope/"
	SOAP12Namespace      = "http://www.w3.org/2003/05/soap-envelope"
	EWSTypesNamespace    = "http://schemas.microsoft.com/exchange/services/2006/types"
	EWSMessagesNamespace = "http://schemas.microsoft.com/exchange/services/2006/messages"
)

// EWSRequest is what an EWS SOAP request says about impersonation (SEMANTICS
// E8), as ParseEWSRequest reads it from the start of the body.
type EWSRequest struct {
	// Impersonated is true when the SOAP header holds ExchangeImpersonation.
	Impersonated bool
	// TargetKind is the ConnectingSID element naming the mailbox:
	// PrimarySmtpAddress, SmtpAddress, PrincipalName or SID.
	TargetKind string
	// Target is that element's text, trimmed of XML white space.
	Target string
	// Operation is the local name of the SOAP Body's first element ("FindItem",
	// "CreateItem", …), or "" when the body was cut off by the limit before it.
	Operation string
}

// Errors of ParseEWSRequest. Each is a refusal (E8).
var (
	// ErrSOAPTooLarge: the SOAP header does not end within the read limit.
	ErrSOAPTooLarge = errors.New("enforce: the SOAP header does not end within the limit")
	// ErrSOAPMalformed: not well-formed XML, not a SOAP envelope, or an
	// ExchangeImpersonation header of the wrong shape.
	ErrSOAPMalformed = errors.New("enforce: malformed SOAP request")
	// ErrSOAPDTD: a document type declaration (SOAP forbids them; entity
	// definitions are never expanded).
	ErrSOAPDTD = errors.New("enforce: a SOAP request with a DTD")
	// ErrSOAPAmbiguous: two ExchangeImpersonation headers, two
	// ConnectingSIDs, a ConnectingSID naming two mailboxes, or another
	// header by which the server acts for another identity
	// (OpenAsAdminOrSystemService, SerializedSecurityContext); a proxy and a
	// server could read different targets from it.
	ErrSOAPAmbiguous = errors.New("enforce: ambiguous ExchangeImpersonation header")
)

// maxSOAPTokens bounds the XML tokens ParseEWSRequest reads, whatever the
// limit, so that a prefix of many tiny tokens costs bounded time.
const maxSOAPTokens = 1 << 14

// identityHeaders are the SOAP headers other than ExchangeImpersonation by
// which Exchange acts for another identity: OpenAsAdminOrSystemService (a
// ConnectingSID of its own) and SerializedSecurityContext (a user's SIDs).
// An impersonated request carrying one is ambiguous (ErrSOAPAmbiguous).
var identityHeaders = map[string]bool{"OpenAsAdminOrSystemService": true, "SerializedSecurityContext": true}

// connectingSIDKinds are the children of ConnectingSID that name a mailbox.
var connectingSIDKinds = [...]string{"PrimarySmtpAddress", "SmtpAddress", "PrincipalName", "SID"}

// ParseEWSRequest reads the SOAP envelope at the start of an EWS request
// body with encoding/xml's tokenizer: the ExchangeImpersonation/ConnectingSID
// header and the operation (the Body's first element). prefix is the start of
// the body; complete says whether it is the whole body. It stops at the
// operation's start tag, so the rest of the body is never looked at.
//
// Refused: a DTD (ErrSOAPDTD; an entity reference other than XML's five is a
// syntax error, and nothing is ever expanded), bad XML or a document that is
// not a SOAP 1.1 or 1.2 Envelope whose Header (optional, at most one) comes
// before its Body (ErrSOAPMalformed), an ExchangeImpersonation other than
// exactly one ConnectingSID naming exactly one mailbox with non-empty text
// (ErrSOAPAmbiguous or ErrSOAPMalformed), and a header cut off by the end of
// an incomplete prefix (ErrSOAPTooLarge). Elements are recognized by local
// name whatever their namespace, so that a header the server might honour is
// never skipped. No header is not an error: Impersonated is false.
//
// It reads at most len(prefix) bytes and 16384 tokens, and never panics.
func ParseEWSRequest(prefix []byte, complete bool) (EWSRequest, error) {
	var out EWSRequest
	d := xml.NewDecoder(bytes.NewReader(prefix))
	d.Strict = true
	d.Entity = nil
	d.CharsetReader = nil // a declared encoding other than UTF-8 is an error
	const (
		inDoc = iota
		inEnvelope
		inHeader
		inImpersonation
		inSID
		inTarget
		inBody
	)
	state := inDoc
	skip := 0 // depth inside an element this parser does not look into
	headerSeen, bodySeen, sidSeen := false, false, false
	var text strings.Builder
	for n := 0; ; n++ {
		if n == maxSOAPTokens {
			return EWSRequest{}, ErrSOAPTooLarge
		}
		tok, err := d.Token()
		if err != nil {
			if !complete && (err == io.EOF || isUnexpectedEOF(err)) {
				if state == inBody {
					return out, nil // the header ended; the operation did not fit
				}
				return EWSRequest{}, ErrSOAPTooLarge
			}
			return EWSRequest{}, ErrSOAPMalformed
		}
		switch t := tok.(type) {
		case xml.Directive:
			return EWSRequest{}, ErrSOAPDTD
		case xml.ProcInst, xml.Comment:
			continue
		case xml.CharData:
			if skip == 0 && state == inTarget {
				if text.Len()+len(t) > MaxTargetTextLen {
					return EWSRequest{}, ErrSOAPMalformed
				}
				text.Write(t)
			}
			continue
		case xml.EndElement:
			if skip > 0 {
				skip--
				continue
			}
			switch state {
			case inTarget:
				out.Target = strings.TrimSpace(text.String())
				if out.Target == "" {
					return EWSRequest{}, ErrSOAPMalformed
				}
				state = inSID
			case inSID:
				if out.TargetKind == "" {
					return EWSRequest{}, ErrSOAPMalformed
				}
				state = inImpersonation
			case inImpersonation:
				if !sidSeen {
					return EWSRequest{}, ErrSOAPMalformed
				}
				state = inHeader
			case inHeader:
				state = inEnvelope
			case inBody:
				// An empty Body: no operation.
				return EWSRequest{}, ErrSOAPMalformed
			case inEnvelope:
				// The Envelope ended without a Body.
				return EWSRequest{}, ErrSOAPMalformed
			}
			continue
		case xml.StartElement:
			if skip > 0 {
				skip++
				continue
			}
			name := t.Name.Local
			switch state {
			case inDoc:
				if name != "Envelope" || (t.Name.Space != SOAP11Namespace && t.Name.Space != SOAP12Namespace) {
					return EWSRequest{}, ErrSOAPMalformed
				}
				state = inEnvelope
			case inEnvelope:
				switch {
				case name == "Header" && !headerSeen && !bodySeen:
					headerSeen, state = true, inHeader
				case name == "Body" && !bodySeen:
					bodySeen, state = true, inBody
				default:
					return EWSRequest{}, ErrSOAPMalformed
				}
			case inHeader:
				if identityHeaders[name] {
					// Another header that names the mailbox or the
					// identity the server acts as: the server could act
					// for another than the ConnectingSID decided.
					return EWSRequest{}, ErrSOAPAmbiguous
				}
				if name == "ExchangeImpersonation" {
					if out.Impersonated {
						return EWSRequest{}, ErrSOAPAmbiguous
					}
					out.Impersonated, state = true, inImpersonation
					continue
				}
				skip = 1 // another header (RequestServerVersion, TimeZoneContext, …)
			case inImpersonation:
				if name != "ConnectingSID" {
					return EWSRequest{}, ErrSOAPMalformed
				}
				if sidSeen {
					return EWSRequest{}, ErrSOAPAmbiguous
				}
				sidSeen, state = true, inSID
			case inSID:
				kind := ""
				for _, k := range connectingSIDKinds {
					if name == k {
						kind = k
					}
				}
				switch {
				case kind == "":
					return EWSRequest{}, ErrSOAPMalformed
				case out.TargetKind != "":
					return EWSRequest{}, ErrSOAPAmbiguous
				}
				out.TargetKind, state = kind, inTarget
				text.Reset()
			case inTarget:
				return EWSRequest{}, ErrSOAPMalformed
			case inBody:
				out.Operation = name
				return out, nil
			}
		}
	}
}

// MaxTargetTextLen bounds the text of a ConnectingSID element (a mailbox is
// named by at most 256 characters; white space around it is allowed).
const MaxTargetTextLen = 1024

func isUnexpectedEOF(err error) bool {
	var se *xml.SyntaxError
	return errors.As(err, &se) && se.Msg == "unexpected EOF"
}

// writeOperations are the EWS operations SEMANTICS E8 names as changing
// mailbox state (the tests check that none is in readOperations).
var writeOperations = []string{
	"CreateItem", "UpdateItem", "DeleteItem", "SendItem", "MoveItem", "CopyItem",
	"CreateFolder", "UpdateFolder", "DeleteFolder", "MoveFolder", "CopyFolder", "EmptyFolder",
	"CreateAttachment", "DeleteAttachment", "MarkAsJunk", "UpdateInboxRules", "SetUserOofSettings",
}

// readOperations are the operations known to be read-only (as the Body's
// first element names them: GetUserOofSettings's element is
// GetUserOofSettingsRequest, and so on). [decided] Subscribe, Unsubscribe,
// GetEvents and GetStreamingEvents are reads: they create notification
// subscriptions, never mailbox content, and a read-only client needs them.
var readOperations = map[string]bool{}

var readOperationList = []string{
	"ConvertId", "ExpandDL", "ExportItems", "FindConversation", "FindFolder", "FindItem",
	"FindPeople", "GetAttachment", "GetConversationItems", "GetDelegate", "GetEvents",
	"GetFolder", "GetInboxRules", "GetItem", "GetMailTips", "GetPasswordExpirationDate",
	"GetPersona", "GetReminders", "GetRoomLists", "GetRooms", "GetServerTimeZones",
	"GetServiceConfiguration", "GetStreamingEvents", "GetUserAvailabilityRequest",
	"GetUserConfiguration", "GetUserOofSettingsRequest", "GetUserPhoto", "ResolveNames",
	"Subscribe", "SyncFolderHierarchy", "SyncFolderItems", "Unsubscribe",
}

func init() {
	for _, op := range readOperationList {
		readOperations[op] = true
	}
}

// EWSReadOnly reports whether an operation (the local name of the SOAP Body's
// first element) is known not to change mailbox state, so that a READ_ONLY
// role may call it (E8). Everything else, "" included, counts as a write.
func EWSReadOnly(op string) bool { return readOperations[op] }

// EWSReadOperations returns the operations a READ_ONLY role may call, as the
// SOAP Body's first element names them, sorted; a new slice at every call.
func EWSReadOperations() []string { return append([]string(nil), readOperationList...) }
