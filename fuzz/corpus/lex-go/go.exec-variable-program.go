package main

import "os/exec"

func run(prog string) {
	// ruleid: go.exec-variable-program
	exec.Command(prog, "--version").Run()
	// ok: go.exec-variable-program
	exec.Command("git", "status").Run()
}
