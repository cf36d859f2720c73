package inproc

import (
	"testing"

	"github.com/wampgate/wampgate/transports"
	"github.com/wampgate/wampgate/transports/transporttest"
)

func TestConformance(t *testing.T) {
	transporttest.Run(t, func(t *testing.T, _ transports.Options) (client, server transports.Conn) {
		return Pipe(transports.MsgPack)
	})
}
