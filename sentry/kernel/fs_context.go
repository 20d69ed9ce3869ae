package kernel

// FSContext is a task's root, working directory and umask. (Placeholder: the
// fs work replaces this file.)
type FSContext struct{}
