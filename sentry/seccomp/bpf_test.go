package seccomp

import (
	"encoding/binary"
	"testing"

	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
)

func encode(insns ...Instruction) []byte {
	b := make([]byte, len(insns)*InstructionSize)
	for i, in := range insns {
		binary.LittleEndian.PutUint16(b[8*i:], in.Code)
		b[8*i+2], b[8*i+3] = in.Jt, in.Jf
		binary.LittleEndian.PutUint32(b[8*i+4:], in.K)
	}
	return b
}

func ld(k uint32) Instruction  { return Instruction{Code: clsLD | sizeW | modeABS, K: k} }
func ret(k uint32) Instruction { return Instruction{Code: clsRET | srcK, K: k} }
func jeq(k uint32, jt, jf uint8) Instruction {
	return Instruction{Code: clsJMP | jmpJEQ | srcK, K: k, Jt: jt, Jf: jf}
}

// denyGetpid returns EPERM for getpid (39), kills on a foreign arch, and
// allows the rest: the shape of a typical libseccomp filter.
func denyGetpid() []byte {
	return encode(
		ld(4), jeq(AuditArchX86_64, 1, 0), ret(RetKillProcess),
		ld(0), jeq(39, 0, 1), ret(RetErrno|1), ret(RetAllow),
	)
}

func TestRun(t *testing.T) {
	p, err := Decode(denyGetpid())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		d    Data
		want uint32
	}{
		{"getpid", Data{Nr: 39, Arch: AuditArchX86_64}, RetErrno | 1},
		{"getppid", Data{Nr: 110, Arch: AuditArchX86_64}, RetAllow},
		{"i386", Data{Nr: 39, Arch: 0x40000003}, RetKillProcess},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := p.Run(&tc.d); got != tc.want {
				t.Errorf("Run = %#x, want %#x", got, tc.want)
			}
		})
	}
}

func TestArithmeticAndMemory(t *testing.T) {
	// A = args[0] low word; A = (A*3+1) & 0xff; M[2] = A; X = A; A = X; ret A.
	p, err := Decode(encode(
		ld(16),
		Instruction{Code: clsALU | aluMUL | srcK, K: 3},
		Instruction{Code: clsALU | aluADD | srcK, K: 1},
		Instruction{Code: clsALU | aluAND | srcK, K: 0xff},
		Instruction{Code: clsST, K: 2},
		Instruction{Code: clsLDX | modeMEM, K: 2},
		Instruction{Code: clsMISC | miscTXA},
		Instruction{Code: clsRET | rvalA},
	))
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Run(&Data{Args: [6]uint64{100}}); got != (100*3+1)&0xff {
		t.Fatalf("got %d", got)
	}
}

func TestDecodeRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		prog []byte
	}{
		{"empty", nil},
		{"ragged", []byte{1, 2, 3}},
		{"no return at end", encode(ld(0))},
		{"load beyond seccomp_data", encode(ld(64), ret(RetAllow))},
		{"unaligned load", encode(ld(2), ret(RetAllow))},
		{"jump out of the program", encode(jeq(1, 5, 0), ret(RetAllow))},
		{"division by constant zero", encode(Instruction{Code: clsALU | aluDIV | srcK}, ret(RetAllow))},
		{"packet byte load", encode(Instruction{Code: clsLD | 0x10 | modeABS}, ret(RetAllow))},
		{"scratch index", encode(Instruction{Code: clsST, K: 16}, ret(RetAllow))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Decode(tc.prog); err != errno.EINVAL {
				t.Fatalf("Decode: %v, want EINVAL", err)
			}
		})
	}
}

func TestPrecedence(t *testing.T) {
	allow, _ := Decode(encode(ret(RetAllow)))
	errnoA, _ := Decode(encode(ret(RetErrno | 5)))
	errnoB, _ := Decode(encode(ret(RetErrno | 7)))
	kill, _ := Decode(encode(ret(RetKillProcess)))
	var f *Filters
	f = f.Push(errnoA, false).Push(allow, false).Push(errnoB, false)
	if got := f.Evaluate(&Data{}); got != RetErrno|7 {
		t.Fatalf("same action: got %#x, want the newest filter's data", got)
	}
	if got := f.Push(kill, false).Evaluate(&Data{}); got != RetKillProcess {
		t.Fatalf("kill: got %#x", got)
	}
	if f.Len() != 3 {
		t.Fatalf("Len = %d", f.Len())
	}
}

func FuzzRun(f *testing.F) {
	f.Add(denyGetpid(), int32(39), uint64(0))
	f.Fuzz(func(t *testing.T, prog []byte, nr int32, arg uint64) {
		p, err := Decode(prog)
		if err != nil {
			return
		}
		p.Run(&Data{Nr: nr, Arch: AuditArchX86_64, Args: [6]uint64{arg, arg}})
	})
}
