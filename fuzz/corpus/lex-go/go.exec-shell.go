package main

import "os/exec"

func run(name string) {
	// ruleid: go.exec-shell
	exec.Command("sh", "-c", "ls "+name).Run()
	// ruleid: go.exec-shell
	exec.Command("/bin/bash", "-c", name).Run()
	// ok: go.exec-shell
	exec.Command("sh", "-c", "ls -l").Run()
	// ok: go.exec-shell
	exec.Command("ls", "-l", name).Run()
}
