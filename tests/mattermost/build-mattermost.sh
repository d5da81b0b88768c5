#!/usr/bin/env bash
# Builds the Mattermost server (Team Edition) that the end-to-end tests run
# against, from the Go modules pinned in tests/mattermost/go.mod.
#
# Output, outside the repo so every clone on this machine shares it:
#   ${WHOKNOWS_CACHE:-$HOME/.cache/whoknows}/mattermost/<v8-version>_<public-version>/
#     bin/mattermost   the server binary (CGO_ENABLED=0, no build tags = Team Edition)
#     server-path      the server/v8 module folder in the Go module cache; the
#                      harness passes it as MM_SERVER_PATH (i18n/, templates/, fonts/)
# Nothing is rebuilt when both are already there.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

v8_mod=github.com/mattermost/mattermost/server/v8
public_mod=github.com/mattermost/mattermost/server/public

pinned() {  # the version go.mod requires for module $1
    awk -v m="$1" '$1 == m && $2 ~ /^v/ { print $2; exit }' go.mod
}
v8_version="$(pinned "$v8_mod")"
public_version="$(pinned "$public_mod")"
if [[ -z "$v8_version" || -z "$public_version" ]]; then
    echo "build-mattermost: cannot read the pinned versions from $here/go.mod" >&2
    exit 1
fi

cache_root="${WHOKNOWS_CACHE:-$HOME/.cache/whoknows}"
out="$cache_root/mattermost/${v8_version}_${public_version}"
binary="$out/bin/mattermost"

if [[ -x "$binary" && -s "$out/server-path" && -d "$(cat "$out/server-path")/i18n" ]]; then
    echo "build-mattermost: $binary is up to date"
    exit 0
fi

command -v go >/dev/null || { echo "build-mattermost: the go command is missing" >&2; exit 1; }

# go.mod lists only the two pins: the go command resolves the rest from them,
# and the committed go.sum fixes every hash, so the build never edits either
# file (-mod=readonly). After changing a pin, fill go.sum again with
#   WHOKNOWS_GO_MOD_MODE=mod make mattermost
# (never a plain `go mod tidy`: it follows the `enterprise` build tag to a
# private module).
export GOFLAGS="-mod=${WHOKNOWS_GO_MOD_MODE:-readonly} -buildvcs=false"
export CGO_ENABLED=0
# The checksum database has no record of these pseudo-versions (its lookups
# answer 404 here), so their hashes come from go.sum instead. The module proxy
# is still the only source.
export GONOSUMDB="github.com/mattermost/mattermost"

echo "build-mattermost: building Mattermost $v8_version (public $public_version) into $out"
start=$SECONDS
mkdir -p "$out/bin"
server_path="$(go list -m -f '{{.Dir}}' "$v8_mod")"
if [[ -z "$server_path" || ! -d "$server_path" ]]; then
    go mod download "$v8_mod"
    server_path="$(go list -m -f '{{.Dir}}' "$v8_mod")"
fi

ldflags="-s -w"
ldflags+=" -X $public_mod/model.BuildNumber=$v8_version"
ldflags+=" -X $public_mod/model.BuildHash=${v8_version##*-}"
ldflags+=" -X $public_mod/model.BuildEnterpriseReady=false"

tmp="$(mktemp "$out/bin/.mattermost.XXXXXX")"
trap 'rm -f "$tmp"' EXIT
go build -trimpath -ldflags "$ldflags" -o "$tmp" "$v8_mod/cmd/mattermost"
chmod 0755 "$tmp"
mv -f "$tmp" "$binary"
printf '%s\n' "$server_path" > "$out/server-path"
trap - EXIT

echo "build-mattermost: built $binary in $((SECONDS - start)) s"
