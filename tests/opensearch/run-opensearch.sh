#!/usr/bin/env bash
# Starts the single-node OpenSearch that build-opensearch.sh built, in the foreground:
#   tests/opensearch/run-opensearch.sh HOME_FOLDER HTTP_PORT [--exit-on-eof]
# HTTP on 127.0.0.1:HTTP_PORT, no security, data and logs under HOME_FOLDER (kept between runs).
# OPENSEARCH_HEAP overrides the heap (512m). The tests' fixture (tests/opensearch_node.py) runs this.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [[ $# -lt 2 ]]; then
    echo "usage: $0 HOME_FOLDER HTTP_PORT [--exit-on-eof]" >&2
    exit 2
fi
home="$(mkdir -p "$1" && cd "$1" && pwd)"
port="$2"
shift 2
bash "$here/build-opensearch.sh" >&2
key="$(cd "$here" && cat pom.xml $(find src -type f | LC_ALL=C sort) | sha256sum | cut -c1-16)"
out="${WHOKNOWS_CACHE:-$HOME/.cache/whoknows}/opensearch/$key"
mkdir -p "$home/logs" "$home/tmp"
heap="${OPENSEARCH_HEAP:-512m}"
# No JMX, no Log4j shutdown hook (the node closes its own logging), the temp folder inside home.
exec java -Xms"$heap" -Xmx"$heap" -XX:+UseG1GC -Djava.awt.headless=true -Dfile.encoding=UTF-8 \
    -Djava.io.tmpdir="$home/tmp" -Dlog4j2.disable.jmx=true -Dlog4j.shutdownHookEnabled=false \
    -Dwhoknows.opensearch.logs="$home/logs" \
    -cp "$out/launcher.jar:$out/lib/*" whoknows.opensearch.Main --home "$home" --http-port "$port" "$@"
