package socket

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
)

func timeval(sec, usec int64) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(sec))
	return binary.LittleEndian.AppendUint64(b, uint64(usec))
}

// TestParseTimeval pins sock_set_timeout's rules and the round trip.
func TestParseTimeval(t *testing.T) {
	for _, tc := range []struct {
		val  []byte
		want time.Duration
		err  error
	}{
		{timeval(1, 500000), 1500 * time.Millisecond, nil},
		{timeval(0, 0), 0, nil},
		{timeval(-5, 0), time.Nanosecond, nil},
		{timeval(1, 1000000), 0, errno.EDOM},
		{timeval(1, -1), 0, errno.EDOM},
		{timeval(1, 0)[:15], 0, errno.EINVAL},
		{timeval(1<<40, 0), 0, nil},
	} {
		got, err := ParseTimeval(tc.val)
		if got != tc.want || err != tc.err {
			t.Errorf("ParseTimeval(%x) = %v, %v; want %v, %v", tc.val, got, err, tc.want, tc.err)
		}
	}
	if d, _ := ParseTimeval(TimevalBytes(2500 * time.Millisecond)); d != 2500*time.Millisecond {
		t.Errorf("round trip: %v", d)
	}
}

// TestWaitNonblocking: a nonblocking wait that is not done is EAGAIN, and
// try's own error ends it.
func TestWaitNonblocking(t *testing.T) {
	var q struct{ waitable }
	if err := Wait(nil, &q, true, 0, 1, func() (bool, error) { return false, nil }); err != errno.EAGAIN {
		t.Errorf("not done, nonblocking: %v, want EAGAIN", err)
	}
	if err := Wait(nil, &q, false, 0, 1, func() (bool, error) { return false, errno.EPIPE }); err != errno.EPIPE {
		t.Errorf("try failed: %v, want EPIPE", err)
	}
}

type waitable struct{ vfs.WaitQueue }
