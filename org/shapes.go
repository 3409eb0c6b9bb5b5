package org

import (
	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/impersonation"
	"github.com/wmpolicy/wmpolicy/policy"
)

// The request and response shapes of the operations, with the field names of
// the WorkMail API (reference/workmail-2017-10-01.service-2.json). They marshal
// to and from the API's JSON; decode them with policy.DecodeStrict. Shapes the
// other packages already define (GetAccessControlEffect, GetImpersonationRole,
// GetImpersonationRoleEffect, AssumeImpersonationRole, ListImpersonationRoles
// and ListAccessControlRules output) are used from there.

// Domain is one mail domain of CreateOrganization (the model's Domain).
type Domain struct {
	DomainName   string `json:"DomainName"`
	HostedZoneId string `json:"HostedZoneId,omitempty"`
}

// CreateOrganizationInput is the model's CreateOrganizationRequest (SEMANTICS C1).
type CreateOrganizationInput struct {
	DirectoryId            string   `json:"DirectoryId,omitempty"`
	Alias                  string   `json:"Alias"`
	ClientToken            string   `json:"ClientToken,omitempty"`
	Domains                []Domain `json:"Domains,omitempty"`
	KmsKeyArn              string   `json:"KmsKeyArn,omitempty"`
	EnableInteroperability bool     `json:"EnableInteroperability,omitempty"`
}

// CreateOrganizationOutput is the model's CreateOrganizationResponse.
type CreateOrganizationOutput struct {
	OrganizationId string `json:"OrganizationId"`
}

// DeleteOrganizationInput is the model's DeleteOrganizationRequest (SEMANTICS
// C2). DeleteDirectory is required by the model, so it is a pointer: nil is
// "absent" and a ValidationException. DeleteIdentityCenterApplication is
// accepted and has no effect in this store.
type DeleteOrganizationInput struct {
	ClientToken                     string `json:"ClientToken,omitempty"`
	OrganizationId                  string `json:"OrganizationId"`
	DeleteDirectory                 *bool  `json:"DeleteDirectory"`
	ForceDelete                     bool   `json:"ForceDelete,omitempty"`
	DeleteIdentityCenterApplication bool   `json:"DeleteIdentityCenterApplication,omitempty"`
}

// DeleteOrganizationOutput is the model's DeleteOrganizationResponse: State is
// always "Deleted".
type DeleteOrganizationOutput struct {
	OrganizationId string `json:"OrganizationId"`
	State          string `json:"State"`
}

// ListOrganizationsInput is the model's ListOrganizationsRequest (SEMANTICS
// C3). MaxResults nil means absent (the default page, 100); when set it
// must be 1–100 (an explicit 0 is a ValidationException, as in the model).
type ListOrganizationsInput struct {
	NextToken  string `json:"NextToken,omitempty"`
	MaxResults *int32 `json:"MaxResults,omitempty"`
}

// OrganizationSummary is one item of ListOrganizations output.
type OrganizationSummary struct {
	OrganizationId    string `json:"OrganizationId"`
	Alias             string `json:"Alias"`
	DefaultMailDomain string `json:"DefaultMailDomain,omitempty"`
	ErrorMessage      string `json:"ErrorMessage,omitempty"`
	State             string `json:"State"`
}

// ListOrganizationsOutput is the model's ListOrganizationsResponse.
// OrganizationSummaries is never nil in an output of the store (it marshals as
// [] when empty); NextToken is omitted on the last page.
type ListOrganizationsOutput struct {
	OrganizationSummaries []OrganizationSummary `json:"OrganizationSummaries"`
	NextToken             string                `json:"NextToken,omitempty"`
}

// DescribeOrganizationInput is the model's DescribeOrganizationRequest.
type DescribeOrganizationInput struct {
	OrganizationId string `json:"OrganizationId"`
}

// DescribeOrganizationOutput is the model's DescribeOrganizationResponse.
// DirectoryType is "WorkMailDirectory" for an organization created without a
// DirectoryId and "ExistingDirectory" otherwise [decided]; CompletedDate is
// the creation time. ARN and MigrationAdmin are never set by this store.
type DescribeOrganizationOutput struct {
	OrganizationId          string           `json:"OrganizationId"`
	Alias                   string           `json:"Alias"`
	State                   string           `json:"State"`
	DirectoryId             string           `json:"DirectoryId,omitempty"`
	DirectoryType           string           `json:"DirectoryType,omitempty"`
	DefaultMailDomain       string           `json:"DefaultMailDomain,omitempty"`
	CompletedDate           policy.Timestamp `json:"CompletedDate,omitempty"`
	ErrorMessage            string           `json:"ErrorMessage,omitempty"`
	ARN                     string           `json:"ARN,omitempty"`
	MigrationAdmin          string           `json:"MigrationAdmin,omitempty"`
	InteroperabilityEnabled bool             `json:"InteroperabilityEnabled"`
}

// PutAccessControlRuleInput is the model's PutAccessControlRuleRequest
// (SEMANTICS A13, A14, A18): the rule's members and the organization.
type PutAccessControlRuleInput struct {
	OrganizationId          string        `json:"OrganizationId"`
	Name                    string        `json:"Name"`
	Effect                  policy.Effect `json:"Effect"`
	Description             string        `json:"Description"`
	IpRanges                []string      `json:"IpRanges,omitempty"`
	NotIpRanges             []string      `json:"NotIpRanges,omitempty"`
	Actions                 []string      `json:"Actions,omitempty"`
	NotActions              []string      `json:"NotActions,omitempty"`
	UserIds                 []string      `json:"UserIds,omitempty"`
	NotUserIds              []string      `json:"NotUserIds,omitempty"`
	ImpersonationRoleIds    []string      `json:"ImpersonationRoleIds,omitempty"`
	NotImpersonationRoleIds []string      `json:"NotImpersonationRoleIds,omitempty"`
}

// PutRuleInput returns the input that puts r into organization orgID (r's
// dates are ignored: the store sets them, A14).
func PutRuleInput(orgID string, r accessctl.Rule) PutAccessControlRuleInput {
	r = r.Clone()
	return PutAccessControlRuleInput{
		OrganizationId: orgID, Name: r.Name, Effect: r.Effect, Description: r.Description,
		IpRanges: r.IpRanges, NotIpRanges: r.NotIpRanges, Actions: r.Actions, NotActions: r.NotActions,
		UserIds: r.UserIds, NotUserIds: r.NotUserIds,
		ImpersonationRoleIds: r.ImpersonationRoleIds, NotImpersonationRoleIds: r.NotImpersonationRoleIds,
	}
}

// rule returns the request as a rule without dates (a deep copy).
func (in *PutAccessControlRuleInput) rule() accessctl.Rule {
	return accessctl.Rule{
		Name: in.Name, Effect: in.Effect, Description: in.Description,
		IpRanges: in.IpRanges, NotIpRanges: in.NotIpRanges, Actions: in.Actions, NotActions: in.NotActions,
		UserIds: in.UserIds, NotUserIds: in.NotUserIds,
		ImpersonationRoleIds: in.ImpersonationRoleIds, NotImpersonationRoleIds: in.NotImpersonationRoleIds,
	}.Clone()
}

// PutAccessControlRuleOutput is the model's empty PutAccessControlRuleResponse.
type PutAccessControlRuleOutput struct{}

// DeleteAccessControlRuleInput is the model's DeleteAccessControlRuleRequest.
type DeleteAccessControlRuleInput struct {
	OrganizationId string `json:"OrganizationId"`
	Name           string `json:"Name"`
}

// DeleteAccessControlRuleOutput is the model's empty DeleteAccessControlRuleResponse.
type DeleteAccessControlRuleOutput struct{}

// ListAccessControlRulesInput is the model's ListAccessControlRulesRequest.
// The answer is an accessctl.ListAccessControlRulesOutput.
type ListAccessControlRulesInput struct {
	OrganizationId string `json:"OrganizationId"`
}

// CreateImpersonationRoleInput is the model's CreateImpersonationRoleRequest
// (SEMANTICS B5).
type CreateImpersonationRoleInput struct {
	ClientToken    string               `json:"ClientToken,omitempty"`
	OrganizationId string               `json:"OrganizationId"`
	Name           string               `json:"Name"`
	Type           impersonation.Type   `json:"Type"`
	Description    string               `json:"Description,omitempty"`
	Rules          []impersonation.Rule `json:"Rules"`
}

// CreateImpersonationRoleOutput is the model's CreateImpersonationRoleResponse.
type CreateImpersonationRoleOutput struct {
	ImpersonationRoleId string `json:"ImpersonationRoleId"`
}

// GetImpersonationRoleInput is the model's GetImpersonationRoleRequest. The
// answer is an impersonation.Role (the model's GetImpersonationRoleResponse).
type GetImpersonationRoleInput struct {
	OrganizationId      string `json:"OrganizationId"`
	ImpersonationRoleId string `json:"ImpersonationRoleId"`
}

// UpdateImpersonationRoleInput is the model's UpdateImpersonationRoleRequest
// (SEMANTICS B6): Name, Type, Description and Rules replace the role's whole.
type UpdateImpersonationRoleInput struct {
	OrganizationId      string               `json:"OrganizationId"`
	ImpersonationRoleId string               `json:"ImpersonationRoleId"`
	Name                string               `json:"Name"`
	Type                impersonation.Type   `json:"Type"`
	Description         string               `json:"Description,omitempty"`
	Rules               []impersonation.Rule `json:"Rules"`
}

// UpdateImpersonationRoleOutput is the model's empty UpdateImpersonationRoleResponse.
type UpdateImpersonationRoleOutput struct{}

// DeleteImpersonationRoleInput is the model's DeleteImpersonationRoleRequest.
type DeleteImpersonationRoleInput struct {
	OrganizationId      string `json:"OrganizationId"`
	ImpersonationRoleId string `json:"ImpersonationRoleId"`
}

// DeleteImpersonationRoleOutput is the model's empty DeleteImpersonationRoleResponse.
type DeleteImpersonationRoleOutput struct{}

// ListImpersonationRolesInput is the model's ListImpersonationRolesRequest
// (SEMANTICS B7). MaxResults nil means absent (the default page, 20); when
// set it must be 1–100 (an explicit 0 is a ValidationException, as in the
// model). The answer is an impersonation.ListImpersonationRolesOutput.
type ListImpersonationRolesInput struct {
	OrganizationId string `json:"OrganizationId"`
	NextToken      string `json:"NextToken,omitempty"`
	MaxResults     *int32 `json:"MaxResults,omitempty"`
}

// AssumeImpersonationRoleInput is the model's AssumeImpersonationRoleRequest
// (SEMANTICS B8). The answer is an impersonation.AssumeImpersonationRoleOutput.
type AssumeImpersonationRoleInput struct {
	OrganizationId      string `json:"OrganizationId"`
	ImpersonationRoleId string `json:"ImpersonationRoleId"`
}

// User is one user of an organization's directory as the store keeps it: the
// identifiers it can be named by (SEMANTICS A18, B2), its state and the
// attributes of CreateUser (F4). JSON names follow the model's User and
// DescribeUserResponse shapes, plus Aliases (the user's further email
// addresses, which list-users does not print). No password is ever kept (F4).
type User struct {
	Id                          string           `json:"Id"`
	Email                       string           `json:"Email,omitempty"`
	Aliases                     []string         `json:"Aliases,omitempty"`
	Name                        string           `json:"Name,omitempty"`
	DisplayName                 string           `json:"DisplayName,omitempty"`
	State                       string           `json:"State,omitempty"`
	UserRole                    string           `json:"UserRole,omitempty"`
	FirstName                   string           `json:"FirstName,omitempty"`
	LastName                    string           `json:"LastName,omitempty"`
	HiddenFromGlobalAddressList bool             `json:"HiddenFromGlobalAddressList,omitempty"`
	IdentityProviderUserId      string           `json:"IdentityProviderUserId,omitempty"`
	EnabledDate                 policy.Timestamp `json:"EnabledDate,omitempty"`
	DisabledDate                policy.Timestamp `json:"DisabledDate,omitempty"`
}

func (u User) policyUser() policy.User {
	return policy.User{ID: u.Id, Email: u.Email, Aliases: append([]string(nil), u.Aliases...),
		Name: u.Name, DisplayName: u.DisplayName, State: u.State}
}

func (u User) clone() User {
	u.Aliases = append([]string(nil), u.Aliases...)
	return u
}

// ImportUsersInput gives an organization its whole directory from `aws
// workmail list-users` output (its Users member, SEMANTICS D3): the users
// replace every user the organization had (aliases included).
type ImportUsersInput struct {
	OrganizationId string            `json:"OrganizationId"`
	Users          []policy.UserJSON `json:"Users"`
}

// ImportUsersOutput is the empty answer of ImportUsers.
type ImportUsersOutput struct{}

// PutUserInput adds a user to an organization's directory, or replaces the
// user with the same Id whole.
type PutUserInput struct {
	OrganizationId string `json:"OrganizationId"`
	User
}

// PutUserOutput is the empty answer of PutUser.
type PutUserOutput struct{}

// DeleteUserInput is the model's DeleteUserRequest (SEMANTICS F4): UserId
// names the user by ID or user name (email too [decided]).
type DeleteUserInput struct {
	OrganizationId string `json:"OrganizationId"`
	UserId         string `json:"UserId"`
}

// DeleteUserOutput is the model's empty DeleteUserResponse.
type DeleteUserOutput struct{}
