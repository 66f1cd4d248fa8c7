#!/usr/bin/env bash
# Validates docker-compose.yml without a Docker engine: installs Debian's
# docker-compose (v1.29) if it is missing, then has it parse, interpolate and
# schema-check the file. Prints one line; exits non-zero on failure.
#
#   scripts/validate-compose.sh [path/to/docker-compose.yml]
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
file="${1:-$root/docker-compose.yml}"

if ! command -v docker-compose >/dev/null 2>&1; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
      echo "validate-compose: FAIL: docker-compose is missing and apt-get needs root" >&2
      exit 1
    fi
  fi
  if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq docker-compose; } >/tmp/validate-compose-apt.log 2>&1; then
    echo "validate-compose: FAIL: could not install docker-compose (see /tmp/validate-compose-apt.log)" >&2
    exit 1
  fi
fi

if [ ! -f "$file" ]; then
  echo "validate-compose: FAIL: $file not found" >&2
  exit 1
fi

# A dummy key set, so that the ${PLEDGE_API_KEYS:?…} guard lets the check through.
export PLEDGE_API_KEYS="${PLEDGE_API_KEYS:-agent:dummy-agent,supervisor:dummy-supervisor,alert-source:dummy-alerts,auditor:dummy-auditor}"

# Compose reads .env beside the file: validate against an empty env file
# instead, so a developer's .env cannot mask a problem.
empty_env="$(mktemp)"
trap 'rm -f "$empty_env"' EXIT
compose() { docker-compose --env-file "$empty_env" -f "$file" "$@"; }

if out=$(compose config -q 2>&1); then
  services=$(compose config --services 2>/dev/null | paste -sd, -)
  echo "validate-compose: OK: $(basename "$file") is valid ($(docker-compose version --short 2>/dev/null || echo '?'); services: $services)"
else
  echo "validate-compose: FAIL: $(basename "$file"): $(printf '%s' "$out" | tr '\n' ' ' | sed 's/  */ /g')" >&2
  exit 1
fi
