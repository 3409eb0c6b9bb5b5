#!/usr/bin/env bash
# Installs the real mail servers the end-to-end tests start (Dovecot, Postfix,
# nginx with the mail module) and the clients they use (swaks, curl), from
# Debian's packages, then runs the end-to-end tests (under .ci/postgres.sh
# when no PostgreSQL server is given). Run as root (CI runs it from
# .ci/run). With --install-only it stops after installing.
#
# The servers are not started or enabled here: each test starts its own
# instances from temporary configuration directories on loopback ports
# (internal/realserver). In CI (CI set) a missing server makes the tests
# fail rather than skip.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(dovecot-core dovecot-imapd dovecot-pop3d dovecot-submissiond postfix nginx libnginx-mod-mail swaks curl)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "$0: must run as root to install packages" >&2; exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  # Postfix asks how to configure itself: no configuration (the tests write their own).
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
# A system instance the packages may have started does not disturb the
# tests: theirs use other ports, directories and Dovecot instance names.

[ "${1:-}" = "--install-only" ] && exit 0

# TestDovecotFleetSharedStore needs a PostgreSQL server: without one (run on
# its own, not from .ci/run), run the tests under .ci/postgres.sh, which
# installs PostgreSQL 15 when missing and starts a throwaway cluster.
if [ -z "${WMPOLICY_TEST_POSTGRES:-}" ]; then
  exec .ci/postgres.sh .ci/realservers.sh "$@"
fi

echo "== end-to-end tests against the real servers"
CI=${CI:-true} go test -count=1 -v ./internal/realserver/ ./enforce/e2e/...
