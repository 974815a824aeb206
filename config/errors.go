package config

import (
	"errors"
	"fmt"
)

// FieldError is one configuration problem: the field (as a YAML path, such
// as "keys[1].alg" or "cookie.same_site"), what is wrong with it, and how to
// fix it. Validation returns all of them at once, joined with errors.Join.
type FieldError struct {
	Field   string
	Problem string
	Fix     string
	// Err is the underlying cause, if any (a parse error, a file error).
	Err error
}

func (e *FieldError) Error() string {
	s := e.Field + ": " + e.Problem
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	if e.Fix != "" {
		s += " (fix: " + e.Fix + ")"
	}
	return s
}

func (e *FieldError) Unwrap() error { return e.Err }

// Problem returns a FieldError for field.
func Problem(field, problem, fix string) *FieldError {
	return &FieldError{Field: field, Problem: problem, Fix: fix}
}

// Problemf is Problem with a formatted problem text.
func Problemf(field, fix, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Problem: fmt.Sprintf(format, args...), Fix: fix}
}

// FieldErrors returns every FieldError inside err (which may be a join of
// several), in order.
func FieldErrors(err error) []*FieldError {
	var out []*FieldError
	var walk func(error)
	walk = func(err error) {
		if err == nil {
			return
		}
		var fe *FieldError
		if errors.As(err, &fe) && err == error(fe) {
			out = append(out, fe)
			return
		}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		if errors.As(err, &fe) {
			out = append(out, fe)
		}
	}
	walk(err)
	return out
}
