package main

import (
	"crypto/md5"
	"crypto/sha256"
)

func sums(b []byte) {
	// ruleid: go.weak-hash
	a := md5.Sum(b)
	// ok: go.weak-hash
	c := sha256.Sum256(b)
	_, _ = a, c
}
