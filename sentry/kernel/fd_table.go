package kernel

// FDTable is a task's file descriptor table. (Placeholder: the fs work
// replaces this file.)
type FDTable struct{}
