package main

import "net"

func listen() {
	// ruleid: go.bind-all-interfaces
	a, _ := net.Listen("tcp", "0.0.0.0:8080")
	// ok: go.bind-all-interfaces
	b, _ := net.Listen("tcp", "127.0.0.1:8080")
	_, _ = a, b
}
