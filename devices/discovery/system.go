//go:build linux || windows || (darwin && cgo)

package discovery

import (
	"fmt"

	"go.bug.st/serial/enumerator"
)

// System returns the Lister of the machine's real ports: go.bug.st/serial's
// enumerator (on Linux it reads sysfs; nothing is probed or opened) joined
// with the stable names under ByIDDir. It lists device nodes such as
// ttyUSB0, ttyACM0, ttyAMA0 and ttyS0, never ptys.
func System() Lister { return systemLister{byIDDir: ByIDDir} }

type systemLister struct {
	byIDDir string
}

func (s systemLister) Ports() ([]PortInfo, error) {
	list, err := enumerator.GetDetailedPortsList()
	if err != nil {
		return nil, fmt.Errorf("discovery: enumerate ports: %w", err)
	}
	byID, err := ByID(s.byIDDir)
	if err != nil {
		byID = nil // stable names are a convenience; the ports still count
	}
	return fromDetails(list, byID), nil
}

// fromDetails converts the enumerator's records. Records without a name
// (the enumerator returns them for ports it cannot describe) are skipped;
// unparsable IDs count as zero, as for a port that is not USB.
func fromDetails(list []*enumerator.PortDetails, byID map[string]string) []PortInfo {
	ports := make([]PortInfo, 0, len(list))
	for _, d := range list {
		if d == nil || d.Name == "" {
			continue
		}
		p := PortInfo{Path: d.Name, ByID: byID[d.Name]}
		if d.IsUSB {
			vid, err1 := ParseID(d.VID)
			pid, err2 := ParseID(d.PID)
			if err1 == nil && err2 == nil {
				p.VID, p.PID = vid, pid
			}
			p.Serial = d.SerialNumber
			p.Manufacturer = d.Manufacturer
			p.Product = d.Product
		}
		ports = append(ports, p)
	}
	return ports
}
