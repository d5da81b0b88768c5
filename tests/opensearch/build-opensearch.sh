#!/usr/bin/env bash
# Builds the single-node OpenSearch launcher the tests run (tests/opensearch: pom.xml pins OpenSearch and
# its two modules; src/ is the launcher, whoknows.opensearch.Main).
#
# Output, outside the repo so every clone on this machine shares it:
#   ${WHOKNOWS_CACHE:-$HOME/.cache/whoknows}/opensearch/<hash of pom.xml and src/>/
#     launcher.jar   the launcher
#     lib/           OpenSearch and every jar it needs (the classpath is launcher.jar:lib/*)
# Nothing is rebuilt when that folder is complete. Start a node with run-opensearch.sh.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

key="$(cat pom.xml $(find src -type f | LC_ALL=C sort) | sha256sum | cut -c1-16)"
cache_root="${WHOKNOWS_CACHE:-$HOME/.cache/whoknows}"
out="$cache_root/opensearch/$key"

if [[ -s "$out/launcher.jar" && -s "$out/lib/opensearch-2.19.6.jar" && -f "$out/complete" ]]; then
    echo "build-opensearch: $out is up to date"
    exit 0
fi

command -v mvn >/dev/null || { echo "build-opensearch: the mvn command is missing (apt-get install maven)" >&2; exit 1; }
command -v java >/dev/null || { echo "build-opensearch: the java command is missing (Java 17)" >&2; exit 1; }

echo "build-opensearch: building the launcher into $out"
start=$SECONDS
build="$(mktemp -d)"
trap 'rm -rf "$build"' EXIT
# A copy, so the build leaves no target/ in the repository.
cp -R pom.xml src "$build/"
(cd "$build" && mvn -q -B package)
mkdir -p "$cache_root/opensearch"
tmp="$(mktemp -d "$cache_root/opensearch/.build.XXXXXX")"
cp "$build"/target/whoknows-opensearch-launcher-*.jar "$tmp/launcher.jar"
cp -R "$build/target/lib" "$tmp/lib"
touch "$tmp/complete"
rm -rf "$out"
mv "$tmp" "$out"
echo "build-opensearch: built $out in $((SECONDS - start)) s"
