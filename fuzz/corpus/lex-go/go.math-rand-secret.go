package main

import "math/rand"

func token() int {
	// ruleid: go.math-rand-secret
	sessionToken := rand.Int63()
	// ok: go.math-rand-secret
	delay := rand.Intn(100)
	return int(sessionToken) + delay
}
