package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// Exit statuses.
const (
	exitOK      = 0 // done; for verify: no drift
	exitFailure = 1 // drift found, or the command failed
	exitUsage   = 2 // the command line is wrong
)

// command is one subcommand: its help text and what runs it.
type command struct {
	name     string
	summary  string // one line, for the command list
	synopsis string // the usage line after "mysqletcd "
	about    string // what the command does, a paragraph or two
	examples string // indented shell lines with comments
	// define adds the command's flags to fs and returns what runs the
	// command once they are parsed.
	define func(fs *flag.FlagSet, inv *invocation) action
}

// action runs a parsed command. A usageError makes the exit status 2,
// errDrift makes it 1 without a message, any other error 1 with one.
type action func(ctx context.Context) error

// usageError is a command line that cannot work; its message says what to
// pass instead.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// errDrift reports that verify found differences; the report says which.
var errDrift = errors.New("etcd differs from the database")

// commands lists the subcommands in the order help shows them.
func commands() []*command {
	return []*command{syncCommand(), verifyCommand(), watchCommand(), checkConfigCommand(), migrateCommand(), demoCommand()}
}

func findCommand(name string) *command {
	for _, c := range commands() {
		if c.name == name {
			return c
		}
	}
	return nil
}

// topUsage is what "mysqletcd --help" prints.
func topUsage() string {
	var b strings.Builder
	b.WriteString(`mysqletcd keeps etcd in step with MySQL. This command backfills and verifies
the keys of the tables a mysqletcd config maps, follows their changes in etcd
and checks the config against the live schema.

Usage:
  mysqletcd [--dsn DSN] [--config FILE] <command> [flags]

Commands:
`)
	for _, c := range commands() {
		fmt.Fprintf(&b, "  %-13s %s\n", c.name, c.summary)
	}
	b.WriteString(`  help          show a command's flags and examples: mysqletcd help <command>

Connection (every command but demo; also accepted after the command):
  --dsn DSN        go-sql-driver/mysql DSN: user:password@tcp(host:3306)/db
                   (default $MYSQLETCD_DSN; prefer the variable: a flag shows in ps)
  --config FILE    mapping config (default: --dsn's mysqletcd-config=FILE
                   parameter, else $MYSQLETCD_CONFIG)

Examples:
  export MYSQLETCD_DSN='app:secret@tcp(db:3306)/app'
  export MYSQLETCD_CONFIG=/etc/app/mysqletcd.yaml
  mysqletcd check-config                 # does every mapping fit the schema?
  mysqletcd sync --rate 5000             # backfill, at most 5000 rows/s
  mysqletcd verify || page-oncall        # exit 1 when etcd has drifted
  mysqletcd watch --table users          # tail the users keys

Exit status: 0 ok, 1 drift or failure, 2 usage error.
Run 'mysqletcd <command> --help' for a command's flags and examples.
`)
	return b.String()
}

// exec parses the command's flags and runs it.
func (c *command) exec(ctx context.Context, inv *invocation, args []string) int {
	fs := c.flagSet()
	act := c.define(fs, inv)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			c.help(inv.stdout, inv)
			return exitOK
		}
		return c.fail(inv, usageError{err.Error()})
	}
	if fs.NArg() > 0 {
		return c.fail(inv, usagef("unexpected argument %q: %s takes flags only", fs.Arg(0), c.name))
	}
	return c.fail(inv, act(ctx))
}

func (c *command) flagSet() *flag.FlagSet {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are printed by fail, help by help
	return fs
}

// fail prints err, with any password cut out, and returns the exit status.
func (c *command) fail(inv *invocation, err error) int {
	var usage usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errDrift):
		return exitFailure
	case errors.As(err, &usage):
		fmt.Fprintf(inv.stderr, "mysqletcd %s: %s\nRun 'mysqletcd %s --help' for usage.\n", c.name, inv.redact(usage.msg), c.name)
		return exitUsage
	}
	msg := strings.ReplaceAll(inv.redact(explain(err)), "\n", "\n  ")
	fmt.Fprintf(inv.stderr, "mysqletcd %s: %s\n", c.name, msg)
	return exitFailure
}

// help prints the command's usage, flags and examples.
func (c *command) help(w io.Writer, inv *invocation) {
	fs := c.flagSet()
	c.define(fs, inv)
	fmt.Fprintf(w, "%s\n\nUsage:\n  mysqletcd %s\n\n%s\n", c.summary, c.synopsis, strings.TrimSpace(c.about))
	var flags strings.Builder
	fs.VisitAll(func(f *flag.Flag) { writeFlag(&flags, f) })
	if flags.Len() > 0 {
		fmt.Fprintf(w, "\nFlags:\n%s", flags.String())
	}
	fmt.Fprintf(w, "\nExamples:\n%s\n", strings.TrimRight(c.examples, "\n"))
	fmt.Fprint(w, "\nExit status: 0 ok, 1 drift or failure, 2 usage error.\n")
}

// writeFlag writes one flag's help line in the --name form.
func writeFlag(b *strings.Builder, f *flag.Flag) {
	arg, usage := flag.UnquoteUsage(f)
	head := "--" + f.Name
	if arg != "" {
		head += " " + arg
	}
	if len(head) > 20 {
		fmt.Fprintf(b, "  %s\n  %-20s  ", head, "")
	} else {
		fmt.Fprintf(b, "  %-20s  ", head)
	}
	b.WriteString(strings.ReplaceAll(usage, "\n", "\n"+strings.Repeat(" ", 24)))
	if showDefault(f) {
		fmt.Fprintf(b, " (default %s)", f.DefValue)
	}
	b.WriteString("\n")
}

func showDefault(f *flag.Flag) bool {
	switch f.DefValue {
	case "", "0", "false", "[]":
		return false
	}
	return true
}
