package host

import (
	"encoding/binary"

	"github.com/runsc-lite/runsc-lite/fs/vfs"
	"github.com/runsc-lite/runsc-lite/hostarch"
)

func addr(arg uintptr) hostarch.Addr { return hostarch.Addr(arg) }

// copyOutInt32 writes an int to guest memory, as FIONREAD returns it.
func copyOutInt32(mem vfs.UserMemory, arg uintptr, v int32) error {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(v))
	_, err := mem.CopyOutBytes(addr(arg), b[:])
	return err
}
