package devices

import "time"

// TimeLayout is the RFC 3339 layout of the times in the dicts: UTC with
// milliseconds.
const TimeLayout = "2006-01-02T15:04:05.000Z07:00"

func formatTime(t time.Time) string { return t.UTC().Format(TimeLayout) }

// StatusDict returns s as the dict of wampgate.device.list and
// wampgate.device.get (see the package documentation for the keys).
// Counters are int64 and times RFC 3339 strings, so JSON, MessagePack and
// CBOR encode it the same way.
func StatusDict(s Status) map[string]any {
	d := map[string]any{
		"name":             s.Name,
		"state":            s.State.String(),
		"kind":             s.Kind,
		"source":           s.Source,
		"realm":            s.Realm,
		"authid":           s.AuthID,
		"authrole":         s.AuthRole,
		"since":            formatTime(s.Since),
		"reconnects":       int64(s.Reconnects),
		"sessions":         int64(s.Sessions),
		"handshakes":       int64(s.Handshakes),
		"handshake_errors": int64(s.HandshakeErrors),
		"bytes_in":         int64(s.BytesIn),
		"bytes_out":        int64(s.BytesOut),
		"frames_in":        int64(s.FramesIn),
		"frames_out":       int64(s.FramesOut),
		"crc_drops":        int64(s.CRCDrops),
		"cobs_drops":       int64(s.COBSDrops),
		"other_drops":      int64(s.OtherDrops),
		"seq_gaps":         int64(s.SeqGaps),
		"resets":           int64(s.Resets),
		"resets_sent":      int64(s.ResetsSent),
		"ping_timeouts":    int64(s.PingTimeouts),
	}
	if s.Path != "" {
		d["path"] = s.Path
	}
	if s.Prefix != "" {
		d["prefix"] = s.Prefix
	}
	if s.Reason != ReasonNone {
		d["reason"] = s.Reason.String()
	}
	if s.Error != "" {
		d["error"] = s.Error
	}
	if !s.LastSeen.IsZero() {
		d["last_seen"] = formatTime(s.LastSeen)
	}
	return d
}

// EventDict returns the payload of a wampgate.device.on_online or
// wampgate.device.on_offline event: the device dict of e.Status plus
// "online" and, for offline events, the "reason" of this transition.
func EventDict(e Event) map[string]any {
	d := StatusDict(e.Status)
	d["name"] = e.Device
	d["online"] = e.Online
	if e.Online {
		delete(d, "reason")
		delete(d, "error")
	} else {
		d["reason"] = e.Reason.String()
	}
	return d
}

// ListDict returns the dicts of the devices in realm, sorted by name; all
// devices when realm is empty. The result is never nil.
func (m *Manager) ListDict(realm string) []map[string]any {
	all := m.List()
	out := make([]map[string]any, 0, len(all))
	for _, s := range all {
		if realm == "" || s.Realm == realm {
			out = append(out, StatusDict(s))
		}
	}
	return out
}

// GetDict returns the dict of the named device.
func (m *Manager) GetDict(name string) (map[string]any, bool) {
	s, ok := m.Get(name)
	if !ok {
		return nil, false
	}
	return StatusDict(s), true
}
