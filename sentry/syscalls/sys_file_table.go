package syscalls

import "github.com/runsc-lite/runsc-lite/sentry/kernel"

// fileSyscalls are the file and filesystem syscalls.
var fileSyscalls = map[uintptr]kernel.Syscall{}
