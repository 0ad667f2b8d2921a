package main

import "golang.org/x/crypto/ssh"

func config(cb ssh.HostKeyCallback) []*ssh.ClientConfig {
	return []*ssh.ClientConfig{
		// ruleid: go.ssh-insecure-host-key
		{User: "ci", HostKeyCallback: ssh.InsecureIgnoreHostKey()},
		// ok: go.ssh-insecure-host-key
		{User: "ci", HostKeyCallback: cb},
	}
}
