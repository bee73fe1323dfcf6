package testenv

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// sparseChunk is InnoDB's page size: a freshly initialised datadir is mostly
// (about 19 of its 21 MB) zero-filled pages.
const sparseChunk = 16 << 10

// copyTree copies the directory src to dst, which must not exist, keeping
// permissions and leaving holes where src has zero-filled chunks. A datadir
// copied this way takes a few MB of disk instead of 21 and is written in a
// fraction of the time.
func copyTree(src, dst string) error {
	buf := make([]byte, sparseChunk)
	zero := make([]byte, sparseChunk)
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.Mkdir(target, info.Mode().Perm())
		case info.Mode().IsRegular():
			return copySparse(path, target, info.Mode().Perm(), buf, zero)
		default:
			return fmt.Errorf("copy %s: not a regular file or directory", path)
		}
	})
}

func copySparse(src, dst string, perm fs.FileMode, buf, zero []byte) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := out.Close(); err == nil {
			err = cerr
		}
	}()
	var off int64
	for {
		n, rerr := io.ReadFull(in, buf)
		if n > 0 && !bytes.Equal(buf[:n], zero[:n]) {
			if _, err := out.WriteAt(buf[:n], off); err != nil {
				return err
			}
		}
		off += int64(n)
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			return rerr
		}
	}
	// Extends the file over a trailing hole.
	return out.Truncate(off)
}
