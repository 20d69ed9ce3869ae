// Package seccomp runs seccomp filters (classic BPF programs over struct
// seccomp_data) in the sentry: the filters a guest installs with
// seccomp(2), and later the OCI profile of a container. The guest's
// programs never reach the host kernel.
package seccomp

import (
	"encoding/binary"

	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
)

// Instruction is struct sock_filter.
type Instruction struct {
	Code uint16
	Jt   uint8
	Jf   uint8
	K    uint32
}

// InstructionSize is sizeof(struct sock_filter).
const InstructionSize = 8

// MaxInstructions is BPF_MAXINSNS.
const MaxInstructions = 4096

// Classic BPF opcode fields, from <linux/bpf_common.h>.
const (
	clsLD   = 0x00
	clsLDX  = 0x01
	clsST   = 0x02
	clsSTX  = 0x03
	clsALU  = 0x04
	clsJMP  = 0x05
	clsRET  = 0x06
	clsMISC = 0x07

	sizeW = 0x00

	modeIMM = 0x00
	modeABS = 0x20
	modeMEM = 0x60
	modeLEN = 0x80

	aluADD = 0x00
	aluSUB = 0x10
	aluMUL = 0x20
	aluDIV = 0x30
	aluOR  = 0x40
	aluAND = 0x50
	aluLSH = 0x60
	aluRSH = 0x70
	aluNEG = 0x80
	aluMOD = 0x90
	aluXOR = 0xa0

	jmpJA   = 0x00
	jmpJEQ  = 0x10
	jmpJGT  = 0x20
	jmpJGE  = 0x30
	jmpJSET = 0x40

	srcK  = 0x00
	srcX  = 0x08
	rvalA = 0x10

	miscTAX = 0x00
	miscTXA = 0x80

	memWords = 16
)

// DataSize is sizeof(struct seccomp_data).
const DataSize = 64

// Data is struct seccomp_data.
type Data struct {
	Nr                 int32
	Arch               uint32
	InstructionPointer uint64
	Args               [6]uint64
}

func (d *Data) bytes() [DataSize]byte {
	var b [DataSize]byte
	le := binary.LittleEndian
	le.PutUint32(b[0:], uint32(d.Nr))
	le.PutUint32(b[4:], d.Arch)
	le.PutUint64(b[8:], d.InstructionPointer)
	for i, a := range d.Args {
		le.PutUint64(b[16+8*i:], a)
	}
	return b
}

// Program is a validated filter.
type Program struct {
	insns []Instruction
}

// Decode parses and validates a filter as kernel/seccomp.c's
// seccomp_check_filter and net/core/filter.c's bpf_check_classic do: only
// the instructions seccomp allows, word loads at aligned offsets inside
// seccomp_data, forward jumps inside the program, and a return at the end.
func Decode(b []byte) (*Program, error) {
	n := len(b) / InstructionSize
	if n == 0 || n > MaxInstructions || len(b)%InstructionSize != 0 {
		return nil, errno.EINVAL
	}
	p := &Program{insns: make([]Instruction, n)}
	le := binary.LittleEndian
	for i := range p.insns {
		o := i * InstructionSize
		p.insns[i] = Instruction{Code: le.Uint16(b[o:]), Jt: b[o+2], Jf: b[o+3], K: le.Uint32(b[o+4:])}
	}
	for i, in := range p.insns {
		switch in.Code {
		case clsLD | sizeW | modeABS:
			if in.K >= DataSize || in.K%4 != 0 {
				return nil, errno.EINVAL
			}
		case clsLD | sizeW | modeLEN:
			// Converted to a load of the constant sizeof(seccomp_data).
			p.insns[i] = Instruction{Code: clsLD | modeIMM, K: DataSize}
		case clsLDX | sizeW | modeLEN:
			p.insns[i] = Instruction{Code: clsLDX | modeIMM, K: DataSize}
		case clsLD | modeIMM, clsLDX | modeIMM:
		case clsLD | modeMEM, clsLDX | modeMEM, clsST, clsSTX:
			if in.K >= memWords {
				return nil, errno.EINVAL
			}
		case clsALU | aluADD | srcK, clsALU | aluADD | srcX,
			clsALU | aluSUB | srcK, clsALU | aluSUB | srcX,
			clsALU | aluMUL | srcK, clsALU | aluMUL | srcX,
			clsALU | aluDIV | srcX, clsALU | aluMOD | srcX,
			clsALU | aluAND | srcK, clsALU | aluAND | srcX,
			clsALU | aluOR | srcK, clsALU | aluOR | srcX,
			clsALU | aluXOR | srcK, clsALU | aluXOR | srcX,
			clsALU | aluLSH | srcK, clsALU | aluLSH | srcX,
			clsALU | aluRSH | srcK, clsALU | aluRSH | srcX,
			clsALU | aluNEG:
		case clsALU | aluDIV | srcK, clsALU | aluMOD | srcK:
			if in.K == 0 {
				return nil, errno.EINVAL
			}
		case clsJMP | jmpJA:
			if uint64(i)+1+uint64(in.K) >= uint64(n) {
				return nil, errno.EINVAL
			}
		case clsJMP | jmpJEQ | srcK, clsJMP | jmpJEQ | srcX,
			clsJMP | jmpJGT | srcK, clsJMP | jmpJGT | srcX,
			clsJMP | jmpJGE | srcK, clsJMP | jmpJGE | srcX,
			clsJMP | jmpJSET | srcK, clsJMP | jmpJSET | srcX:
			if i+1+int(in.Jt) >= n || i+1+int(in.Jf) >= n {
				return nil, errno.EINVAL
			}
		case clsRET | srcK, clsRET | rvalA:
		case clsMISC | miscTAX, clsMISC | miscTXA:
		default:
			return nil, errno.EINVAL
		}
	}
	if p.insns[n-1].Code&0x07 != clsRET {
		return nil, errno.EINVAL
	}
	return p, nil
}

// Run executes the program on d and returns its verdict.
func (p *Program) Run(d *Data) uint32 {
	data := d.bytes()
	var a, x uint32
	var mem [memWords]uint32
	for pc := 0; pc < len(p.insns); pc++ {
		in := p.insns[pc]
		switch in.Code {
		case clsLD | sizeW | modeABS:
			a = binary.LittleEndian.Uint32(data[in.K:])
		case clsLD | modeIMM:
			a = in.K
		case clsLDX | modeIMM:
			x = in.K
		case clsLD | modeMEM:
			a = mem[in.K]
		case clsLDX | modeMEM:
			x = mem[in.K]
		case clsST:
			mem[in.K] = a
		case clsSTX:
			mem[in.K] = x
		case clsRET | srcK:
			return in.K
		case clsRET | rvalA:
			return a
		case clsMISC | miscTAX:
			x = a
		case clsMISC | miscTXA:
			a = x
		case clsJMP | jmpJA:
			pc += int(in.K)
		case clsALU | aluNEG:
			a = -a
		default:
			src := in.K
			if in.Code&srcX != 0 {
				src = x
			}
			switch in.Code & 0x07 {
			case clsALU:
				switch in.Code & 0xf0 {
				case aluADD:
					a += src
				case aluSUB:
					a -= src
				case aluMUL:
					a *= src
				case aluDIV:
					if src == 0 {
						return 0 // Division by zero ends the program with 0.
					}
					a /= src
				case aluMOD:
					if src == 0 {
						return 0
					}
					a %= src
				case aluAND:
					a &= src
				case aluOR:
					a |= src
				case aluXOR:
					a ^= src
				case aluLSH:
					a <<= src & 31
				case aluRSH:
					a >>= src & 31
				}
			case clsJMP:
				var cond bool
				switch in.Code & 0xf0 {
				case jmpJEQ:
					cond = a == src
				case jmpJGT:
					cond = a > src
				case jmpJGE:
					cond = a >= src
				case jmpJSET:
					cond = a&src != 0
				}
				if cond {
					pc += int(in.Jt)
				} else {
					pc += int(in.Jf)
				}
			}
		}
	}
	// Decode guarantees a return at the end.
	return 0
}
