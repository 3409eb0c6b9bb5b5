package realserver

import (
	"io"
	"net/http"
	"os"
	"slices"
	"testing"
)

func TestMain(m *testing.M) {
	code := m.Run()
	Cleanup()
	os.Exit(code)
}

// TestListenerFlags: StartWmpolicy waits for exactly the listeners named by
// address flags, whichever form the flag takes.
func TestListenerFlags(t *testing.T) {
	got := listenerFlags([]string{"--rules", "r.json", "--users=u.json", "--dovecot", "127.0.0.1:0", "-postfix=127.0.0.1:0", "--dovecot-secret", "x", "--nginx-mail", ":0"})
	want := []string{"dovecot", "postfix", "nginx-mail"}
	if !slices.Equal(got, want) {
		t.Errorf("listenerFlags = %v, want %v", got, want)
	}
}

// TestStartNginx: nginx runs in the foreground from a temporary directory and
// answers on the port the harness picked.
func TestStartNginx(t *testing.T) {
	addr := FreeAddr(t)
	StartNginx(t, NginxConfig{
		HTTP: "server { listen " + addr + "; location / { return 200 \"ok\\n\"; } }",
		Wait: []string{addr},
	})
	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "ok\n" {
		t.Fatalf("GET / = %d %q", resp.StatusCode, body)
	}
}
