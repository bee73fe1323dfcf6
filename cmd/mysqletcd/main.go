// Command mysqletcd works with the mysqletcd driver from the shell.
//
//	mysqletcd demo    replay the stale-etcd story with real servers it starts itself
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
)

const usage = `mysqletcd keeps etcd in step with MySQL.

Usage:
  mysqletcd <command>

Commands:
  demo    replay the stale-etcd story: two services write one row; a naive
          dual write leaves etcd stale, the mysqletcd driver does not.
          Starts its own MariaDB and etcd; needs mariadbd installed.

Examples:
  mysqletcd demo
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one command and returns the exit status: 0 ok, 1 failure,
// 2 usage.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	switch args[0] {
	case "demo":
		if err := demo(ctx, stdout); err != nil {
			fmt.Fprintln(stderr, "mysqletcd demo:", err)
			return 1
		}
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "mysqletcd: unknown command %q\n\n%s", args[0], usage)
	return 2
}
