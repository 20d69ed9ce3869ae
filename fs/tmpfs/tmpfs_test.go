package tmpfs

import (
	"bytes"
	"testing"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
	"github.com/runsc-lite/runsc-lite/hostarch"
	"github.com/runsc-lite/runsc-lite/sentry/memfile"
)

// fakeSpace records invalidations.
type fakeSpace struct{ invalidated []hostarch.AddrRange }

func (s *fakeSpace) Invalidate(ar hostarch.AddrRange) { s.invalidated = append(s.invalidated, ar) }

func newFile(t *testing.T, opts Options) (*Filesystem, *Inode, *Inode, vfs.FileDescriptionImpl) {
	t.Helper()
	ctx := vfs.RootContext()
	fs, root := New(opts, 0o755, 0, 0)
	in, err := root.Create(ctx, "f", 0o644)
	if err != nil {
		t.Fatal(err)
	}
	impl, err := in.Open(ctx, linux.O_RDWR)
	if err != nil {
		t.Fatal(err)
	}
	return fs, root, in.(*Inode), impl
}

func TestDataMemoryFile(t *testing.T) {
	mf, err := memfile.New(64 << 20)
	if err != nil {
		t.Fatal(err)
	}
	defer mf.Release()
	ctx := vfs.RootContext()
	fs, root, in, fd := newFile(t, Options{MemoryFile: mf})

	// A write past a hole: the hole reads as zeros and holds no page.
	if _, err := fd.Write(ctx, []byte("hello"), 3*pageSize-2); err != nil {
		t.Fatal(err)
	}
	st, _ := in.Stat(ctx)
	if st.Size != 3*pageSize+3 || st.Blocks != 2*pageSize/512 {
		t.Errorf("size %d blocks %d, want %d and %d", st.Size, st.Blocks, 3*pageSize+3, 2*pageSize/512)
	}
	buf := make([]byte, 8)
	if n, _ := fd.Read(ctx, buf, 3*pageSize-5); n != 8 || !bytes.Equal(buf, []byte("\x00\x00\x00hello")) {
		t.Errorf("read across pages: %d %q", n, buf)
	}

	// Translate gives the very pages reads and writes use.
	m, ok := fd.(*regularFD).Mappable()
	if !ok {
		t.Fatal("not mappable with a memory file")
	}
	ts, err := m.Translate(pageSize, 2*pageSize, hostarch.AccessType{Read: true, Write: true})
	if err != nil || len(ts) == 0 {
		t.Fatalf("Translate: %v %v", ts, err)
	}
	var total uint64
	for _, tr := range ts {
		total += tr.Len
	}
	if ts[0].FileOff != pageSize || total != 2*pageSize {
		t.Errorf("translations %+v, want file offsets [%d, %d)", ts, pageSize, 3*pageSize)
	}
	copy(mf.Slice(ts[0].MemOff, pageSize), "via mapping")
	if n, _ := fd.Read(ctx, buf, pageSize); n != 8 || string(buf) != "via mapp" {
		t.Errorf("read after a write through the memory file: %q", buf)
	}
	if _, err := m.Translate(4*pageSize, pageSize, hostarch.AccessType{Read: true}); err == nil {
		t.Error("Translate past the end succeeded")
	}

	// Truncating invalidates the mappings of what is gone and zeroes the
	// tail of the last page.
	space := &fakeSpace{}
	ar := hostarch.AddrRange{Start: 0x10000, End: 0x10000 + 4*pageSize}
	m.AddMapping(space, ar, 0, true)
	opts := vfs.SetStatOptions{Stat: linux.Statx{Mask: linux.STATX_SIZE, Size: pageSize + 4}}
	if err := in.SetStat(ctx, &opts); err != nil {
		t.Fatal(err)
	}
	want := hostarch.AddrRange{Start: 0x10000 + 2*pageSize, End: ar.End}
	if len(space.invalidated) != 1 || space.invalidated[0] != want {
		t.Errorf("invalidated %v, want [%v]", space.invalidated, want)
	}
	opts.Stat.Size = 2 * pageSize
	in.SetStat(ctx, &opts)
	if n, _ := fd.Read(ctx, buf, pageSize); n != 8 || string(buf) != "via \x00\x00\x00\x00" {
		t.Errorf("read after truncate and regrow: %q", buf)
	}

	// The data goes when the last link, open file and mapping do.
	before := mf.Allocated()
	if err := root.Unlink(ctx, "f", in); err != nil {
		t.Fatal(err)
	}
	fd.Release()
	if fs.used == 0 {
		t.Error("data freed while still mapped")
	}
	m.RemoveMapping(space, ar, 0, true)
	if fs.used != 0 || mf.Allocated() >= before {
		t.Errorf("after the last reference: used %d, memory file %d -> %d", fs.used, before, mf.Allocated())
	}
}

func TestDataLimit(t *testing.T) {
	ctx := vfs.RootContext()
	fs, _, _, fd := newFile(t, Options{MaxBytes: 2 * pageSize})
	if _, ok := fd.(*regularFD).Mappable(); ok {
		t.Error("mappable without a memory file")
	}
	if _, err := fd.Write(ctx, make([]byte, 2*pageSize), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := fd.Write(ctx, []byte("x"), 2*pageSize); err != errno.ENOSPC {
		t.Errorf("write past the limit: %v, want ENOSPC", err)
	}
	if fs.used != 2*pageSize {
		t.Errorf("used %d after a failed write", fs.used)
	}
	st, _ := fs.StatFS(ctx)
	if st.Blocks != 2*pageSize/4096 || st.Bfree != 0 {
		t.Errorf("statfs blocks %d free %d", st.Blocks, st.Bfree)
	}
}
