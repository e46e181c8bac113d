//go:build !linux

package bench

// roles are the helper processes this binary can be: none here, where
// the capacity benchmark does not run.
var roles = map[string]func() int{}
