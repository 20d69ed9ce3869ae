package linux

// ELF identification, from <uapi/linux/elf.h>.
const (
	ELFMAG0     = 0x7f
	ELFMAG      = "\x7fELF"
	SELFMAG     = 4
	EI_NIDENT   = 16
	EI_CLASS    = 4
	EI_DATA     = 5
	EI_VERSION  = 6
	ELFCLASS64  = 2
	ELFDATA2LSB = 1
	EV_CURRENT  = 1
)

// ElfType is e_type, from <uapi/linux/elf.h>.
type ElfType uint16

// Object file types.
const (
	ET_NONE ElfType = 0
	ET_REL  ElfType = 1
	ET_EXEC ElfType = 2
	ET_DYN  ElfType = 3
	ET_CORE ElfType = 4
)

// EM_X86_64 is e_machine for AMD x86-64, from <uapi/linux/elf-em.h>.
const EM_X86_64 = 62

// Program header types (p_type), from <uapi/linux/elf.h>.
const (
	PT_NULL      = 0
	PT_LOAD      = 1
	PT_DYNAMIC   = 2
	PT_INTERP    = 3
	PT_NOTE      = 4
	PT_SHLIB     = 5
	PT_PHDR      = 6
	PT_TLS       = 7
	PT_GNU_STACK = 0x6474e551
)

// Program header flags (p_flags), from <uapi/linux/elf.h>.
const (
	PF_X = 0x1
	PF_W = 0x2
	PF_R = 0x4
)

// Sizes of struct elf64_hdr and struct elf64_phdr, from <uapi/linux/elf.h>.
const (
	ELF64_EHDR_SIZE = 64
	ELF64_PHDR_SIZE = 56
)
