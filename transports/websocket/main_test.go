package websocket

import (
	"testing"

	"github.com/wampgate/wampgate/transports/transporttest"
)

// TestMain fails the run when goroutines started by the tests outlive them.
func TestMain(m *testing.M) { transporttest.Main(m) }
