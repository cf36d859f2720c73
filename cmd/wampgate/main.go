// Command wampgate is the wampgate WAMP router for edge gateways, plus
// client commands (call, publish, subscribe, register) that talk to any
// WAMP router.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `wampgate: a WAMP router for edge gateways

Usage:
  wampgate serve [flags]                 run the router (see wampgate serve -h)
  wampgate call [flags] URI [ARG...]     call a procedure and print the result
  wampgate publish [flags] TOPIC [ARG...] publish an event
  wampgate subscribe [flags] TOPIC       print events as JSON lines
  wampgate register [flags] URI -- COMMAND [ARG...]
                                         answer calls by running a command
  wampgate devices [flags]               list a gateway's serial devices and counters
  wampgate check --config FILE           validate a config file, list every problem
  wampgate version                       print the version

Client commands talk to any WAMP router (--url ws://, tcp://, unix://).
Run a command with -h for its flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return runServe(ctx, args[1:], stdout, stderr)
	case "call":
		return runCall(ctx, args[1:], stdout, stderr)
	case "publish":
		return runPublish(ctx, args[1:], stdout, stderr)
	case "subscribe":
		return runSubscribe(ctx, args[1:], stdout, stderr)
	case "register":
		return runRegister(ctx, args[1:], stdout, stderr)
	case "devices":
		return runDevices(ctx, args[1:], stdout, stderr)
	case "check":
		return runCheck(ctx, args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintf(stdout, "wampgate %s\n", version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "wampgate: unknown command %q\n\n%s", args[0], usage)
	return 2
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }
