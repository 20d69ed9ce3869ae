package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/sentry/kernel"
	"github.com/runsc-lite/runsc-lite/sentry/syscalls"
)

// syscallsCommand prints the syscall table, so that what the sandbox
// supports is read from the code that implements it rather than from docs
// that drift.
var syscallsCommand = &cli.Command{
	Name:  "syscalls",
	Usage: "list every x86-64 syscall with its support level in the sandbox",
	Description: `Prints one line per syscall number: number, name, support level
(supported, partial or unimplemented) and a note. Unimplemented syscalls
fail with the errno shown (ENOSYS unless noted) and are logged once.`,
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "supported", Usage: "list only syscalls that are at least partially supported"},
		&cli.BoolFlag{Name: "unimplemented", Usage: "list only unimplemented syscalls"},
	},
	Action: func(c *cli.Context) error {
		if c.NArg() != 0 {
			return fmt.Errorf("syscalls: unexpected arguments %q", c.Args().Slice())
		}
		if c.Bool("supported") && c.Bool("unimplemented") {
			return fmt.Errorf("syscalls: --supported and --unimplemented exclude each other")
		}
		return printSyscalls(c.App.Writer, syscalls.Table(), func(e *kernel.Syscall) bool {
			switch {
			case c.Bool("supported"):
				return e.Support != kernel.SupportUnimplemented
			case c.Bool("unimplemented"):
				return e.Support == kernel.SupportUnimplemented
			}
			return true
		})
	},
}

// printSyscalls writes the entries of table that keep accepts, followed by
// a count per support level.
func printSyscalls(w io.Writer, table *kernel.SyscallTable, keep func(*kernel.Syscall) bool) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "NR\tNAME\tSUPPORT\tNOTE")
	counts := map[kernel.SupportLevel]int{}
	for n := range table.Table {
		e := &table.Table[n]
		if e.Name == "" || !keep(e) {
			continue // a hole in the numbering, or filtered out
		}
		counts[e.Support]++
		note := e.Note
		if e.Support == kernel.SupportUnimplemented && e.Errno != 0 && e.Errno != errno.ENOSYS && note == "" {
			// ENOSYS is the default; any other errno is a deliberate
			// refusal worth showing (EPERM for mount, say).
			note = "fails with " + e.Errno.Name()
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", n, e.Name, e.Support, note)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\n%d supported, %d partial, %d unimplemented\n",
		counts[kernel.SupportFull], counts[kernel.SupportPartial], counts[kernel.SupportUnimplemented])
	return err
}
