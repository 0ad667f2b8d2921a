module "example.com/m"
go 1.21
require "github.com/gin-gonic/gi\u006e" v1.0.0
require (
	"github.com/\x61/\142" "v1.2.3"
	"github.com/\U00000063/d" v2.0.0
)
replace "github.com/a/b" => "github.com/j/k" "v4.0.1"
exclude "github.com/e/f" v1.0.0
