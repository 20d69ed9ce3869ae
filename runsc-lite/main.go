// Command runsc-lite runs untrusted Linux programs in a user-space kernel,
// so that the host kernel never serves their syscalls directly.
package main

import (
	"errors"
	"fmt"
	"os"
	"runtime/pprof"
	"runtime/trace"

	"github.com/urfave/cli/v2"
)

// exitError carries an exit status out of a command without printing
// anything more.
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func main() {
	app := &cli.App{
		Name:  "runsc-lite",
		Usage: "run Linux programs in a user-space kernel sandbox",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "platform", Value: "seccomptrap", Usage: "how guest code is run: seccomptrap (the fast path) or ptrace"},
			&cli.BoolFlag{Name: "syscall-patching", Value: true, Usage: "on seccomptrap, rewrite hot syscall sites to enter the sentry without a host trap"},
			&cli.StringFlag{Name: "log", Usage: "write sentry diagnostics to `FILE` instead of stderr"},
			&cli.BoolFlag{Name: "debug", Usage: "log debug messages"},
			&cli.StringFlag{Name: "cpuprofile", Usage: "write a Go CPU profile of the sentry to `FILE`", Hidden: true},
			&cli.StringFlag{Name: "gotrace", Usage: "write a Go execution trace of the sentry to `FILE`", Hidden: true},
		},
		Before: func(c *cli.Context) error {
			if f := c.String("cpuprofile"); f != "" {
				pf, err := os.Create(f)
				if err != nil {
					return err
				}
				if err := pprof.StartCPUProfile(pf); err != nil {
					return err
				}
			}
			if f := c.String("gotrace"); f != "" {
				tf, err := os.Create(f)
				if err != nil {
					return err
				}
				if err := trace.Start(tf); err != nil {
					return err
				}
			}
			return nil
		},
		After: func(c *cli.Context) error {
			trace.Stop()
			pprof.StopCPUProfile()
			return nil
		},
		Commands: []*cli.Command{
			doCommand,
			syscallsCommand,
		},
		// Errors are printed once, by main, as one line.
		ExitErrHandler: func(*cli.Context, error) {},
		// --env and --volume values are taken whole: a comma is part of an
		// environment value, not a list separator.
		DisableSliceFlagSeparator: true,
	}
	if err := app.Run(os.Args); err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			os.Exit(ee.code)
		}
		fmt.Fprintf(os.Stderr, "runsc-lite: %v\n", err)
		var ce *cmdError
		if errors.As(err, &ce) {
			os.Exit(ce.code)
		}
		os.Exit(125)
	}
}

// cmdError is an error with the exit status it should produce.
type cmdError struct {
	code int
	err  error
}

func (e *cmdError) Error() string { return e.err.Error() }
func (e *cmdError) Unwrap() error { return e.err }
