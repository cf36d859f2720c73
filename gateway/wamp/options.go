package wamp

// OptBool returns d[key] when it is a bool, else def.
func OptBool(d Dict, key string, def bool) bool {
	if v, ok := d[key].(bool); ok {
		return v
	}
	return def
}

// OptString returns d[key] when it is a string, else def.
func OptString(d Dict, key, def string) string {
	if v, ok := d[key].(string); ok {
		return v
	}
	return def
}

// OptInt returns d[key] when it is an integer that fits int64, else def.
func OptInt(d Dict, key string, def int64) int64 {
	if v, ok := AsInt(d[key]); ok {
		return v
	}
	return def
}

// HasFeature reports whether HELLO/WELCOME details announce role.features.name = true.
func HasFeature(details Dict, role, name string) bool {
	roles, _ := details["roles"].(map[string]any)
	r, _ := roles[role].(map[string]any)
	f, _ := r["features"].(map[string]any)
	b, _ := f[name].(bool)
	return b
}

// HasRole reports whether HELLO/WELCOME details announce role.
func HasRole(details Dict, role string) bool {
	roles, _ := details["roles"].(map[string]any)
	_, ok := roles[role].(map[string]any)
	return ok
}
