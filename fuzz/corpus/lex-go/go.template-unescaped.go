package main

import "html/template"

func render(bio string) {
	// ruleid: go.template-unescaped
	a := template.HTML("<p>" + bio + "</p>")
	// ok: go.template-unescaped
	b := template.HTML("<hr>")
	_, _ = a, b
}
