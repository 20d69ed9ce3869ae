package netstack

import (
	"gvisor.dev/gvisor/pkg/tcpip"

	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
)

// errnoOf converts a netstack error to the errno Linux returns for the same
// condition. It is the one place tcpip.Error becomes an errno; callers fix
// up the few errors whose errno depends on the call (see bindErr and
// connectErr). ErrClosedForReceive is end of file, not an error, and must be
// handled before this.
func errnoOf(err tcpip.Error) error {
	switch err.(type) {
	case nil:
		return nil
	case *tcpip.ErrWouldBlock:
		return errno.EAGAIN
	case *tcpip.ErrConnectStarted:
		return errno.EINPROGRESS
	case *tcpip.ErrAlreadyConnecting:
		return errno.EALREADY
	case *tcpip.ErrAlreadyConnected:
		return errno.EISCONN
	case *tcpip.ErrNotConnected:
		return errno.ENOTCONN
	case *tcpip.ErrConnectionRefused:
		return errno.ECONNREFUSED
	case *tcpip.ErrConnectionReset:
		return errno.ECONNRESET
	case *tcpip.ErrConnectionAborted:
		return errno.ECONNABORTED
	case *tcpip.ErrAborted, *tcpip.ErrClosedForSend:
		return errno.EPIPE
	case *tcpip.ErrTimeout:
		return errno.ETIMEDOUT
	case *tcpip.ErrPortInUse:
		return errno.EADDRINUSE
	case *tcpip.ErrBadLocalAddress:
		return errno.EADDRNOTAVAIL
	case *tcpip.ErrAlreadyBound, *tcpip.ErrInvalidEndpointState, *tcpip.ErrInvalidOptionValue,
		*tcpip.ErrInvalidPortRange, *tcpip.ErrMalformedHeader, *tcpip.ErrMissingRequiredFields:
		return errno.EINVAL
	case *tcpip.ErrUnknownProtocolOption:
		return errno.ENOPROTOOPT
	case *tcpip.ErrNotSupported:
		return errno.EOPNOTSUPP
	case *tcpip.ErrDestinationRequired:
		return errno.EDESTADDRREQ
	case *tcpip.ErrHostUnreachable:
		return errno.EHOSTUNREACH
	case *tcpip.ErrHostDown:
		return errno.EHOSTDOWN
	case *tcpip.ErrNetworkUnreachable:
		return errno.ENETUNREACH
	case *tcpip.ErrNoNet:
		return errno.ENONET
	case *tcpip.ErrMessageTooLong:
		return errno.EMSGSIZE
	case *tcpip.ErrNoBufferSpace:
		return errno.ENOBUFS
	case *tcpip.ErrBadBuffer, *tcpip.ErrBadAddress:
		return errno.EFAULT
	case *tcpip.ErrBroadcastDisabled:
		return errno.EACCES
	case *tcpip.ErrNotPermitted:
		return errno.EPERM
	case *tcpip.ErrAddressFamilyNotSupported:
		return errno.EAFNOSUPPORT
	case *tcpip.ErrUnknownNICID, *tcpip.ErrUnknownDevice, *tcpip.ErrInvalidNICID:
		return errno.ENODEV
	case *tcpip.ErrQueueSizeNotSupported:
		return errno.ENOTTY
	case *tcpip.ErrEndpointBusy:
		return errno.EBUSY
	case *tcpip.ErrNoPortAvailable:
		return errno.EAGAIN
	case *tcpip.ErrDuplicateAddress:
		return errno.EADDRINUSE
	case *tcpip.ErrMulticastInputCannotBeOutput:
		return errno.EINVAL
	case *tcpip.ErrNoSuchFile:
		return errno.ENOENT
	case *tcpip.ErrClosedForReceive:
		return errno.ENOTCONN
	}
	return errno.EINVAL
}

// bindErr is errnoOf for bind(2): no free port is EADDRINUSE there
// (inet_csk_get_port fails with it).
func bindErr(err tcpip.Error) error {
	if _, ok := err.(*tcpip.ErrNoPortAvailable); ok {
		return errno.EADDRINUSE
	}
	return errnoOf(err)
}

// connectErr is errnoOf for a TCP connect(2): no free ephemeral port is
// EADDRNOTAVAIL (inet_hash_connect).
func connectErr(err tcpip.Error, stream bool) error {
	if _, ok := err.(*tcpip.ErrNoPortAvailable); ok && stream {
		return errno.EADDRNOTAVAIL
	}
	return errnoOf(err)
}
