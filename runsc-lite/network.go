package main

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/urfave/cli/v2"

	"github.com/runsc-lite/runsc-lite/sentry/kernel"
	"github.com/runsc-lite/runsc-lite/sentry/socket/hostinet"
	"github.com/runsc-lite/runsc-lite/sentry/socket/netstack"
)

// setupNetwork gives the sandbox its network (--network) and starts the
// --publish forwarders. The returned function tears them down.
func setupNetwork(c *cli.Context, k *kernel.Kernel, log *slog.Logger) (func(), error) {
	var rules []netstack.Publish
	for _, spec := range c.StringSlice("publish") {
		r, err := netstack.ParsePublish(spec)
		if err != nil {
			return nil, &cmdError{code: 125, err: err}
		}
		rules = append(rules, r)
	}
	switch mode := c.String("network"); mode {
	case "sandbox", "none":
		if mode == "none" && len(rules) > 0 {
			return nil, &cmdError{code: 125, err: errors.New("--publish needs --network=sandbox")}
		}
		st, err := netstack.NewLoopback()
		if err != nil {
			return nil, err
		}
		st.Register()
		k.Net = st
		fwd, err := st.Publish(rules, log)
		if err != nil {
			st.Close()
			return nil, &cmdError{code: 125, err: err}
		}
		return func() { fwd.Close() }, nil
	case "host":
		if len(rules) > 0 {
			return nil, &cmdError{code: 125, err: errors.New("--publish needs --network=sandbox (with --network=host, guest servers listen on the host directly)")}
		}
		log.Warn("--network=host: guest sockets are host sockets; the host's network stack is exposed to the guest")
		hostinet.Register()
		k.Net = hostinet.NewStack()
		return func() {}, nil
	default:
		return nil, &cmdError{code: 125, err: fmt.Errorf("unknown --network %q (have: sandbox, none, host)", mode)}
	}
}
