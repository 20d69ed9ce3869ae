package kernel

import (
	"sync"

	"github.com/runsc-lite/runsc-lite/platform"
)

// asPoolSize is how many started address spaces the kernel keeps ready.
// Starting one (a stub process) costs a few milliseconds; fork and execve
// each need one, so a shell pipeline would otherwise pay that on every
// command. Two covers a fork followed by an exec.
const asPoolSize = 2

// asPool keeps address spaces started in the background.
type asPool struct {
	p platform.Platform

	// mu protects the fields below.
	mu      sync.Mutex
	ready   []platform.AddressSpace
	filling bool
	closed  bool
}

// newAddressSpace returns a started address space, from the pool if one is
// ready, and refills the pool in the background.
func (k *Kernel) newAddressSpace() (platform.AddressSpace, error) {
	pool := k.asPoolOnce()
	pool.mu.Lock()
	var as platform.AddressSpace
	if n := len(pool.ready); n > 0 {
		as = pool.ready[n-1]
		pool.ready = pool.ready[:n-1]
	}
	pool.refillLocked()
	pool.mu.Unlock()
	if as != nil {
		return as, nil
	}
	return k.Platform.NewAddressSpace()
}

func (k *Kernel) asPoolOnce() *asPool {
	k.poolOnce.Do(func() { k.pool = &asPool{p: k.Platform} })
	return k.pool
}

// refillLocked starts a goroutine that fills the pool, unless one runs.
func (pool *asPool) refillLocked() {
	if pool.filling || pool.closed || len(pool.ready) >= asPoolSize {
		return
	}
	pool.filling = true
	go func() {
		for {
			as, err := pool.p.NewAddressSpace()
			pool.mu.Lock()
			if err != nil || pool.closed {
				pool.filling = false
				pool.mu.Unlock()
				if as != nil {
					as.Release()
				}
				return
			}
			pool.ready = append(pool.ready, as)
			if len(pool.ready) >= asPoolSize {
				pool.filling = false
				pool.mu.Unlock()
				return
			}
			pool.mu.Unlock()
		}
	}()
}

// ReleasePool kills the pooled stubs (when the sandbox ends).
func (k *Kernel) ReleasePool() {
	pool := k.asPoolOnce()
	pool.mu.Lock()
	ready := pool.ready
	pool.ready, pool.closed = nil, true
	pool.mu.Unlock()
	for _, as := range ready {
		as.Release()
	}
}
