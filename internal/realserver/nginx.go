package realserver

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// NginxMailModule is where Debian's libnginx-mod-mail installs the mail
// module.
const NginxMailModule = "/usr/lib/nginx/modules/ngx_mail_module.so"

// NginxConfig is what a test puts into nginx.conf; the harness adds the rest
// (foreground, pid file, error log on stderr, temporary paths inside the
// server's directory, the mail module when Mail is set).
type NginxConfig struct {
	// HTTP is the body of the http { } block (servers, upstreams); empty
	// means no http block.
	HTTP string
	// Mail is the body of the mail { } block; empty means no mail block.
	Mail string
	// Wait lists the addresses ("127.0.0.1:PORT") the configuration listens
	// on: StartNginx returns once each accepts connections.
	Wait []string
}

// Nginx is a running nginx.
type Nginx struct {
	*Process
	// Conf is the path of the nginx.conf written.
	Conf string
}

// StartNginx writes nginx.conf into a temporary directory and runs nginx in
// the foreground (master and one worker; as root the worker runs as root so
// that it can use the temporary directory). It fails in CI, or skips, when
// nginx or, for a Mail block, the mail module is missing.
func StartNginx(t testing.TB, cfg NginxConfig) *Nginx {
	t.Helper()
	bin := Require(t, "nginx")
	dir := t.TempDir()
	var b strings.Builder
	if cfg.Mail != "" {
		if _, err := os.Stat(NginxMailModule); err != nil {
			Missing(t, "the nginx mail module (libnginx-mod-mail) is not installed")
		}
		fmt.Fprintf(&b, "load_module %s;\n", NginxMailModule)
	}
	fmt.Fprintf(&b, "daemon off;\nmaster_process on;\nworker_processes 1;\npid %s;\nerror_log stderr info;\n", filepath.Join(dir, "nginx.pid"))
	if os.Geteuid() == 0 {
		b.WriteString("user root root;\n")
	}
	b.WriteString("events { worker_connections 1024; }\n")
	if cfg.HTTP != "" {
		b.WriteString("http {\n  access_log off;\n")
		for _, p := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
			fmt.Fprintf(&b, "  %s_temp_path %s;\n", p, filepath.Join(dir, p))
		}
		b.WriteString(cfg.HTTP)
		b.WriteString("\n}\n")
	}
	if cfg.Mail != "" {
		b.WriteString("mail {\n")
		b.WriteString(cfg.Mail)
		b.WriteString("\n}\n")
	}
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(b.String()), 0o644); err != nil {
		t.Fatalf("realserver: %v", err)
	}
	p := Start(t, "nginx", dir, nil, bin, "-e", "stderr", "-p", dir, "-c", conf)
	for _, addr := range cfg.Wait {
		WaitPort(t, p, addr)
	}
	return &Nginx{Process: p, Conf: conf}
}
