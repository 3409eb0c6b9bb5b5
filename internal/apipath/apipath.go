// Package apipath joins the field paths of WorkMail API errors, such as
// "Rules[3].IpRanges[17]" (SEMANTICS D1).
package apipath

// Join joins two field paths: Join("Rules[2]", "IpRanges[0]") is
// "Rules[2].IpRanges[0]"; Join("Rules", "[2]") is "Rules[2]". Either may be
// empty. It allocates only when both are non-empty.
func Join(prefix, path string) string {
	switch {
	case prefix == "":
		return path
	case path == "":
		return prefix
	case path[0] == '[':
		return prefix + path
	default:
		return prefix + "." + path
	}
}
