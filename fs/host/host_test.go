package host_test

import (
	"os"
	"testing"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/host"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
)

func TestImportPipe(t *testing.T) {
	ctx := vfs.RootContext()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	rf, err := host.Import(ctx, int(r.Fd()), linux.O_RDONLY)
	if err != nil {
		t.Fatal(err)
	}
	defer rf.DecRef()
	wf, err := host.Import(ctx, int(w.Fd()), linux.O_WRONLY)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := wf.Write(ctx, []byte("hi")); n != 2 || err != nil {
		t.Fatalf("write %d %v", n, err)
	}
	buf := make([]byte, 10)
	if n, err := rf.Read(ctx, buf); n != 2 || err != nil || string(buf[:2]) != "hi" {
		t.Fatalf("read %d %v", n, err)
	}
	if _, err := rf.Seek(ctx, 0, linux.SEEK_SET); err != errno.ESPIPE {
		t.Errorf("seek on pipe: %v", err)
	}
	if _, err := rf.Ioctl(ctx, nil, linux.TCGETS, 0); err != errno.ENOTTY {
		t.Errorf("TCGETS on pipe: %v", err)
	}
	if name := rf.PathName(); len(name) < 6 || name[:6] != "pipe:[" {
		t.Errorf("name %q", name)
	}
	st, err := rf.Stat(ctx)
	if err != nil || st.FileMode().FileType() != linux.S_IFIFO {
		t.Errorf("stat %v %o", err, st.Mode)
	}
	// Closing the guest's write end and the host's leaves EOF.
	wf.DecRef()
	w.Close()
	if n, err := rf.Read(ctx, buf); n != 0 || err != nil {
		t.Errorf("EOF read %d %v", n, err)
	}
}

func TestImportRegularFile(t *testing.T) {
	ctx := vfs.RootContext()
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	hf, err := host.Import(ctx, int(f.Fd()), linux.O_RDWR)
	if err != nil {
		t.Fatal(err)
	}
	defer hf.DecRef()
	if _, err := hf.Write(ctx, []byte("abc")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 3)
	if n, err := hf.PRead(ctx, buf, 0); n != 3 || err != nil || string(buf) != "abc" {
		t.Errorf("pread %d %v %q", n, err, buf)
	}
	st, _ := hf.Stat(ctx)
	if st.Size != 3 {
		t.Errorf("size %d", st.Size)
	}
}
