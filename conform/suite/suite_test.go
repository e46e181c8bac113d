package suite_test

import (
	"testing"

	"github.com/wschaos/wschaos/conform"
	"github.com/wschaos/wschaos/conform/suite"
	"github.com/wschaos/wschaos/profile"
)

// The plain testing entry point, as a Go team would use it.
func TestReferenceConforms(t *testing.T) {
	for _, name := range profile.Names() {
		t.Run(name, func(t *testing.T) { suite.Test(t, profile.ByName(name), conform.Reference()) })
	}
}
