//go:build !linux

package conform

// becomeSubreaper does nothing where there is no child subreaper.
func becomeSubreaper() {}

// sweep does nothing where there is no /proc to find an adapter's
// descendants in; the process group kill reaches those that stayed in
// its group.
func sweep(string) {}
