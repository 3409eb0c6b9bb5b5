//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package org

import "os"

// lockFile does nothing on systems without flock: the caller must not open
// one state directory from two processes.
func lockFile(*os.File) error { return nil }

func unlockFile(*os.File) {}
