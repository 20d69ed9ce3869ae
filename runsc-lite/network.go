package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

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

// defaultHosts is /etc/hosts for a sandbox whose host has none.
const defaultHosts = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"

// hostNameFiles returns the name-service files the guest sees over a
// rootfs other than the host's /: copies of the host's /etc/hosts (so
// that localhost and the host's names resolve, as in a container) and of
// its /etc/resolv.conf (which only --network=host can use). Over / the
// guest reads the host's own files through the overlay.
func hostNameFiles(rootfsDir string) map[string][]byte {
	if filepath.Clean(rootfsDir) == "/" {
		return nil
	}
	files := map[string][]byte{"/etc/hosts": []byte(defaultHosts)}
	if b, err := os.ReadFile("/etc/hosts"); err == nil {
		files["/etc/hosts"] = b
	}
	if b, err := os.ReadFile("/etc/resolv.conf"); err == nil {
		files["/etc/resolv.conf"] = b
	}
	return files
}
