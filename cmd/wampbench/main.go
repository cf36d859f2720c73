package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usageHead = `wampbench: load generator for WAMP routers

Usage:
  wampbench SCENARIO [flags]    run one scenario (wampbench SCENARIO -h for flags)
  wampbench table [FILE...]     markdown table from --json result lines (stdin without FILE)

Scenarios:
`

func usage(w io.Writer) {
	fmt.Fprint(w, usageHead)
	for _, s := range scenarios {
		fmt.Fprintf(w, "  %-8s %s\n", s.name, s.help)
	}
	fmt.Fprint(w, "\nCommon flags: --url tcp://127.0.0.1:8081 | unix:///path | ws://127.0.0.1:8080/ws,\n"+
		"--serializer cbor|json|msgpack, --realm realm1, --json.\n")
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	name := args[0]
	switch {
	case name == "help" || name == "-h" || name == "--help":
		usage(stdout)
		return 0
	case name == "table":
		return runTable(args[1:], stdout, stderr)
	case !isScenario(name):
		fmt.Fprintf(stderr, "wampbench: unknown scenario %q\n\n", name)
		usage(stderr)
		return 2
	}
	o, err := parseOptions(name, args[1:], stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	o.progress = stdout
	if _, err := raiseFileLimit(); err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
	}
	r, err := runScenario(ctx, &o)
	if r != nil {
		fmt.Fprintln(stdout, r.summary())
		if o.json {
			line, jerr := json.Marshal(r)
			if jerr != nil {
				fmt.Fprintf(stderr, "wampbench: %v\n", jerr)
				return 1
			}
			fmt.Fprintf(stdout, "%s\n", line)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "wampbench %s: %v\n", name, err)
		return 1
	}
	return 0
}

func runScenario(ctx context.Context, o *options) (*result, error) {
	switch o.scenario {
	case "rtt":
		return runRTT(ctx, o)
	case "calls":
		return runCalls(ctx, o)
	case "fanout":
		return runFanout(ctx, o)
	case "joins":
		return runJoins(ctx, o)
	case "idle":
		return runIdle(ctx, o)
	}
	return nil, fmt.Errorf("wampbench: unknown scenario %q", o.scenario)
}

func runTable(files []string, stdout, stderr io.Writer) int {
	if len(files) == 0 {
		if err := writeTable(stdout, os.Stdin); err != nil {
			fmt.Fprintf(stderr, "%v\n", err)
			return 1
		}
		return 0
	}
	var readers []io.Reader
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintf(stderr, "wampbench: table: %v\n", err)
			return 1
		}
		defer f.Close()
		readers = append(readers, f)
	}
	if err := writeTable(stdout, io.MultiReader(readers...)); err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
		return 1
	}
	return 0
}
