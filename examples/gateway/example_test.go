package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
)

// A gateway on a loopback port, asked about bob's IMAP login from the office
// and from outside it; the PROXY header tells the client's address.
func Example() {
	g, err := New(Config{
		RulesFile: "../org/rules.json", UsersFile: "../org/users.json",
		ProxyHeader: true, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- g.ServeIMAP(ctx, ln) }()
	defer func() { cancel(); <-done }() // graceful shutdown

	for _, client := range []string{"192.0.2.44", "203.0.113.9"} {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Fprintf(c, "PROXY TCP4 %s 127.0.0.1 50000 143\r\na1 LOGIN bob@example.com secret\r\na2 LOGOUT\r\n", client)
		sc := bufio.NewScanner(c)
		sc.Scan() // the greeting
		sc.Scan()
		fmt.Println(client, sc.Text())
		c.Close()
	}
	// Output:
	// 192.0.2.44 a1 OK LOGIN completed: welcome (this example stops here)
	// 203.0.113.9 a1 NO [AUTHORIZATIONFAILED] access denied by the organization's access-control rules (explicit deny)
}
