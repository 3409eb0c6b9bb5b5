package realserver_test

import (
	"fmt"

	"github.com/wmpolicy/wmpolicy/internal/realserver"
)

// Each refused login in an end-to-end test comes from a fresh loopback
// address of the range the rules name, because Dovecot delays further
// failures from an address that failed. A test starts its servers with
// StartWmpolicy, StartDovecot, StartPostfix or StartNginx and logs in with
// CurlMail or SwaksAuth from such an address.
func ExampleClientAddr() {
	office := realserver.ClientAddr("127.0.5.0")
	again := realserver.ClientAddr("127.0.5.0")
	elsewhere := realserver.ClientAddr("127.0.6.0")
	fmt.Println(office, again, elsewhere)
	// Output: 127.0.5.10 127.0.5.11 127.0.6.10
}
