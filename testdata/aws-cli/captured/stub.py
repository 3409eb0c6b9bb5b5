import json, sys
from http.server import BaseHTTPRequestHandler, HTTPServer
U = "S-1-1-11-1234567890-1234567890-1234567890-"
users = [
 {"Id": U+"1001", "Email": "alice@example.com", "Name": "alice", "DisplayName": "Alice Example", "State": "ENABLED", "UserRole": "USER", "EnabledDate": 1700000000.123456, "IdentityProviderUserId": "", "IdentityProviderIdentityStoreId": ""},
 {"Id": U+"1002", "Email": "bob@example.com", "Name": "bob", "State": "ENABLED", "UserRole": "USER", "EnabledDate": 1700003600.5},
 {"Id": U+"1003", "Email": "carol@example.com", "Name": "carol", "State": "ENABLED", "UserRole": "USER", "EnabledDate": 1712345678},
 {"Id": U+"1004", "Email": "dave@example.com", "Name": "dave", "State": "DISABLED", "UserRole": "USER", "EnabledDate": 1690000000.25, "DisabledDate": 1720000000.75},
 {"Id": U+"1005", "Name": "scanner", "State": "DISABLED", "UserRole": "SYSTEM_USER"},
]
rules = [
 {"Name": "block-abusive-networks", "Effect": "DENY", "Description": "Known abusive ranges", "IpRanges": ["203.0.113.0/24"], "DateCreated": 1700000000.123, "DateModified": 1712345678.9},
 {"Name": "default", "Effect": "ALLOW", "Description": "Default WorkMail Rule", "DateCreated": 0, "DateModified": 0},
 {"Name": "legacy-protocols-office-only", "Effect": "DENY", "Description": "IMAP and SMTP only from the office and the VPN", "Actions": ["IMAP", "SMTP"], "NotIpRanges": ["192.0.2.0/24", "10.8.0.0/16"], "DateCreated": 1700000100, "DateModified": 1700000100},
]
roles = [
 {"ImpersonationRoleId": "9f1c2a64-3b7e-4d5a-8c21-0e6b7a9d4f10", "Name": "archiver", "Type": "READ_ONLY", "DateCreated": 1700000000.5, "DateModified": 1710000000.25},
 {"ImpersonationRoleId": "0b6f3a1e-5c2d-4e8f-9a7b-1c2d3e4f5a6b", "Name": "migration", "Type": "FULL_ACCESS", "DateCreated": 1701000000, "DateModified": 1701000000},
]
orgs = [
 {"OrganizationId": "m-d281d0a2fd824be5b6cd3d3ce909fd27", "Alias": "example", "DefaultMailDomain": "example.awsapps.com", "State": "Active"},
 {"OrganizationId": "m-0123456789abcdef0123456789abcdef", "Alias": "other", "DefaultMailDomain": "other.awsapps.com", "State": "Active"},
]
def page(items, body, key):
    n = body.get("MaxResults")
    start = int(body.get("NextToken", "0").split(":")[-1]) if body.get("NextToken") else 0
    if n is None: n = 100
    out = {key: items[start:start+n]}
    if start + n < len(items):
        out["NextToken"] = "AAIAAU5leHRUb2tlbg==:" + str(start+n)
    return out
class H(BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
        op = self.headers["X-Amz-Target"].split(".")[1]
        if op == "ListUsers": out = page(users, body, "Users")
        elif op == "ListAccessControlRules": out = {"Rules": rules}
        elif op == "ListImpersonationRoles": out = page(roles, body, "Roles")
        elif op == "ListOrganizations": out = page(orgs, body, "OrganizationSummaries")
        elif op == "GetImpersonationRole":
            out = dict(roles[0]); out["Description"] = "Reads every mailbox for the archive"
            out["Rules"] = [{"ImpersonationRuleId": "allow-all", "Name": "allow-all", "Effect": "ALLOW"},
                            {"ImpersonationRuleId": "not-executives", "Name": "not-executives", "Effect": "DENY", "TargetUsers": [U+"1001"]}]
        else:
            self.send_response(400); self.end_headers(); return
        b = json.dumps(out).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(b)))
        self.end_headers(); self.wfile.write(b)
    def log_message(self, *a): pass
HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
