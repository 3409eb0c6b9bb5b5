package wirecase_test

import (
	"errors"
	"fmt"

	"github.com/wmpolicy/wmpolicy/internal/wirecase"
	"github.com/wmpolicy/wmpolicy/policy"
)

// printT is a wirecase.T that prints what a test would report.
type printT struct{}

func (printT) Helper()                        {}
func (printT) Errorf(format string, a ...any) { fmt.Printf("error: "+format+"\n", a...) }
func (printT) Fatalf(format string, a ...any) { fmt.Printf("fatal: "+format+"\n", a...) }

func Example() {
	rec := wirecase.Record{
		Request: []byte(`{"TargetUser":"bob"}`),
		Want:    []byte(`{ "Effect": "DENY" }`),
	}
	check := wirecase.For(printT{}, 0, rec)
	type out struct{ Effect string }
	check.Answer("right", out{"DENY"}, nil) // silent
	check.Answer("wrong", out{"ALLOW"}, nil)
	check.Answer("failed", out{}, errors.New("boom"))

	refused := wirecase.For(printT{}, 1, wirecase.Record{Request: []byte(`{}`), WantError: "ValidationException"})
	refused.Answer("right", nil, &policy.Error{Code: policy.ValidationException, Message: "no target"})
	refused.Answer("accepted", out{"ALLOW"}, nil)
	// Output:
	// error: {"TargetUser":"bob"}: wrong answered
	//  {"Effect":"ALLOW"}
	// want
	//  {"Effect":"DENY"}
	// error: {"TargetUser":"bob"}: failed error boom, want {"Effect":"DENY"}
	// error: {}: accepted answered {"Effect":"ALLOW"}, want ValidationException
}
