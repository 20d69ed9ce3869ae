package seccomptrap

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"unsafe"
)

// stubCode is the stub's signal-handling code (trap_amd64.s): the SIGSYS /
// fault / interrupt handler, its sigreturn restorer and the thread exit
// path. It is never called in the Go process; its bytes are copied into
// the stub page of each stub process.
func stubCode()

// rdtsc returns the CPU's time-stamp counter. The stub's spin budget is
// counted in TSC ticks, and the sentry calibrates it with this.
func rdtsc() uint64

// spinPause executes PAUSE, the polite way to spin on a hyperthreaded or
// virtualized CPU.
func spinPause()

// stubCodeAddr is the ABI0 address of stubCode (a DATA symbol in
// trap_amd64.s; a Go func value would point at an ABI wrapper instead).
var stubCodeAddr uintptr

// maxStubCode bounds the scan for the end marker.
const maxStubCode = 0xc00

// stubMarker is `ud2` followed by "RSL"; the next byte is the marker id.
var stubMarker = []byte{0x0f, 0x0b, 0x52, 0x53, 0x4c}

// Marker ids in trap_amd64.s.
const (
	markerRestorer = 0x01
	markerHandler  = 0x02
	markerTramp    = 0x03 // the trampoline path's entry, and its critical range's start
	markerFrame    = 0x04 // the ud2 that cmdFrame executes
	markerTail     = 0x05 // the tail of the trampoline path's return
	markerTailEnd  = 0x06 // its end (the marker itself)
	markerEnd      = 0xff
)

// stubBlob is the copied stub code with the offsets of its entry points.
type stubBlob struct {
	code     []byte
	restorer int
	handler  int
	tramp    int
	frame    int
	tail     int
	tailEnd  int
}

// loadStubBlob copies stubCode's bytes out of the Go binary, up to its end
// marker, and finds the entry points.
func loadStubBlob() (stubBlob, error) {
	// SAFETY: stubCodeAddr is the address of a TEXT symbol in this
	// binary's read-only text segment, which is at least maxStubCode bytes
	// long unless stubCode is the last symbol, in which case the end marker
	// is found before the read runs off the symbol; the bytes are copied
	// and never written.
	// Reading the address through a pointer to the variable keeps the
	// uintptr-to-pointer conversion out of vet's way.
	code := *(*unsafe.Pointer)(unsafe.Pointer(&stubCodeAddr))
	text := unsafe.Slice((*byte)(code), maxStubCode)
	var b stubBlob
	b.restorer, b.handler, b.tramp, b.frame, b.tail, b.tailEnd = -1, -1, -1, -1, -1, -1
	for off := 0; ; {
		i := bytes.Index(text[off:], stubMarker)
		if i < 0 || off+i+len(stubMarker) >= len(text) {
			return stubBlob{}, fmt.Errorf("seccomptrap: stub code end marker not found in %d bytes", maxStubCode)
		}
		pos := off + i
		entry := pos + len(stubMarker) + 1
		switch text[pos+len(stubMarker)] {
		case markerRestorer:
			b.restorer = entry
		case markerHandler:
			b.handler = entry
		case markerTramp:
			b.tramp = entry
		case markerFrame:
			b.frame = entry
		case markerTail:
			b.tail = entry
		case markerTailEnd:
			b.tailEnd = pos
		case markerEnd:
			if b.restorer < 0 || b.handler < 0 || b.tramp < 0 || b.frame < 0 || b.tail < 0 || b.tailEnd < 0 {
				return stubBlob{}, fmt.Errorf("seccomptrap: stub code entry markers missing")
			}
			b.code = append([]byte(nil), text[:pos]...)
			return b, b.fillBounds()
		}
		off = entry
	}
}

// Placeholders in the handler for the trampoline path's bounds
// (trap_amd64.s); fillBounds replaces each with its stub address.
const (
	critLoPlaceholder = 0x52534c0000000001
	tailLoPlaceholder = 0x52534c0000000002
	tailHiPlaceholder = 0x52534c0000000003
)

// fillBounds writes the stub addresses of the trampoline path's critical
// range and tail into the handler's immediates. They live in the stub's
// read-only code page, where the guest cannot forge them.
func (b *stubBlob) fillBounds() error {
	for _, f := range []struct {
		placeholder uint64
		off         int
	}{{critLoPlaceholder, b.tramp}, {tailLoPlaceholder, b.tail}, {tailHiPlaceholder, b.tailEnd}} {
		var ph [8]byte
		binary.LittleEndian.PutUint64(ph[:], f.placeholder)
		i := bytes.Index(b.code, ph[:])
		if i < 0 || bytes.Index(b.code[i+1:], ph[:]) >= 0 {
			return fmt.Errorf("seccomptrap: stub code placeholder %#x not found exactly once", f.placeholder)
		}
		binary.LittleEndian.PutUint64(b.code[i:], stubAddr+stubBlobOff+uint64(f.off))
	}
	return nil
}
