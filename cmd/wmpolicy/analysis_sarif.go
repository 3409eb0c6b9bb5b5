package main

// audit --output sarif: the findings as a SARIF 2.1.0 log, so that code
// scanning (GitHub, GitLab) shows them on the rules file.

import (
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/wmpolicy/wmpolicy/analysis"
)

// sarifSchema is the schema URI the log names: the OASIS 2.1.0 (errata 01)
// schema, vendored in testdata/ for the tests.
const sarifSchema = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

// sarifKinds are the finding kinds as SARIF rules, in a stable order: the
// rule ID is the kind, the default level its severity's.
var sarifKinds = []struct {
	kind     analysis.Kind
	name     string
	severity analysis.Severity
	short    string
}{
	{analysis.NeverMatches, "NeverMatches", analysis.Error, "The rule matches no request"},
	{analysis.Shadowed, "Shadowed", analysis.Warning, "DENY rules match every request this ALLOW rule matches"},
	{analysis.Redundant, "Redundant", analysis.Suggestion, "Removing the rule alone changes the effect of no request"},
	{analysis.OrganizationLockedOut, "OrganizationLockedOut", analysis.Error, "No request at all is allowed"},
	{analysis.ActionLockedOut, "ActionLockedOut", analysis.Warning, "No user or role may use an action from any address"},
	{analysis.UserLockedOut, "UserLockedOut", analysis.Warning, "An enabled user may do nothing from anywhere"},
	{analysis.HostBits, "HostBits", analysis.Suggestion, "A range is written with host bits set"},
	{analysis.DuplicateRange, "DuplicateRange", analysis.Suggestion, "A range is listed twice in one list"},
	{analysis.NestedRange, "NestedRange", analysis.Suggestion, "A range is inside another range of the same list"},
	{analysis.UnknownUser, "UnknownUser", analysis.Error, "A user entry names no user of the directory"},
	{analysis.UnknownRole, "UnknownRole", analysis.Error, "A role entry names no impersonation role of the organization"},
	{analysis.RuleLimit, "RuleLimit", analysis.Warning, "More rules than WorkMail allows in one organization"},
}

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool      sarifTool       `json:"tool"`
	Artifacts []sarifArtifact `json:"artifacts"`
	Results   []sarifResult   `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string       `json:"id"`
	Name                 string       `json:"name"`
	ShortDescription     sarifMessage `json:"shortDescription"`
	DefaultConfiguration sarifConfig  `json:"defaultConfiguration"`
}

type sarifConfig struct {
	Level string `json:"level"`
}

type sarifMessage struct {
	Text string `json:"text"`
}

type sarifArtifact struct {
	Location sarifArtifactLocation `json:"location"`
}

type sarifArtifactLocation struct {
	URI   string `json:"uri"`
	Index *int   `json:"index,omitempty"`
}

type sarifResult struct {
	RuleID     string          `json:"ruleId"`
	RuleIndex  int             `json:"ruleIndex"`
	Level      string          `json:"level"`
	Message    sarifMessage    `json:"message"`
	Locations  []sarifLocation `json:"locations"`
	Properties map[string]any  `json:"properties,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical  `json:"physicalLocation"`
	LogicalLocations []sarifLogical `json:"logicalLocations,omitempty"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifactLocation `json:"artifactLocation"`
	Region           sarifRegion           `json:"region"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn"`
}

type sarifLogical struct {
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

func sarifLevel(s analysis.Severity) string {
	switch s {
	case analysis.Error:
		return "error"
	case analysis.Warning:
		return "warning"
	}
	return "note"
}

// sarifURI is the artifact URI of a file name as given: a relative path
// with forward slashes (code scanning resolves it against the repository
// root), or a file URI for an absolute path.
func sarifURI(file string) string {
	f := filepath.ToSlash(filepath.Clean(file))
	if filepath.IsAbs(file) {
		return "file://" + f
	}
	return strings.TrimPrefix(f, "./")
}

// auditSARIF returns the report as a SARIF 2.1.0 log: one result per
// finding, rule ID = finding kind, level from severity (suggestion = note),
// located at the offending rule's place in data (the rules file as read:
// line and column, the field path as a logical location and the JSON
// pointer as a property); a finding about the whole rule set is located at
// the start of the file.
func auditSARIF(file string, data []byte, rep *analysis.Report, n *namer) sarifLog {
	uri := sarifURI(file)
	zero := 0
	run := sarifRun{
		Tool:      sarifTool{Driver: sarifDriver{Name: "wmpolicy", InformationURI: "https://github.com/wmpolicy/wmpolicy/blob/main/docs/analysis.md"}},
		Artifacts: []sarifArtifact{{Location: sarifArtifactLocation{URI: uri}}},
		Results:   []sarifResult{},
	}
	index := map[analysis.Kind]int{}
	for i, k := range sarifKinds {
		index[k.kind] = i
		run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarifRule{ID: string(k.kind), Name: k.name,
			ShortDescription: sarifMessage{k.short}, DefaultConfiguration: sarifConfig{sarifLevel(k.severity)}})
	}
	locs := jsonLocations(data)
	fj := auditJSON(file, 0, rep, n).Findings
	for i, f := range rep.Findings {
		msg := f.Message
		if f.Witness != nil {
			msg += ". Witness request: " + wireText(*f.Witness)
		}
		res := sarifResult{RuleID: string(f.Kind), RuleIndex: index[f.Kind], Level: sarifLevel(f.Severity),
			Message: sarifMessage{msg}}
		off := 0
		// the finding's path (a whole rule: its Name), or the nearest
		// enclosing path the file has
		if o, ok := locs[f.Path+".Name"]; ok && f.Path != "" && !strings.Contains(f.Path, ".") {
			off = o
		}
		for p := f.Path; p != "" && off == 0; p = parentPath(p) {
			if o, ok := locs[p]; ok {
				off = o
				break
			}
		}
		line, col := lineColumn(data, off)
		loc := sarifLocation{PhysicalLocation: sarifPhysical{
			ArtifactLocation: sarifArtifactLocation{URI: uri, Index: &zero},
			Region:           sarifRegion{StartLine: line, StartColumn: col}}}
		props := map[string]any{"severity": f.Severity.String()}
		if f.Path != "" {
			loc.LogicalLocations = []sarifLogical{{FullyQualifiedName: f.Path, Kind: "member"}}
			props["jsonPointer"] = jsonPointer(f.Path)
		}
		if fo := fj[i]; fo.Rule != "" || fo.Action != "" || fo.UserId != "" || fo.Entry != "" || fo.Witness != nil {
			if fo.Rule != "" {
				props["rule"] = fo.Rule
				props["ruleIndex"] = *fo.RuleIndex
			}
			for k, v := range map[string]string{"action": fo.Action, "userId": fo.UserId, "userName": fo.UserName, "email": fo.Email, "entry": fo.Entry} {
				if v != "" {
					props[k] = v
				}
			}
			if fo.Witness != nil {
				props["witness"] = fo.Witness
			}
		}
		res.Locations = []sarifLocation{loc}
		res.Properties = props
		run.Results = append(run.Results, res)
	}
	return sarifLog{Schema: sarifSchema, Version: "2.1.0", Runs: []sarifRun{run}}
}

// parentPath drops the last member or index of a field path:
// "Rules[3].IpRanges[17]" → "Rules[3].IpRanges" → "Rules[3]" → "Rules" → "".
func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

// jsonPointer converts a field path to an RFC 6901 JSON pointer:
// "Rules[3].IpRanges[17]" → "/Rules/3/IpRanges/17".
func jsonPointer(path string) string {
	var b strings.Builder
	for _, part := range strings.Split(path, ".") {
		name, rest, _ := strings.Cut(part, "[")
		b.WriteString("/" + strings.NewReplacer("~", "~0", "/", "~1").Replace(name))
		for rest != "" {
			idx, after, _ := strings.Cut(rest, "]")
			b.WriteString("/" + idx)
			rest = strings.TrimPrefix(after, "[")
		}
	}
	return b.String()
}

// lineColumn returns the 1-based line and column of byte offset off in data;
// the column counts UTF-16 code units, SARIF's default column kind.
func lineColumn(data []byte, off int) (line, col int) {
	off = min(max(off, 0), len(data))
	line, start := 1, 0
	for i := 0; i < off; i++ {
		if data[i] == '\n' {
			line++
			start = i + 1
		}
	}
	col = 1
	for _, r := range string(data[start:off]) {
		col++
		if r >= 0x10000 {
			col++
		}
	}
	return line, col
}

// maxLocateDepth bounds the nesting jsonLocations follows; the rules file
// has been decoded already (policy.DecodeStrict bounds its depth), this is a
// second guard.
const maxLocateDepth = 64

// jsonLocations maps the field paths of a JSON document ("Rules[3]",
// "Rules[3].IpRanges", "Rules[3].IpRanges[17]") to byte offsets: an object
// member to its key, an array element to its value. It expects valid JSON
// and returns what it found before anything it cannot read.
func jsonLocations(data []byte) map[string]int {
	s := &jsonScan{data: data, locs: map[string]int{}}
	s.ws()
	s.value("", 0)
	return s.locs
}

type jsonScan struct {
	data []byte
	i    int
	locs map[string]int
	bad  bool
}

func (s *jsonScan) ws() {
	for s.i < len(s.data) {
		switch s.data[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *jsonScan) value(path string, depth int) {
	if s.bad || s.i >= len(s.data) || depth > maxLocateDepth {
		s.bad = true
		return
	}
	switch s.data[s.i] {
	case '{':
		s.i++
		for !s.bad {
			s.ws()
			if s.i < len(s.data) && s.data[s.i] == '}' {
				s.i++
				return
			}
			at := s.i
			key, ok := s.str()
			if !ok {
				s.bad = true
				return
			}
			p := key
			if path != "" {
				p = path + "." + key
			}
			s.locs[p] = at
			s.ws()
			if s.i >= len(s.data) || s.data[s.i] != ':' {
				s.bad = true
				return
			}
			s.i++
			s.ws()
			s.value(p, depth+1)
			s.ws()
			if s.i < len(s.data) && s.data[s.i] == ',' {
				s.i++
			}
		}
	case '[':
		s.i++
		for k := 0; !s.bad; k++ {
			s.ws()
			if s.i < len(s.data) && s.data[s.i] == ']' {
				s.i++
				return
			}
			p := path + "[" + strconv.Itoa(k) + "]"
			s.locs[p] = s.i
			s.value(p, depth+1)
			s.ws()
			if s.i < len(s.data) && s.data[s.i] == ',' {
				s.i++
			}
		}
	case '"':
		if _, ok := s.str(); !ok {
			s.bad = true
		}
	default: // number, true, false, null
		start := s.i
		for s.i < len(s.data) && !strings.ContainsRune(",]} \t\n\r", rune(s.data[s.i])) {
			s.i++
		}
		if s.i == start {
			s.bad = true
		}
	}
}

// str reads a JSON string at s.i and returns it decoded.
func (s *jsonScan) str() (string, bool) {
	if s.i >= len(s.data) || s.data[s.i] != '"' {
		return "", false
	}
	start := s.i
	s.i++
	esc := false
	for s.i < len(s.data) {
		c := s.data[s.i]
		s.i++
		switch {
		case c == '\\':
			esc = true
			s.i++ // the escaped byte; \uXXXX's digits are plain bytes
		case c == '"':
			raw := s.data[start:s.i]
			if !esc && utf8.Valid(raw) {
				return string(raw[1 : len(raw)-1]), true
			}
			var out string
			if err := json.Unmarshal(raw, &out); err != nil {
				return "", false
			}
			return out, true
		}
	}
	return "", false
}
