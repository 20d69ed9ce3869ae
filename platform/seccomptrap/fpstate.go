package seccomptrap

import (
	"encoding/binary"
	"sync/atomic"

	"github.com/runsc-lite/runsc-lite/sentry/arch"
)

// The FP state of a guest thread stopped in its handler is in the signal
// frame the kernel built on the slot's alternate stack, which is shared
// memory: reading it is a copy, and a write there is what rt_sigreturn
// loads when the handler returns.
const (
	fxsaveSize    = 512
	fpSWBytesOff  = 464 // struct _fpx_sw_bytes in the fxsave area
	fpXStateMagic = 0x46505853
)

// frameFP returns the sentry's view of the current frame's FP area, or nil
// if it is not inside the slot.
func (c *context) frameFP() []byte {
	base := slotStubAddr(c.slot)
	// The slot is guest-writable: read the pointer once, and check it
	// without arithmetic that a value near 2^64 could wrap.
	p := atomic.LoadUint64(&c.h.Fpstate)
	if p < base || p-base > slotSize-fxsaveSize {
		return nil
	}
	off := c.slot*slotSize + int(p-base)
	slot := c.as.ctl[off : (c.slot+1)*slotSize]
	size := fxsaveSize
	sw := slot[fpSWBytesOff:]
	if binary.LittleEndian.Uint32(sw) == fpXStateMagic {
		if n := int(binary.LittleEndian.Uint32(sw[16:])); n >= fxsaveSize && n <= len(slot) {
			size = n // xstate_size
		}
	}
	return slot[:size:size]
}

// PullFPState implements platform.FPContext.
func (c *context) PullFPState(st *arch.State) error {
	if st.FPValid || c.as == nil {
		return nil
	}
	if c.tramp {
		if err := c.materialize(); err != nil {
			return err
		}
	}
	if fp := c.frameFP(); fp != nil {
		st.FP = append(st.FP[:0], fp...)
	}
	return nil
}

// pushFP writes st.FP into the frame, keeping the frame's own
// software-reserved bytes, which tell rt_sigreturn how to load it.
func (c *context) pushFP(st *arch.State) {
	st.FPValid = false
	fp := c.frameFP()
	if fp == nil || len(st.FP) < fxsaveSize {
		return
	}
	var sw [fxsaveSize - fpSWBytesOff]byte
	copy(sw[:], fp[fpSWBytesOff:fxsaveSize])
	copy(fp, st.FP)
	copy(fp[fpSWBytesOff:fxsaveSize], sw[:])
}
