// Package memfile is the sandbox's memory file: one memfd that backs all
// guest anonymous and private memory, mapped once into the sentry.
package memfile

// MemoryFile is the sandbox memory file.
type MemoryFile struct{}
