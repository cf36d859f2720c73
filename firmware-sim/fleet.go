package firmwaresim

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
)

// DefaultNamePrefix names the devices of a fleet: sim1, sim2, ...
const DefaultNamePrefix = "sim"

// FleetConfig describes a fleet: Count devices made from Template, then the
// Devices listed one by one.
type FleetConfig struct {
	// Count devices are made from Template. Device n (from 1) is named
	// NamePrefix+n, gets the seed Template.Seed+n-1 and, in ModeTCPSerial
	// with a fixed port, listens on that port plus n-1. "{name}" in
	// Template.URIPrefix is replaced by the device's name.
	Count      int
	NamePrefix string // default DefaultNamePrefix
	Template   DeviceConfig
	// Devices are started after the Count template devices, as they are
	// ("{name}" in URIPrefix is replaced here too).
	Devices []DeviceConfig
}

// DeviceConfigs returns the configuration of every device of the fleet, in
// start order.
func (c FleetConfig) DeviceConfigs() ([]DeviceConfig, error) {
	if c.Count < 0 {
		return nil, fmt.Errorf("firmwaresim: negative device count %d: %w", c.Count, ErrInvalidConfig)
	}
	prefix := c.NamePrefix
	if prefix == "" {
		prefix = DefaultNamePrefix
	}
	out := make([]DeviceConfig, 0, c.Count+len(c.Devices))
	for i := range c.Count {
		dc := c.Template
		dc.Name = prefix + strconv.Itoa(i+1)
		dc.Seed = c.Template.Seed + int64(i)
		if dc.Mode == ModeTCPSerial {
			l, err := offsetPort(dc.Listen, i)
			if err != nil {
				return nil, err
			}
			dc.Listen = l
		}
		out = append(out, dc)
	}
	out = append(out, c.Devices...)
	seen := map[string]bool{}
	for i := range out {
		out[i].URIPrefix = strings.ReplaceAll(out[i].URIPrefix, "{name}", out[i].Name)
		if seen[out[i].Name] {
			return nil, fmt.Errorf("firmwaresim: duplicate device name %q: %w", out[i].Name, ErrInvalidConfig)
		}
		seen[out[i].Name] = true
	}
	return out, nil
}

// offsetPort adds k to the port of a host:port address; port 0 (any free
// port) and an empty address stay as they are.
func offsetPort(addr string, k int) (string, error) {
	if addr == "" || k == 0 {
		return addr, nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("firmwaresim: listen address %q: %w: %w", addr, ErrInvalidConfig, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p+k > 65535 {
		return "", fmt.Errorf("firmwaresim: listen address %q: bad port: %w", addr, ErrInvalidConfig)
	}
	if p == 0 {
		return addr, nil
	}
	return net.JoinHostPort(host, strconv.Itoa(p+k)), nil
}

// Fleet is a set of running devices.
type Fleet struct {
	devices []*Device
	byName  map[string]*Device
	once    sync.Once
}

// StartFleet starts every device of cfg. If one fails to start, the ones
// already started are closed and the error is returned.
func StartFleet(cfg FleetConfig) (*Fleet, error) {
	dcs, err := cfg.DeviceConfigs()
	if err != nil {
		return nil, err
	}
	f := &Fleet{byName: make(map[string]*Device, len(dcs))}
	for _, dc := range dcs {
		d, err := StartDevice(dc)
		if err != nil {
			f.Close()
			return nil, err
		}
		f.devices = append(f.devices, d)
		f.byName[d.Name()] = d
	}
	return f, nil
}

// TB is the part of testing.TB that MustStartFleet uses.
type TB interface {
	Helper()
	Cleanup(func())
	Fatalf(format string, args ...any)
}

// MustStartFleet starts a fleet for a test: it fails the test if the fleet
// cannot start and closes the fleet in the test's cleanup.
func MustStartFleet(tb TB, cfg FleetConfig) *Fleet {
	tb.Helper()
	f, err := StartFleet(cfg)
	if err != nil {
		tb.Fatalf("firmwaresim: start fleet: %v", err)
		return nil
	}
	tb.Cleanup(func() { f.Close() })
	return f
}

// Devices returns the fleet's devices in start order. The caller must not
// modify the slice.
func (f *Fleet) Devices() []*Device { return f.devices }

// Device returns the device named name, or nil.
func (f *Fleet) Device(name string) *Device { return f.byName[name] }

// WaitReady waits until every device is ready (see Device.WaitReady).
func (f *Fleet) WaitReady(ctx context.Context) error {
	for _, d := range f.devices {
		if err := d.WaitReady(ctx); err != nil {
			return err
		}
	}
	return nil
}

// Close stops every device and waits for all their goroutines. It is
// safe to call more than once.
func (f *Fleet) Close() error {
	var errs []error
	f.once.Do(func() {
		var mu sync.Mutex
		var wg sync.WaitGroup
		for _, d := range f.devices {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := d.Close(); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
	})
	return errors.Join(errs...)
}
