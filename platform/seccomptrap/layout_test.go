package seccomptrap

import (
	"os"

	"golang.org/x/sys/unix"
	"regexp"
	"strconv"
	"testing"
	"unsafe"
)

// TestAsmConstants checks that trap_amd64.s and slot.go agree on the slot
// layout and the protocol values.
func TestAsmConstants(t *testing.T) {
	var h slotHeader
	want := map[string]int64{
		"ST_STATE":          int64(unsafe.Offsetof(h.State)),
		"ST_CMD":            int64(unsafe.Offsetof(h.Cmd)),
		"ST_SIGINFO":        int64(unsafe.Offsetof(h.Siginfo)),
		"ST_GREGS":          int64(unsafe.Offsetof(h.Gregs)),
		"ST_FPSTATE":        int64(unsafe.Offsetof(h.Fpstate)),
		"ST_FSBASE":         int64(unsafe.Offsetof(h.FSBase)),
		"ST_GSBASE":         int64(unsafe.Offsetof(h.GSBase)),
		"ST_CURFS":          int64(unsafe.Offsetof(h.CurFS)),
		"ST_CURGS":          int64(unsafe.Offsetof(h.CurGS)),
		"ST_SPIN":           int64(unsafe.Offsetof(h.Spin)),
		"ST_FLAGS":          int64(unsafe.Offsetof(h.Flags)),
		"ST_UCONTEXT":       int64(unsafe.Offsetof(h.Ucontext)),
		"ST_EVENTS":         int64(unsafe.Offsetof(h.Events)),
		"ST_EVTSC":          int64(unsafe.Offsetof(h.EvTSC)),
		"ST_VIA":            int64(unsafe.Offsetof(h.Via)),
		"ST_KICK":           int64(unsafe.Offsetof(h.Kick)),
		"ST_ENTRY":          int64(unsafe.Offsetof(h.Entry)),
		"ST_STEP":           int64(unsafe.Offsetof(h.Step)),
		"ST_SELF":           int64(unsafe.Offsetof(h.Self)),
		"EFLAGS_TF":         0x100,
		"SLOT_SIZE":         slotSize,
		"CMD_FRAME":         cmdFrame,
		"VIA_SIGNAL":        viaSignal,
		"VIA_SYSCALL":       viaSyscall,
		"VIA_KICK":          viaKick,
		"SIGCHLD":           int64(interruptSignal),
		"SIGTRAP":           int64(unix.SIGTRAP),
		"SLOT_MASK":         -slotSize,
		"STATE_RUN":         stateRun,
		"STATE_EVENT":       stateEvent,
		"STATE_SENTRY_WAIT": stateSentryWait,
		"STATE_STUB_WAIT":   stateStubWait,
		"CMD_EXIT":          cmdExit,
		"FLAG_FSGSBASE":     flagFSGSBase,
	}
	// The Go-side offset constants must match the struct too.
	for name, off := range map[string]int64{"stState": stState, "stCmd": stCmd, "stSiginfo": stSiginfo,
		"stGregs": stGregs, "stFpstate": stFpstate, "stFSBase": stFSBase, "stGSBase": stGSBase,
		"stCurFS": stCurFS, "stCurGS": stCurGS, "stSpin": stSpin, "stFlags": stFlags,
		"stUcontext": stUcontext, "stEvents": stEvents, "stEvTSC": stEvTSC, "stVia": stVia, "stKick": stKick,
		"stEntry": stEntry, "stStep": stStep, "stSelf": stSelf} {
		asm := "ST_" + map[string]string{"stState": "STATE", "stCmd": "CMD", "stSiginfo": "SIGINFO", "stGregs": "GREGS",
			"stFpstate": "FPSTATE", "stFSBase": "FSBASE", "stGSBase": "GSBASE", "stCurFS": "CURFS", "stCurGS": "CURGS",
			"stSpin": "SPIN", "stFlags": "FLAGS", "stUcontext": "UCONTEXT", "stEvents": "EVENTS", "stEvTSC": "EVTSC",
			"stVia": "VIA", "stKick": "KICK", "stEntry": "ENTRY", "stStep": "STEP", "stSelf": "SELF"}[name]
		if want[asm] != off {
			t.Errorf("%s = %#x, struct offset %#x", name, off, want[asm])
		}
	}
	if unsafe.Sizeof(h) > slotSSOff {
		t.Errorf("slotHeader is %d bytes, overlaps the sigaltstack struct at %#x", unsafe.Sizeof(h), slotSSOff)
	}
	src, err := os.ReadFile("trap_amd64.s")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, m := range regexp.MustCompile(`(?m)^#define\s+(\w+)\s+\$?(-?(?:0x)?[0-9a-fA-F]+)\s*$`).FindAllStringSubmatch(string(src), -1) {
		v, err := strconv.ParseInt(m[2], 0, 64)
		if err != nil {
			t.Fatalf("#define %s: %v", m[1], err)
		}
		got[m[1]] = v
	}
	for name, v := range want {
		if g, ok := got[name]; !ok || g != v {
			t.Errorf("trap_amd64.s %s = %#x (found %v), want %#x", name, g, ok, v)
		}
	}
}
