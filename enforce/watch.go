package enforce

import (
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"time"
)

// maxFileSize bounds what a FileSource reads from a watched file.
const maxFileSize = 64 << 20

// racyWindow: a file modified this recently is hashed at every poll even when
// its size and modification time look unchanged, because a second write within
// the file system's timestamp granularity would leave both as they were (the
// "racy git" problem). Older files are only read when their stat changes.
const racyWindow = 2 * time.Second

// watchedFile is the last seen state of one watched file. It is used by one
// goroutine at a time (under FileSource.mu).
type watchedFile struct {
	path    string
	modTime time.Time
	size    int64
	sum     [sha256.Size]byte
	data    []byte // the contents last read
	seen    bool   // data holds a successful read
	errText string // the last read error, to report each problem once
	failed  bool   // set when errText changed at the last poll
}

// poll stats the file and, when it may have changed, reads and hashes it.
// changed reports new contents (compared by hash, so touching a file or
// rewriting the same bytes is no change). On error the last contents stay.
func (w *watchedFile) poll(now time.Time) (changed bool, err error) {
	w.failed = false
	fi, err := os.Stat(w.path)
	if err == nil && !fi.Mode().IsRegular() {
		err = fmt.Errorf("%s: not a regular file", w.path)
	}
	if err == nil && fi.Size() > maxFileSize {
		err = fmt.Errorf("%s: larger than %d bytes", w.path, maxFileSize)
	}
	if err != nil {
		return false, w.fail(err)
	}
	if w.seen && fi.Size() == w.size && fi.ModTime().Equal(w.modTime) && now.Sub(fi.ModTime()) > racyWindow {
		w.errText = ""
		return false, nil
	}
	f, err := os.Open(w.path)
	if err != nil {
		return false, w.fail(err)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	f.Close()
	if err == nil && len(data) > maxFileSize {
		err = fmt.Errorf("%s: larger than %d bytes", w.path, maxFileSize)
	}
	if err != nil {
		return false, w.fail(err)
	}
	w.errText = ""
	w.modTime, w.size = fi.ModTime(), fi.Size()
	sum := sha256.Sum256(data)
	if w.seen && sum == w.sum {
		return false, nil
	}
	w.sum, w.data, w.seen = sum, data, true
	return true, nil
}

// fail records err and returns it; failed tells whether it is a new problem.
func (w *watchedFile) fail(err error) error {
	if err.Error() != w.errText {
		w.errText = err.Error()
		w.failed = true
	}
	return err
}
