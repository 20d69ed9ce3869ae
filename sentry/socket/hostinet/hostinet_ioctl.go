package hostinet

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
	"github.com/runsc-lite/runsc-lite/hostarch"
)

// maxIfconf bounds the buffer linux.SIOCGIFCONF fills in the sentry: 1638
// struct ifreq records, more interfaces than any host of ours has. A
// larger guest buffer gets as many as fit in this.
const maxIfconf = 64 << 10

// Ioctl implements vfs.FileDescriptionImpl: the queue sizes (SIOCINQ,
// SIOCOUTQ, linux.SIOCOUTQNSD, linux.SIOCATMARK) and the read-only SIOCGIF* requests,
// each made on the host socket with its structure copied through sentry
// memory. Everything else is ENOTTY (sock_ioctl's -ENOIOCTLCMD).
func (s *Socket) Ioctl(ctx vfs.Context, mem vfs.UserMemory, cmd uint32, arg uintptr) (uintptr, error) {
	switch cmd {
	case linux.SIOCINQ, linux.SIOCOUTQ, linux.SIOCOUTQNSD, linux.SIOCATMARK:
		v, err := unix.IoctlGetInt(s.fd, uint(cmd))
		if err != nil {
			return 0, hostErr(err)
		}
		b := binary.LittleEndian.AppendUint32(nil, uint32(v))
		if _, err := mem.CopyOutBytes(hostarch.Addr(arg), b); err != nil {
			return 0, errno.EFAULT
		}
		return 0, nil
	case linux.SIOCGIFNAME, linux.SIOCGIFFLAGS, linux.SIOCGIFADDR, linux.SIOCGIFBRDADDR, linux.SIOCGIFNETMASK,
		linux.SIOCGIFMTU, linux.SIOCGIFHWADDR, linux.SIOCGIFINDEX:
		return 0, s.ifreqIoctl(mem, cmd, hostarch.Addr(arg))
	case linux.SIOCGIFCONF:
		return 0, s.ifconfIoctl(mem, hostarch.Addr(arg))
	}
	return 0, errno.ENOTTY
}

// ifreqIoctl makes a request that reads and writes one struct ifreq, none
// of whose fields the requests above use as a pointer.
func (s *Socket) ifreqIoctl(mem vfs.UserMemory, cmd uint32, addr hostarch.Addr) error {
	var ifr [linux.SizeofIfreq]byte
	if _, err := mem.CopyInBytes(addr, ifr[:]); err != nil {
		return errno.EFAULT
	}
	// "ifr.ifr_name[linux.IFNAMSIZ-1] = 0" - net/core/dev_ioctl.c:dev_ioctl.
	ifr[linux.IFNAMSIZ-1] = 0
	if err := hostIoctlBuf(s.fd, uintptr(cmd), ifr[:]); err != nil {
		return hostErr(err)
	}
	if _, err := mem.CopyOutBytes(addr, ifr[:]); err != nil {
		return errno.EFAULT
	}
	return nil
}

// ifconfIoctl is linux.SIOCGIFCONF: struct ifconf holds a guest pointer, so the
// host fills a sentry buffer, which is then copied to the guest's, and
// ifc_len is updated. A NULL ifc_buf asks for the length needed
// (net/core/dev_ioctl.c:dev_ifconf).
func (s *Socket) ifconfIoctl(mem vfs.UserMemory, addr hostarch.Addr) error {
	var ic [linux.SizeofIfconf]byte
	if _, err := mem.CopyInBytes(addr, ic[:]); err != nil {
		return errno.EFAULT
	}
	le := binary.LittleEndian
	length := int32(le.Uint32(ic[0:]))
	bufAddr := hostarch.Addr(le.Uint64(ic[8:]))
	var buf []byte
	if bufAddr != 0 {
		buf = make([]byte, min(max(length, 0), maxIfconf))
	}
	n, err := hostIfconf(s.fd, buf, bufAddr == 0)
	if err != nil {
		return hostErr(err)
	}
	if bufAddr != 0 {
		n = min(n, len(buf))
		if n > 0 {
			if _, err := mem.CopyOutBytes(bufAddr, buf[:n]); err != nil {
				return errno.EFAULT
			}
		}
	}
	le.PutUint32(ic[0:], uint32(n))
	if _, err := mem.CopyOutBytes(addr, ic[:4]); err != nil {
		return errno.EFAULT
	}
	return nil
}
