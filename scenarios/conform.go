package scenarios

import (
	"github.com/wschaos/wschaos/conform"
	"github.com/wschaos/wschaos/conform/suite"
	"github.com/wschaos/wschaos/profile"
)

// The conformance scenarios, as a Go team runs them against its own
// client: here against the reference client, for both profiles.
var (
	_ = suite.Describe("the reference client", profile.QueueProfile(), conform.Reference())
	_ = suite.Describe("the reference client", profile.MattermostProfile(), conform.Reference())
)
