package hostfs

import "golang.org/x/sys/unix"

var Mkfifo = mkfifo

func mkfifo(p string) error { return unix.Mkfifo(p, 0o644) }
