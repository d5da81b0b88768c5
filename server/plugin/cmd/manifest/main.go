// Command manifest writes the bundle's plugin.json: manifest <plugin.json> <link-settings.json> <out>.
package main

import (
	"fmt"
	"os"

	"github.com/whoknows/whoknows/server/plugin/manifest"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: manifest <plugin.json> <link-settings.json> <out>")
		os.Exit(2)
	}
	base, err := os.ReadFile(os.Args[1])
	if err == nil {
		var link []byte
		if link, err = os.ReadFile(os.Args[2]); err == nil {
			var out []byte
			if out, err = manifest.Bundle(base, link); err == nil {
				err = os.WriteFile(os.Args[3], out, 0o644)
			}
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "manifest:", err)
		os.Exit(1)
	}
}
