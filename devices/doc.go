// Package devices is the device manager: it keeps the gateway's serial
// devices attached to the router, one supervisor goroutine per device.
//
// A Device is reached through a tty path (symlinks such as /dev/serial0 and
// /dev/serial/by-id/... included), a USB match (vendor ID, product ID,
// optional serial number, looked up with a discovery.Lister at every
// attempt, so an adapter that comes back as another /dev/ttyUSBn is found
// again) or a TCP serial server that the gateway dials. Its sessions get a
// fixed identity (authid, authrole), realm and URI prefix through
// transports.Info: the port is the credential, and the device sends a plain
// HELLO.
//
// # Supervision
//
// Each supervisor opens the port, runs a serial.Link on it (which sends
// RESET, so devices that kept a session from before the gateway restarted
// handshake again) and loops: Link.Accept yields the next device session
// after a good handshake, and Attacher.ServeConn runs it until it ends. A
// device reboot ends the session and the next Accept yields the new one.
// When the port fails (unplug, EOF, read error) or cannot be opened, the
// supervisor closes everything and waits Backoff (exponential from
// MinBackoff to MaxBackoff, jittered) before the next attempt; a port that
// carried a session for at least StableAfter restarts from MinBackoff.
// Sessions that the router closes as soon as they start (a refused join)
// are paced the same way, at most 2 s apart, since a device that is sent
// RESET handshakes again at once.
// Each supervisor owns one goroutine plus its link's reader; Close ends
// both for every device and waits for them.
//
// A device is StateOffline (port closed), StateConnecting (port open, no
// session) or StateOnline (a session is attached). Config.OnChange is told
// of every online and offline transition; offline events carry a Reason
// such as "unplugged", "device_reset", "ping_timeout" or "closed".
// Counters of the links, which restart with every open, are summed into
// cumulative counters per device.
//
// # Meta API payloads
//
// The router publishes wampgate.device.list, wampgate.device.get and the
// wampgate.device.on_online / on_offline events in each device's realm;
// this package provides their payloads as dicts that JSON, MessagePack and
// CBOR encode alike (strings, booleans, int64 counters, RFC 3339 times in
// UTC with milliseconds).
//
// A device dict (ListDict elements, GetDict, StatusDict):
//
//	name              string  the device's name
//	state             string  "offline", "connecting" or "online"
//	kind              string  "serial" or "serial-tcp"
//	source            string  as configured: port path, "usb:0403:6001[:serial]"
//	                          or "tcp://host:port"
//	path              string  port last opened (absent before the first open)
//	realm             string  realm its sessions join ("" = HELLO's realm)
//	authid, authrole  string  identity its sessions get
//	prefix            string  URI prefix, ending in "." (absent if none)
//	reason            string  why it last went offline or its session
//	                          last ended (absent if never)
//	error             string  the error behind reason (absent if none)
//	since             string  when it entered state
//	last_seen         string  last good frame received (absent if none)
//	reconnects        int64   successful reopens after the first open
//	sessions          int64   sessions handed to the router
//	handshakes        int64   good handshakes; handshake_errors refused ones
//	bytes_in, bytes_out, frames_in, frames_out  int64
//	crc_drops, cobs_drops, other_drops          int64  damaged frames dropped
//	seq_gaps          int64   lost WAMP frames from the device
//	resets            int64   device reboots seen during a session
//	resets_sent       int64   RESET frames sent to the device
//	ping_timeouts     int64   sessions ended by unanswered PINGs
//
// An event dict (EventDict) is the device dict at the transition plus
//
//	online  bool    true for on_online, false for on_offline
//	reason  string  on_offline only: why this session ended
//
// wampgate.device.list returns the dicts of the devices in the caller's
// realm (ListDict(realm)); wampgate.device.get takes a name and returns
// GetDict(name).
package devices
