#!/usr/bin/env bash
# Installs (if needed) and starts a local PostgreSQL (Debian package, >= 14)
# with the role and database the end-to-end Mattermost server uses.
# Idempotent: a second run only checks that everything is there.
#
# Test-only credentials of a throwaway local server:
#   role mmuser / password mmtest (CREATEDB, so the harness can reset its
#   databases), database mattermost_test owned by mmuser, on 127.0.0.1.
set -euo pipefail

role="${WHOKNOWS_PG_USER:-mmuser}"
password="${WHOKNOWS_PG_PASSWORD:-mmtest}"
database="${WHOKNOWS_PG_DATABASE:-mattermost_test}"
min_major=14

if [[ $(id -u) -ne 0 ]]; then
    echo "setup-postgres: run as root (it installs and starts the server)" >&2
    exit 1
fi

newest_server() {  # prints the newest installed major version >= min_major
    local dir major best=""
    for dir in /usr/lib/postgresql/*/bin/postgres; do
        [[ -x "$dir" ]] || continue
        major="${dir#/usr/lib/postgresql/}"
        major="${major%%/*}"
        if (( major >= min_major )) && [[ -z "$best" || major -gt best ]]; then
            best="$major"
        fi
    done
    echo "$best"
}

major="$(newest_server)"
if [[ -z "$major" ]] || ! command -v pg_ctlcluster >/dev/null; then
    echo "setup-postgres: installing PostgreSQL from Debian"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq postgresql >/dev/null
    major="$(newest_server)"
    if [[ -z "$major" ]]; then
        echo "setup-postgres: no PostgreSQL >= $min_major after installing" >&2
        exit 1
    fi
fi

cluster=main
if ! pg_lsclusters -h | awk -v v="$major" -v c="$cluster" '$1 == v && $2 == c { found = 1 } END { exit !found }'; then
    echo "setup-postgres: creating cluster $major/$cluster"
    pg_createcluster "$major" "$cluster" >/dev/null
fi

status="$(pg_lsclusters -h | awk -v v="$major" -v c="$cluster" '$1 == v && $2 == c { print $4 }')"
if [[ "$status" != online* ]]; then
    echo "setup-postgres: starting cluster $major/$cluster"
    pg_ctlcluster "$major" "$cluster" start
fi
port="$(pg_lsclusters -h | awk -v v="$major" -v c="$cluster" '$1 == v && $2 == c { print $3 }')"

for _ in $(seq 1 60); do
    pg_isready -q -h 127.0.0.1 -p "$port" && break
    sleep 0.5
done
pg_isready -q -h 127.0.0.1 -p "$port" || {
    echo "setup-postgres: PostgreSQL $major/$cluster does not answer on 127.0.0.1:$port" >&2
    exit 1
}

as_postgres() {
    runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -p "$port" "$@"
}

# CREATEDB: the test harness drops and recreates its database every session.
case "$(as_postgres -tAc "SELECT rolcreatedb FROM pg_roles WHERE rolname = '$role'")" in
    t) ;;
    f)  echo "setup-postgres: letting role $role create databases"
        as_postgres -c "ALTER ROLE \"$role\" CREATEDB" ;;
    *)  echo "setup-postgres: creating role $role"
        as_postgres -c "CREATE ROLE \"$role\" LOGIN CREATEDB PASSWORD '$password'" ;;
esac
if [[ "$(as_postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$database'")" != 1 ]]; then
    echo "setup-postgres: creating database $database"
    as_postgres -c "CREATE DATABASE \"$database\" OWNER \"$role\""
fi

# Check the way the Mattermost server will connect: by password over TCP.
if ! PGPASSWORD="$password" psql -X -q -h 127.0.0.1 -p "$port" -U "$role" -d "$database" -tAc 'SELECT 1' >/dev/null; then
    echo "setup-postgres: $role cannot log in to $database on 127.0.0.1:$port" >&2
    exit 1
fi

echo "setup-postgres: PostgreSQL $major ready: postgres://$role:$password@127.0.0.1:$port/$database"
if [[ "$port" != 5432 ]]; then
    echo "setup-postgres: the cluster listens on $port: export WHOKNOWS_PG_PORT=$port for the tests" >&2
fi
