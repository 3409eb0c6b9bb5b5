package enforce

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/impersonation"
	"github.com/wmpolicy/wmpolicy/policy"
)

// FileSourceOptions configure a FileSource. RulesFile and UsersFile are
// required.
type FileSourceOptions struct {
	// RulesFile is `aws workmail list-access-control-rules` output.
	RulesFile string
	// UsersFile is `aws workmail list-users` output: the directory logins are
	// resolved through (A18). A login that names no user is denied (E2).
	UsersFile string
	// Log receives one record per reload (applied or rejected); nil means
	// slog.Default().
	Log *slog.Logger
}

// FileSource is a Source that follows a rules file and a users file: Check reads them, and when any changed, decodes
// them strictly, compiles the rules against the users, and publishes the
// policy and the directory together with one atomic store. Invalid or
// unreadable files keep the version in force, and every problem is logged
// with its file and field path. Decisions never wait for a reload and never
// see half of one.
//
// A FileSource is safe for concurrent use. Snapshot costs one atomic load.
type FileSource struct {
	opts FileSourceOptions
	log  *slog.Logger
	cur  atomic.Pointer[fileSnapshot]

	mu      sync.Mutex // serializes Check
	files   []*watchedFile
	pending bool // a file changed and has not compiled since

	stmu   sync.Mutex
	status ReloadStatus
	notify chan struct{}
}

// ReloadStatus counts a FileSource's reload attempts.
type ReloadStatus struct {
	// Revision is the revision in force: 1 for the files loaded at start, one
	// more for every applied reload.
	Revision uint64
	// Applied counts reloads that compiled and were published; Rejected those
	// that failed (invalid or unreadable files: the version in force stayed).
	Applied, Rejected uint64
	// LastError is the error of the last rejected reload; nil when the last
	// attempt was applied.
	LastError error
}

type fileSnapshot struct {
	policy *accessctl.Policy
	dir    *policy.MemDirectory
	rev    uint64
	nrules int
}

func (s *fileSnapshot) Policy() *accessctl.Policy       { return s.policy }
func (s *fileSnapshot) Directory() *policy.MemDirectory { return s.dir }

// Role returns nil: a FileSource knows no roles (EWSFiles reads the roles
// that the EWS proxy needs from files of their own).
func (s *fileSnapshot) Role(string) *impersonation.Evaluator { return nil }
func (s *fileSnapshot) Revision() uint64                     { return s.rev }

// FileError is a problem in one of a FileSource's files: it names the file,
// and Err is the read error or the policy.ErrorList of its problems.
type FileError struct {
	File string
	Err  error
}

// Error returns "FILE: problem".
func (e *FileError) Error() string { return e.File + ": " + e.Err.Error() }

// Unwrap returns Err.
func (e *FileError) Unwrap() error { return e.Err }

// NewFileSource reads and compiles the files; it fails with a *FileError
// (listing every problem with its field path) when they are not valid.
func NewFileSource(opts FileSourceOptions) (*FileSource, error) {
	if opts.RulesFile == "" || opts.UsersFile == "" {
		return nil, errors.New("enforce: a rules file and a users file are both required")
	}
	f := &FileSource{opts: opts, log: opts.Log, notify: make(chan struct{})}
	if f.log == nil {
		f.log = slog.Default()
	}
	f.files = []*watchedFile{{path: opts.RulesFile}, {path: opts.UsersFile}}
	now := time.Now()
	for _, w := range f.files {
		if _, err := w.poll(now); err != nil {
			return nil, &FileError{w.path, err}
		}
	}
	s, err := f.compile()
	if err != nil {
		return nil, err
	}
	s.rev = 1
	f.cur.Store(s)
	f.status.Revision = 1
	f.log.Info("rules loaded", "revision", 1, "rules", s.nrules, "users", s.dir.Len(),
		"rules_file", opts.RulesFile, "users_file", opts.UsersFile)
	return f, nil
}

// Snapshot returns the version in force; never nil.
func (f *FileSource) Snapshot() Snapshot { return f.cur.Load() }

// Status returns the reload counters.
func (f *FileSource) Status() ReloadStatus {
	s, _ := f.state()
	return s
}

// Changed returns a channel that is closed at the next reload attempt
// (applied or rejected), for tests and for programs that wait for a reload.
func (f *FileSource) Changed() <-chan struct{} {
	_, c := f.state()
	return c
}

func (f *FileSource) state() (ReloadStatus, chan struct{}) {
	f.stmu.Lock()
	defer f.stmu.Unlock()
	return f.status, f.notify
}

func (f *FileSource) reloaded(update func(*ReloadStatus)) {
	f.stmu.Lock()
	update(&f.status)
	close(f.notify)
	f.notify = make(chan struct{})
	f.stmu.Unlock()
}

// Watch calls Check every poll interval (one second when poll ≤ 0) until ctx
// is done.
func (f *FileSource) Watch(ctx context.Context, poll time.Duration) {
	if poll <= 0 {
		poll = time.Second
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f.Check()
		}
	}
}

// Check looks at the files once and, when any changed since the last
// successful compile, compiles them and publishes the new version. It returns
// the problem that kept the version in force, or nil (also when nothing
// changed). Each distinct problem is logged once.
func (f *FileSource) Check() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	var errs []error
	newProblem := false
	for _, w := range f.files {
		changed, err := w.poll(now)
		f.pending = f.pending || changed
		if err != nil {
			errs = append(errs, &FileError{w.path, err})
			newProblem = newProblem || w.failed
		}
	}
	if err := errors.Join(errs...); err != nil {
		if newProblem {
			f.log.Error("reload failed: keeping the rules in force", "revision", f.cur.Load().rev, "error", err)
			f.reloaded(func(s *ReloadStatus) { s.Rejected++; s.LastError = err })
		}
		return err
	}
	if !f.pending {
		return nil
	}
	f.pending = false
	s, err := f.compile()
	if err != nil {
		var fe *FileError
		errors.As(err, &fe)
		for _, e := range policy.Errors(fe.Err) {
			f.log.Error("reload rejected: keeping the rules in force", "revision", f.cur.Load().rev,
				"file", fe.File, "code", string(e.Code), "path", e.Path, "problem", e.Message)
		}
		f.reloaded(func(s *ReloadStatus) { s.Rejected++; s.LastError = err })
		return err
	}
	s.rev = f.cur.Load().rev + 1
	f.cur.Store(s)
	f.log.Info("rules reloaded", "revision", s.rev, "rules", s.nrules, "users", s.dir.Len())
	f.reloaded(func(st *ReloadStatus) { st.Applied++; st.Revision = s.rev; st.LastError = nil })
	return nil
}

// compile builds a snapshot from the files' last read contents.
func (f *FileSource) compile() (*fileSnapshot, error) {
	rulesData, usersData := f.files[0].data, f.files[1].data
	dir, err := policy.DecodeUsers(usersData)
	if err != nil {
		return nil, &FileError{f.opts.UsersFile, err}
	}
	rules, err := accessctl.DecodeRules(rulesData)
	if err != nil {
		return nil, &FileError{f.opts.RulesFile, err}
	}
	p, err := accessctl.Compile(rules, accessctl.Options{Directory: dir})
	if err != nil {
		return nil, &FileError{f.opts.RulesFile, err}
	}
	s := &fileSnapshot{policy: p, dir: dir, nrules: len(rules)}
	return s, nil
}
