package hostinet

import (
	"bytes"
	"net"
	"testing"

	"github.com/runsc-lite/runsc-lite/sentry/inet"
)

func TestNewStack(t *testing.T) {
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		t.Skip("no loopback interface")
	}
	st := NewStack()
	var found *inet.Interface
	ifs := st.Interfaces()
	for i := range ifs {
		if i > 0 && ifs[i-1].Index >= ifs[i].Index {
			t.Errorf("interfaces out of order: %d then %d", ifs[i-1].Index, ifs[i].Index)
		}
		if ifs[i].Name == "lo" {
			found = &ifs[i]
		}
	}
	if found == nil {
		t.Fatalf("no lo in %+v", ifs)
	}
	if found.Index != int32(lo.Index) || found.Flags&inet.IFF_LOOPBACK == 0 || found.Flags&inet.IFF_UP == 0 ||
		found.Type != inet.ARPHRD_LOOPBACK || found.MTU != uint32(lo.MTU) || len(found.HardwareAddr) != 6 {
		t.Errorf("lo: %+v", *found)
	}
	hasLoopback := false
	for _, a := range st.InterfaceAddrs()[found.Index] {
		if a.Family == inet.AF_INET && a.PrefixLen == 8 && bytes.Equal(a.Addr, []byte{127, 0, 0, 1}) {
			hasLoopback = true
		}
	}
	if !hasLoopback {
		t.Errorf("lo addresses: %+v", st.InterfaceAddrs()[found.Index])
	}
	// The local table routes 127.0.0.1 to lo.
	hasRoute := false
	for _, r := range st.Routes() {
		if r.Family == inet.AF_INET && r.OutputInterface == found.Index && r.Type == inet.RTN_LOCAL && bytes.Equal(r.Dst, []byte{127, 0, 0, 1}) {
			hasRoute = true
		}
	}
	if !hasRoute {
		t.Errorf("no local route to 127.0.0.1 in %+v", st.Routes())
	}
	if st.Sockets() != nil {
		t.Error("Sockets() is not nil")
	}
	// Callers get copies.
	st.Interfaces()[0].Name = "changed"
	if st.Interfaces()[0].Name == "changed" {
		t.Error("Interfaces() shares its slice")
	}
}
