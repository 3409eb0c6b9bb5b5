package awsapi

import (
	"context"
	"reflect"
	"sort"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/impersonation"
	"github.com/wmpolicy/wmpolicy/org"
)

// operation is one implemented operation: whether it changes state (a
// read-only key may not call it) and how to run it.
type operation struct {
	write bool
	in    reflect.Type // the request shape (nil: see run)
	run   func(ctx context.Context, h *Handler, key *Key, body []byte, allow func(orgID string) error) (any, error)
}

// op builds an operation from a store method: decode the body into In
// (strictly), check the key's grant on the organization orgOf names, call.
func op[In, Out any](write bool, call func(*org.Store, context.Context, In) (Out, error), orgOf func(*In) string) operation {
	return operation{write: write, in: reflect.TypeFor[In](), run: func(ctx context.Context, h *Handler, _ *Key, body []byte, allow func(string) error) (any, error) {
		var in In
		if err := decodeBody(body, &in); err != nil {
			return nil, err
		}
		if err := allow(orgOf(&in)); err != nil {
			return nil, err
		}
		return call(h.store, ctx, in)
	}}
}

// operations is every operation the handler implements (SEMANTICS F1, F4, F5).
var operations = map[string]operation{
	"CreateOrganization":   op(true, (*org.Store).CreateOrganization, func(*org.CreateOrganizationInput) string { return "" }),
	"DeleteOrganization":   op(true, (*org.Store).DeleteOrganization, func(in *org.DeleteOrganizationInput) string { return in.OrganizationId }),
	"DescribeOrganization": op(false, (*org.Store).DescribeOrganization, func(in *org.DescribeOrganizationInput) string { return in.OrganizationId }),
	"ListOrganizations":    {write: false, in: reflect.TypeFor[org.ListOrganizationsInput](), run: listOrganizations},

	"PutAccessControlRule":    op(true, (*org.Store).PutAccessControlRule, func(in *org.PutAccessControlRuleInput) string { return in.OrganizationId }),
	"DeleteAccessControlRule": op(true, (*org.Store).DeleteAccessControlRule, func(in *org.DeleteAccessControlRuleInput) string { return in.OrganizationId }),
	"ListAccessControlRules":  op(false, (*org.Store).ListAccessControlRules, func(in *org.ListAccessControlRulesInput) string { return in.OrganizationId }),
	"GetAccessControlEffect":  op(false, (*org.Store).GetAccessControlEffect, func(in *accessctl.GetAccessControlEffectInput) string { return in.OrganizationId }),

	"CreateImpersonationRole":    op(true, (*org.Store).CreateImpersonationRole, func(in *org.CreateImpersonationRoleInput) string { return in.OrganizationId }),
	"GetImpersonationRole":       op(false, (*org.Store).GetImpersonationRole, func(in *org.GetImpersonationRoleInput) string { return in.OrganizationId }),
	"UpdateImpersonationRole":    op(true, (*org.Store).UpdateImpersonationRole, func(in *org.UpdateImpersonationRoleInput) string { return in.OrganizationId }),
	"DeleteImpersonationRole":    op(true, (*org.Store).DeleteImpersonationRole, func(in *org.DeleteImpersonationRoleInput) string { return in.OrganizationId }),
	"ListImpersonationRoles":     op(false, (*org.Store).ListImpersonationRoles, func(in *org.ListImpersonationRolesInput) string { return in.OrganizationId }),
	"GetImpersonationRoleEffect": op(false, (*org.Store).GetImpersonationRoleEffect, func(in *impersonation.GetImpersonationRoleEffectInput) string { return in.OrganizationId }),
	// AssumeImpersonationRole changes no state but mints a credential, so a
	// read-only key may not call it [decided].
	"AssumeImpersonationRole": op(true, (*org.Store).AssumeImpersonationRole, func(in *org.AssumeImpersonationRoleInput) string { return in.OrganizationId }),

	"CreateUser":             op(true, (*org.Store).CreateUser, func(in *org.CreateUserInput) string { return in.OrganizationId }),
	"RegisterToWorkMail":     op(true, (*org.Store).RegisterToWorkMail, func(in *org.RegisterToWorkMailInput) string { return in.OrganizationId }),
	"DeregisterFromWorkMail": op(true, (*org.Store).DeregisterFromWorkMail, func(in *org.DeregisterFromWorkMailInput) string { return in.OrganizationId }),
	"DescribeUser":           op(false, (*org.Store).DescribeUser, func(in *org.DescribeUserInput) string { return in.OrganizationId }),
	"ListUsers":              op(false, (*org.Store).ListUsers, func(in *org.ListUsersInput) string { return in.OrganizationId }),
	"DeleteUser":             op(true, (*org.Store).DeleteUser, func(in *org.DeleteUserInput) string { return in.OrganizationId }),

	"CreateAlias": op(true, (*org.Store).CreateAlias, func(in *org.CreateAliasInput) string { return in.OrganizationId }),
	"DeleteAlias": op(true, (*org.Store).DeleteAlias, func(in *org.DeleteAliasInput) string { return in.OrganizationId }),
	"ListAliases": op(false, (*org.Store).ListAliases, func(in *org.ListAliasesInput) string { return in.OrganizationId }),
}

// Operations returns the names of the operations the handler implements, in
// ascending order.
func Operations() []string {
	out := make([]string, 0, len(operations))
	for name := range operations {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// listOrganizations is ListOrganizations; for a key limited to some
// organizations, the pages hold only those [decided] (a page may then be
// shorter than MaxResults and still carry a NextToken).
func listOrganizations(ctx context.Context, h *Handler, key *Key, body []byte, allow func(string) error) (any, error) {
	var in org.ListOrganizationsInput
	if err := decodeBody(body, &in); err != nil {
		return nil, err
	}
	out, err := h.store.ListOrganizations(ctx, in)
	if err != nil || key == nil || key.Organizations == nil {
		return out, err
	}
	kept := out.OrganizationSummaries[:0]
	for _, s := range out.OrganizationSummaries {
		if key.allows(s.OrganizationId) {
			kept = append(kept, s)
		}
	}
	out.OrganizationSummaries = kept
	return out, nil
}
