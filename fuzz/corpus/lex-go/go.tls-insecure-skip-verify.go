package main

import "crypto/tls"

var bad = &tls.Config{
	// ruleid: go.tls-insecure-skip-verify
	InsecureSkipVerify: true,
}

var good = &tls.Config{
	// ok: go.tls-insecure-skip-verify
	InsecureSkipVerify: false,
}
