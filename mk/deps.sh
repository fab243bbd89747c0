#!/bin/sh
# Install the Debian packages of mk/packages.txt that are missing.
# As root: apt-get install -y; otherwise print the exact command and fail.
# Usage: mk/deps.sh build|demo|test (each includes the ones before it)
set -eu
want=${1:-build}
list=$(dirname "$0")/packages.txt
missing=""
for p in $(awk -v w="$want" '$1 !~ /^#/ && NF == 2 && ($1 == "build" || w == "test" || $1 == w) {print $2}' "$list"); do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "bast: installing Debian packages:$missing" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q $missing >/dev/null 2>&1 ||
        { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q $missing >/dev/null; }
else
    echo "bast: missing Debian packages; run as root:" >&2
    echo "  apt-get install -y$missing" >&2
    exit 1
fi
