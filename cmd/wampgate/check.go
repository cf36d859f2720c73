package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"

	"github.com/wampgate/wampgate/gateway/config"
)

const checkUsage = `Usage: wampgate check --config FILE

Validate a config file without starting anything. Every problem is printed
to stderr as FILE:LINE: key.path: what is wrong, and the exit status is 1.
A valid file prints a summary and exits 0. Usage errors exit 2.

Flags:
`

// runCheck implements `wampgate check --config FILE`.
func runCheck(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("wampgate check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var path string
	fs.StringVar(&path, "config", "", "config file to check (required)")
	fs.StringVar(&path, "c", "", "short for --config")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), checkUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "wampgate check: unexpected argument %q (use --config FILE)\n", fs.Arg(0))
		return 2
	}
	if path == "" {
		fmt.Fprintln(stderr, "wampgate check: --config FILE is required")
		return 2
	}
	cfg, err := config.Load(path)
	if err != nil {
		var errs *config.Errors
		if errors.As(err, &errs) {
			for _, e := range errs.List {
				fmt.Fprintln(stderr, e)
			}
		} else {
			fmt.Fprintf(stderr, "%s: %v\n", path, err)
		}
		return 1
	}
	fmt.Fprintf(stdout, "%s: ok (%s, %s, %s)\n", path,
		checkCount(len(cfg.Realms), "realm"), checkCount(len(cfg.Listen), "listener"), checkCount(len(cfg.Devices), "device"))
	return 0
}

// checkCount formats n and noun, plural unless n is 1.
func checkCount(n int, noun string) string {
	if n != 1 {
		noun += "s"
	}
	return strconv.Itoa(n) + " " + noun
}
