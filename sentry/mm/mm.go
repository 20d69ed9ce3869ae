// Package mm is the guest memory manager.
package mm

// MemoryManager is one guest address space.
type MemoryManager struct{}
