package main

import (
	"archive/zip"
	"path/filepath"
)

func extract(r *zip.Reader, dir string) {
	for _, f := range r.File {
		// ruleid: go.zip-slip
		path := filepath.Join(dir, f.Name)
		// ok: go.zip-slip
		other := filepath.Join(dir, "static")
		_, _ = path, other
	}
}
