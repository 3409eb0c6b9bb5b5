package enforce

import (
	"context"
	"strings"
	"testing"
)

// TestZeroValuesRefuse: the zero value of every enforcement point refuses
// (fails closed) instead of panicking.
func TestZeroValuesRefuse(t *testing.T) {
	if _, got := dovecotDo(&DovecotPolicy{}, "allow", `{"login":"bob","remote":"192.0.2.5","protocol":"imap"}`, nil); got != refuse {
		t.Errorf("zero DovecotPolicy: %s", got)
	}
	if _, hdr := nginxAsk(&NginxMail{}, nginxLogin("plain", "bob", "imap", "192.0.2.5")); hdr.Get("Auth-Status") != DenyMessage {
		t.Errorf("zero NginxMail: %v", hdr)
	}
	c := &memConn{r: strings.NewReader(postfixRequestText("sasl_username=bob", "client_address=192.0.2.1"))}
	(&PostfixPolicy{}).ServeConn(context.Background(), c)
	if c.w.String() != "" {
		t.Errorf("zero PostfixPolicy answered %q", c.w.String())
	}
	var a Answer
	(&Decider{Log: discardLog()}).Decide(context.Background(), officeBob, &a)
	if a.Allow || a.Outcome != NoSnapshot {
		t.Errorf("zero Decider: %+v", a)
	}
}
