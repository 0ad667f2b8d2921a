package main

import "os"

func write(b []byte) {
	// ruleid: go.permissive-file-mode
	os.WriteFile("/srv/out", b, 0777)
	// ok: go.permissive-file-mode
	os.WriteFile("/srv/out", b, 0644)
}
