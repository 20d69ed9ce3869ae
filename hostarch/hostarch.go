// Package hostarch holds address and access types shared by the platform,
// the memory manager and the filesystem. It is a leaf package.
package hostarch

import "fmt"

// PageSize is the size of a page on amd64.
const (
	PageShift = 12
	PageSize  = 1 << PageShift
)

// Addr is a guest virtual address.
type Addr uintptr

// AddLength returns a+n and whether the addition did not overflow.
func (a Addr) AddLength(n uint64) (end Addr, ok bool) {
	end = a + Addr(n)
	// Overflow: either n doesn't fit an Addr or the sum wrapped.
	if uint64(Addr(n)) != n || end < a {
		return 0, false
	}
	return end, true
}

// RoundDown returns a rounded down to a page boundary.
func (a Addr) RoundDown() Addr { return a &^ (PageSize - 1) }

// RoundUp returns a rounded up to a page boundary, and false on overflow.
func (a Addr) RoundUp() (Addr, bool) {
	r := a.RoundDown()
	if r == a {
		return a, true
	}
	r += PageSize
	return r, r > a
}

// IsPageAligned reports whether a is a multiple of PageSize.
func (a Addr) IsPageAligned() bool { return a&(PageSize-1) == 0 }

// String formats a as hex.
func (a Addr) String() string { return fmt.Sprintf("%#x", uintptr(a)) }

// PageRoundUp rounds n up to a page multiple, returning false on overflow.
func PageRoundUp(n uint64) (uint64, bool) {
	r := (n + PageSize - 1) &^ (PageSize - 1)
	return r, r >= n
}

// AddrRange is the half-open range [Start, End).
type AddrRange struct {
	Start, End Addr
}

// Length returns the number of bytes in r.
func (r AddrRange) Length() uint64 { return uint64(r.End - r.Start) }

// Contains reports whether addr lies in r.
func (r AddrRange) Contains(addr Addr) bool { return r.Start <= addr && addr < r.End }

// Overlaps reports whether r and o share a byte.
func (r AddrRange) Overlaps(o AddrRange) bool { return r.Start < o.End && o.Start < r.End }

// Intersect returns the common part of r and o (empty if none).
func (r AddrRange) Intersect(o AddrRange) AddrRange {
	s, e := max(r.Start, o.Start), min(r.End, o.End)
	if s >= e {
		return AddrRange{}
	}
	return AddrRange{s, e}
}

// AccessType says which of read, write and execute an access or mapping uses.
type AccessType struct {
	Read, Write, Execute bool
}

// Common access types.
var (
	NoAccess  = AccessType{}
	Read      = AccessType{Read: true}
	Write     = AccessType{Write: true}
	ReadWrite = AccessType{Read: true, Write: true}
	AnyAccess = AccessType{Read: true, Write: true, Execute: true}
)

// Any reports whether at allows any access.
func (at AccessType) Any() bool { return at.Read || at.Write || at.Execute }

// SupersetOf reports whether at allows everything o does.
func (at AccessType) SupersetOf(o AccessType) bool {
	return (at.Read || !o.Read) && (at.Write || !o.Write) && (at.Execute || !o.Execute)
}

// Prot returns the PROT_* bits for at (PROT_READ=1, PROT_WRITE=2, PROT_EXEC=4).
func (at AccessType) Prot() int {
	p := 0
	if at.Read {
		p |= 1
	}
	if at.Write {
		p |= 2
	}
	if at.Execute {
		p |= 4
	}
	return p
}

// ProtToAccessType converts PROT_* bits.
func ProtToAccessType(prot int) AccessType {
	return AccessType{Read: prot&1 != 0, Write: prot&2 != 0, Execute: prot&4 != 0}
}

// String formats at as "rwx" with dashes.
func (at AccessType) String() string {
	b := []byte("---")
	if at.Read {
		b[0] = 'r'
	}
	if at.Write {
		b[1] = 'w'
	}
	if at.Execute {
		b[2] = 'x'
	}
	return string(b)
}
