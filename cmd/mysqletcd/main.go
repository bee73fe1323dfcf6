// Command mysqletcd works with the tables a mysqletcd config maps to etcd:
//
//	mysqletcd sync          backfill etcd from the mapped tables and fix every difference
//	mysqletcd verify        report the keys that differ from the database; exit 1 if any do
//	mysqletcd watch         print changes to the mapped keys as they happen
//	mysqletcd check-config  check the config against the live schema, with a sample key per mapping
//	mysqletcd demo          replay the stale-etcd story with real servers it starts itself
//
// The database comes from --dsn or MYSQLETCD_DSN, the config from --config,
// the DSN's mysqletcd-config parameter or MYSQLETCD_CONFIG. Exit status: 0
// ok, 1 drift or failure, 2 usage error. See docs/cli.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one command until it ends or the process is interrupted
// (Ctrl-C, SIGTERM), and returns the exit status: 0 ok, 1 drift or failure,
// 2 usage.
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runContext(ctx, args, stdout, stderr)
}

// runContext is run with the caller's context: when ctx ends, a running
// command stops (watch then exits 0, sync and verify 1).
func runContext(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	inv := newInvocation(stdout, stderr)
	for _, arg := range args {
		inv.hideDSNPassword(arg) // a DSN may be misplaced and echoed in a usage error
	}
	rest, err := inv.parseGlobal(args)
	if errors.Is(err, flag.ErrHelp) {
		return help(inv, nil)
	}
	if err != nil {
		fmt.Fprintf(stderr, "mysqletcd: %s\n\n%s", inv.redact(err.Error()), topUsage())
		return exitUsage
	}
	if len(rest) == 0 {
		fmt.Fprint(stderr, topUsage())
		return exitUsage
	}
	name, cmdArgs := rest[0], rest[1:]
	switch name {
	case "help", "-h", "-help", "--help":
		return help(inv, cmdArgs)
	}
	cmd := findCommand(name)
	if cmd == nil {
		fmt.Fprintf(stderr, "mysqletcd: unknown command %q\n\n%s", name, topUsage())
		return exitUsage
	}
	return cmd.exec(ctx, inv, cmdArgs)
}

// help serves "mysqletcd help [command]".
func help(inv *invocation, args []string) int {
	if len(args) == 0 {
		fmt.Fprint(inv.stdout, topUsage())
		return exitOK
	}
	cmd := findCommand(args[0])
	if cmd == nil {
		fmt.Fprintf(inv.stderr, "mysqletcd help: unknown command %q\n\n%s", args[0], topUsage())
		return exitUsage
	}
	cmd.help(inv.stdout, inv)
	return exitOK
}
