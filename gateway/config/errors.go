package config

import (
	"strconv"
	"strings"
)

// Error is one problem in a config file.
type Error struct {
	// File is the config file's path as given to Load.
	File string
	// Line is the 1-based line of the offending key or value; 0 when the
	// problem has no position (an unreadable file, say).
	Line int
	// Path is the key path, such as "realms[1].users[0].role"; empty for
	// problems that concern the whole file (YAML syntax errors).
	Path string
	// Msg says what is wrong.
	Msg string
	// Err is the underlying error, if any (such as fs.ErrNotExist for a
	// missing secret file).
	Err error
}

// Error formats e as "FILE:LINE: key.path: message".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Errors is every problem Load found in one file, in file order. Load
// returns it as the error whenever there is at least one problem.
type Errors struct {
	List []*Error
}

// Error returns the problems one per line.
func (e *Errors) Error() string {
	var b strings.Builder
	for i, err := range e.List {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(err.Error())
	}
	return b.String()
}

// Unwrap returns the problems, so that errors.Is and errors.As see each one.
func (e *Errors) Unwrap() []error {
	out := make([]error, len(e.List))
	for i, err := range e.List {
		out[i] = err
	}
	return out
}
