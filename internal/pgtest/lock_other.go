//go:build !unix

package pgtest

import "os"

// lock does nothing where flock is missing: tests there run one package at
// a time or not against one server.
func lock(*os.File, bool) error { return nil }
