// Command configexample writes config.example.yaml from the template a
// first start writes (`make config-example`).
package main

import (
	"fmt"
	"os"

	"github.com/cli-proxy-api/cli-proxy-api/internal/app"
)

func main() {
	out := "config.example.yaml"
	if len(os.Args) > 1 {
		out = os.Args[1]
	}
	body, err := app.ExampleConfig()
	if err == nil {
		err = os.WriteFile(out, []byte(body), 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "configexample:", err)
		os.Exit(1)
	}
}
