package main

import (
	"crypto/rand"
	"crypto/rsa"
)

func keys() {
	// ruleid: go.rsa-weak-key
	a, _ := rsa.GenerateKey(rand.Reader, 1024)
	// ok: go.rsa-weak-key
	b, _ := rsa.GenerateKey(rand.Reader, 3072)
	_, _ = a, b
}
