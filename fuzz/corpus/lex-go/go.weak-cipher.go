package main

import (
	"crypto/aes"
	"crypto/des"
)

func ciphers(k []byte) {
	// ruleid: go.weak-cipher
	a, _ := des.NewCipher(k)
	// ok: go.weak-cipher
	b, _ := aes.NewCipher(k)
	_, _ = a, b
}
