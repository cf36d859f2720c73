// Package discovery finds serial ports and tells which USB adapter sits
// behind each, so that the device manager can find a device again by its
// USB IDs after it was unplugged and came back under another /dev/ttyUSBn.
//
// Everything the manager needs goes through the Lister interface, which
// tests replace with a fake (ptys never show up in a real enumeration).
// System returns the real one, backed by go.bug.st/serial's enumerator
// (sysfs on Linux, no cgo) and the stable names udev keeps in
// /dev/serial/by-id.
//
// USB vendor and product IDs are plain numbers here. Enumerators report
// them as hexadecimal strings whose case varies by platform and version
// (go.bug.st/serial upper-cases them since v1.8.0, sysfs writes lower
// case); ParseID accepts either, so comparisons never depend on case.
package discovery
