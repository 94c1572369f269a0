#!/bin/sh
# Creates the load bench's Python peer (scripts/peer-notifications.py) in target/peer-venv:
# genesys-notifications 1.3 from PyPI with the websockets release of its time (10.x, whose
# `websockets.connect` and exceptions it was written against). Idempotent; exits non-zero
# if Python or PyPI is unavailable (the bench then reports the peer as skipped).
set -e
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${CARGO_TARGET_DIR:-$root/target}/peer-venv"
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import genesys_notifications, websockets' 2>/dev/null; then
    echo "$venv/bin/python"
    exit 0
fi
python3 -m venv "$venv" >&2
"$venv/bin/pip" install --quiet --disable-pip-version-check \
    'genesys-notifications==1.3' 'websockets>=10,<11' ujson >&2
echo "$venv/bin/python"
