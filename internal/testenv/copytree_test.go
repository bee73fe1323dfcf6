//go:build unix

package testenv

import (
	"bytes"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestCopyTree(t *testing.T) {
	src := t.TempDir()
	if err := os.Mkdir(filepath.Join(src, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	// Zero chunks at the start, middle and end, data between, and a tail
	// shorter than a chunk.
	data := make([]byte, 5*sparseChunk+100)
	copy(data[sparseChunk:], "first")
	copy(data[3*sparseChunk+7:], "second")
	files := map[string][]byte{
		"sub/big":  data,
		"empty":    nil,
		"small":    []byte("x"),
		"zeroonly": make([]byte, 3*sparseChunk),
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(src, name), content, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	dst := filepath.Join(t.TempDir(), "copy")
	if err := copyTree(src, dst); err != nil {
		t.Fatal(err)
	}
	for name, want := range files {
		path := filepath.Join(dst, name)
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs after copy", name)
		}
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o640 {
			t.Errorf("%s mode %v, want 0640", name, st.Mode().Perm())
		}
	}
	st, err := os.Stat(filepath.Join(dst, "zeroonly"))
	if err != nil {
		t.Fatal(err)
	}
	if blocks := st.Sys().(*syscall.Stat_t).Blocks; blocks != 0 {
		t.Errorf("an all-zero file uses %d blocks after copy, want a hole", blocks)
	}
	if st, err := os.Stat(filepath.Join(dst, "sub")); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("sub: %v, %v", st, err)
	}
}
