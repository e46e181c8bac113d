package spec

import "github.com/wschaos/wschaos/chaos"

// CloseCode takes option code from sel: a WebSocket close code a client
// may receive (chaos.ValidCloseCode), def if there is none.
var CloseCode = chaos.CloseCode
