package kernel

import (
	"sync"
	"testing"

	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
)

type countingImpl struct {
	vfs.FileDescriptionDefaultImpl
	released *int
}

func (c countingImpl) Release()                                    { *c.released++ }
func (countingImpl) Read(vfs.Context, []byte, int64) (int, error)  { return 0, nil }
func (countingImpl) Write(vfs.Context, []byte, int64) (int, error) { return 0, nil }

func newFile(released *int) *vfs.FileDescription {
	return vfs.NewFileDescription(countingImpl{released: released}, 0, vfs.VirtualDentry{}, vfs.FileDescriptionOptions{Name: "test"})
}

func TestFDTable(t *testing.T) {
	var released int
	f := newFile(&released)
	fdt := NewFDTable()
	for want := int32(0); want < 3; want++ {
		if fd, err := fdt.NewFD(0, f, false); fd != want || err != nil {
			t.Fatalf("NewFD = %d, %v; want %d", fd, err, want)
		}
	}
	// Lowest free: closing 1 makes it the next.
	if got := fdt.Remove(1); got != f {
		t.Fatal("Remove returned wrong file")
	}
	f.DecRef() // the table's reference, passed to us
	if fd, _ := fdt.NewFD(0, f, true); fd != 1 {
		t.Errorf("reuse got %d", fd)
	}
	if fd, _ := fdt.NewFD(10, f, false); fd != 10 {
		t.Errorf("minFD got %d", fd)
	}
	if fd, _ := fdt.NewFD(0, f, false); fd != 3 {
		t.Errorf("after minFD got %d", fd)
	}
	if fdt.Remove(7) != nil {
		t.Error("Remove of closed fd")
	}
	g, cloexec := fdt.Get(1)
	if !cloexec {
		t.Error("cloexec lost")
	}
	g.DecRef()
	// Dup and NewFDAt replacing.
	var r2 int
	f2 := newFile(&r2)
	if err := fdt.NewFDAt(3, f2, false); err != nil {
		t.Fatal(err)
	}
	if fd, err := fdt.Dup(3, 0, false); fd != 4 || err != nil {
		t.Errorf("Dup = %d, %v", fd, err)
	}
	if _, err := fdt.Dup(99, 0, false); err != errno.EBADF {
		t.Errorf("Dup bad fd: %v", err)
	}
	if err := fdt.NewFDAt(-1, f, false); err != errno.EBADF {
		t.Errorf("NewFDAt(-1): %v", err)
	}
	if err := fdt.NewFDAt(DefaultNOFILE, f, false); err != errno.EBADF {
		t.Errorf("NewFDAt(limit): %v", err)
	}
	if got := fdt.FDs(); len(got) != 6 {
		t.Errorf("FDs = %v", got)
	}
	// Fork shares files; exec closes cloexec ones; exit closes all.
	child := fdt.Fork()
	fdt.CloseOnExec()
	if g, _ := fdt.Get(1); g != nil {
		t.Error("cloexec fd survived exec")
	}
	if g, _ := child.Get(1); g == nil {
		t.Error("child lost fd 1")
	} else {
		g.DecRef()
	}
	fdt.RemoveAll()
	child.RemoveAll()
	f.DecRef()
	f2.DecRef()
	if released != 1 || r2 != 1 {
		t.Errorf("released %d %d times, want once each", released, r2)
	}
}

func TestFDTableLimit(t *testing.T) {
	var released int
	f := newFile(&released)
	defer f.DecRef()
	fdt := NewFDTable()
	fdt.SetLimit(3)
	for i := 0; i < 3; i++ {
		if _, err := fdt.NewFD(0, f, false); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := fdt.NewFD(0, f, false); err != errno.EMFILE {
		t.Errorf("over limit: %v", err)
	}
	if _, err := fdt.Dup(0, 5, false); err != errno.EINVAL {
		t.Errorf("F_DUPFD above limit: %v", err)
	}
	fdt.RemoveAll()
}

func TestFDTableConcurrent(t *testing.T) {
	var released int
	f := newFile(&released)
	fdt := NewFDTable()
	fdt.SetLimit(MaxNOFILE)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				fd, err := fdt.NewFD(0, f, false)
				if err != nil {
					t.Error(err)
					return
				}
				if i%2 == 0 {
					fdt.Remove(fd).DecRef()
				}
			}
		}()
	}
	wg.Wait()
	if n := len(fdt.FDs()); n != 800 {
		t.Errorf("%d fds open, want 800", n)
	}
	fdt.RemoveAll()
	f.DecRef()
	if released != 1 {
		t.Errorf("released %d", released)
	}
}
