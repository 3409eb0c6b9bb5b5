package analysis

import "encoding/json"

// MarshalJSON writes the trace with its members' Go names; Conditions is []
// rather than null for a rule without conditions.
func (t RuleTrace) MarshalJSON() ([]byte, error) {
	type plain RuleTrace // without this method
	if t.Conditions == nil {
		t.Conditions = []Condition{}
	}
	return json.Marshal(plain(t))
}

// MarshalJSON writes {"Field", "Holds", "Index", "Item", "Detail"}, leaving
// out Index when no item matched (Index -1) and Item when it is empty.
func (c Condition) MarshalJSON() ([]byte, error) {
	out := struct {
		Field  string
		Holds  bool
		Index  *int   `json:",omitempty"`
		Item   string `json:",omitempty"`
		Detail string
	}{Field: c.Field, Holds: c.Holds, Item: c.Item, Detail: c.Detail}
	if c.Index >= 0 {
		out.Index = &c.Index
	}
	return json.Marshal(out)
}
