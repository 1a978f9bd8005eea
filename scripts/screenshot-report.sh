#!/bin/sh
# Screenshot an HTML report (vpce-audit scan --format html) with headless Chromium, for people
# to look at. Not used in CI.
#
#   scripts/screenshot-report.sh REPORT.html OUT.png [WIDTH [HEIGHT]]
#
# Chromium runs with no network use of its own (no background networking, no first-run
# requests, no component updates) and a throw-away profile; the report itself fetches nothing
# (its Content-Security-Policy is default-src 'none').
set -eu

if [ "$#" -lt 2 ] || [ "$#" -gt 4 ]; then
    echo "usage: $0 REPORT.html OUT.png [WIDTH [HEIGHT]]" >&2
    exit 2
fi
report=$1
out=$2
width=${3:-1280}
height=${4:-4000}

if [ ! -f "$report" ]; then
    echo "$0: no such file: $report" >&2
    exit 2
fi

chromium=${CHROMIUM:-}
if [ -z "$chromium" ]; then
    for candidate in /usr/bin/chromium /usr/bin/chromium-browser; do
        if [ -x "$candidate" ]; then
            chromium=$candidate
            break
        fi
    done
fi
if [ -z "$chromium" ]; then
    echo "$0: Chromium is not installed. On Debian or Ubuntu: sudo apt-get install chromium" >&2
    echo "(or set CHROMIUM=/path/to/chromium)" >&2
    exit 3
fi

# Absolute file: URL for the report; the PNG path made absolute too (Chromium resolves a
# relative --screenshot path against its own working directory).
case $report in
    /*) absolute_report=$report ;;
    *) absolute_report=$(pwd)/$report ;;
esac
case $out in
    /*) absolute_out=$out ;;
    *) absolute_out=$(pwd)/$out ;;
esac

profile=$(mktemp -d "${TMPDIR:-/tmp}/vpce-audit-chromium.XXXXXX")
trap 'rm -rf "$profile"' EXIT INT TERM

"$chromium" \
    --headless \
    --no-sandbox \
    --disable-gpu \
    --disable-background-networking \
    --disable-component-update \
    --disable-default-apps \
    --disable-extensions \
    --disable-sync \
    --no-first-run \
    --no-default-browser-check \
    --hide-scrollbars \
    --user-data-dir="$profile" \
    --window-size="$width,$height" \
    --screenshot="$absolute_out" \
    "file://$absolute_report"

if [ ! -s "$absolute_out" ]; then
    echo "$0: Chromium wrote no screenshot to $absolute_out" >&2
    exit 1
fi
echo "$absolute_out"
