package main

import "crypto/tls"

var old = &tls.Config{
	// ruleid: go.tls-old-version
	MinVersion: tls.VersionTLS10,
}

var modern = &tls.Config{
	// ok: go.tls-old-version
	MinVersion: tls.VersionTLS12,
}
