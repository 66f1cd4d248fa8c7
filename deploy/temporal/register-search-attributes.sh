#!/bin/sh
# One-shot run by the temporal-admin-tools service: creates the Pledge namespace
# (retention TEMPORAL_NAMESPACE_RETENTION, 30d) unless it exists, then registers
# Pledge's custom search attributes (workflows/search-attributes.ts) in it.
# Idempotent: an attribute that already exists with the right type counts as
# done; one that exists with another type fails the run.
set -eu

ADDRESS="${TEMPORAL_ADDRESS:-temporal:7233}"
NAMESPACE="${TEMPORAL_NAMESPACE:-default}"
ATTEMPTS="${REGISTER_ATTEMPTS:-90}"

# name:type, as `temporal operator search-attribute create` spells the types.
ATTRIBUTES="CaseType:Keyword CaseStatus:Keyword CasePriority:Keyword CustomerId:Keyword SlaBreached:Bool NextDeadlineAt:Datetime"

log() { echo "register-search-attributes: $*"; }

# Is NAME registered in the namespace with TYPE? The CLI prints either
# "Keyword" or "INDEXED_VALUE_TYPE_KEYWORD" depending on its version.
has_attribute() {
  temporal operator search-attribute list --address "$ADDRESS" -n "$NAMESPACE" 2>/dev/null |
    awk -v n="$1" -v t="$2" '
      BEGIN { t = tolower(t); found = 0 }
      { ty = tolower($2); sub(/^indexed_value_type_/, "", ty); gsub(/_/, "", ty)
        if ($1 == n && ty == t) found = 1 }
      END { exit(found ? 0 : 1) }'
}

RETENTION="${TEMPORAL_NAMESPACE_RETENTION:-30d}"

# The server answers a little after its port opens: retry the create until it is in place.
i=0
until temporal operator namespace describe --address "$ADDRESS" -n "$NAMESPACE" >/dev/null 2>&1 ||
  temporal operator namespace create --address "$ADDRESS" -n "$NAMESPACE" --retention "$RETENTION" >/dev/null 2>&1; do
  i=$((i + 1))
  if [ "$i" -ge "$ATTEMPTS" ]; then
    log "namespace '$NAMESPACE' at $ADDRESS not available after $ATTEMPTS attempts" >&2
    exit 1
  fi
  log "waiting for namespace '$NAMESPACE' at $ADDRESS ($i/$ATTEMPTS)"
  sleep 2
done

for entry in $ATTRIBUTES; do
  name="${entry%%:*}"
  type="${entry#*:}"
  i=0
  until has_attribute "$name" "$type"; do
    i=$((i + 1))
    if [ "$i" -ge "$ATTEMPTS" ]; then
      log "could not register $name ($type) in '$NAMESPACE'" >&2
      exit 1
    fi
    # "already exists" and transient errors alike are settled by the list check above.
    if out=$(temporal operator search-attribute create --address "$ADDRESS" -n "$NAMESPACE" \
      --name "$name" --type "$type" 2>&1); then
      log "created $name ($type)"
    else
      case "$out" in
        *"different type"*) log "$name exists with a type other than $type: $out" >&2; exit 1 ;;
        *) log "create $name ($type) did not succeed (attempt $i): $out" ;;
      esac
      sleep 2
    fi
  done
  log "$name ($type) present"
done

log "all search attributes registered in '$NAMESPACE'"
