package org

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// The state directory as a backend: the code of persist.go behind the
// backend interface. It is exclusive (one process holds DIR/LOCK), so a
// commit needs no revision check: the Store's writer lock orders them.

func (d *disk) load(_ context.Context, s *Store, idx map[string]*slot) error {
	return s.load(d, idx)
}

func (d *disk) commit(_ context.Context, rec *record, _ uint64) error {
	if d.readOnly {
		return errReadOnly
	}
	return d.writeOrg(rec)
}

// errReadOnly is the error of every mutation of a store opened with
// Options.ReadOnly.
var errReadOnly = errors.New("org: the store is open read-only")

// openDiskReadOnly opens the state directory dir for reading only: no lock
// is taken and nothing is created, removed or written, so that it works on a
// read-only mount and next to a process that holds the directory. The
// directory must exist. Each file is replaced by rename as a whole, so every
// organization is read as one of its committed versions; a reader racing a
// writer may see one organization before a change and another after it.
func openDiskReadOnly(dir string) (*disk, error) {
	d := &disk{dir: dir, orgs: filepath.Join(dir, orgsDirName), readOnly: true}
	fi, err := os.Stat(d.orgs)
	if err != nil {
		return nil, fmt.Errorf("org: state directory %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("org: state directory %s: %s is not a directory", dir, d.orgs)
	}
	return d, nil
}
