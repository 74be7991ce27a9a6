#!/usr/bin/env bash
# Creates or updates the Python virtualenv var/pyenv with the tools the tests
# and benchmarks cross-validate against (pyarrow, duckdb), idempotently: when
# the stamp file matches the wanted package list, it only prints the path of
# the virtualenv's python, in well under a second.
#
#   scripts/pyenv.sh            ensure the virtualenv; print its python path
#   PY=$(scripts/pyenv.sh)      typical use from other scripts
#   . scripts/pyenv.sh          when sourced, also exports PY
set -euo pipefail

pyenv_main() {
	local here root venv stamp want py base
	here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
	root="$(cd "$here/.." && pwd)"
	venv="$root/var/pyenv"
	stamp="$venv/.topsongs-stamp"
	want="pyarrow duckdb"
	py="$venv/bin/python"
	if [ -x "$py" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
		echo "$py"
		return 0
	fi
	base="$(command -v /usr/bin/python3 || command -v python3)"
	if ! "$base" -m venv --help >/dev/null 2>&1; then
		echo "pyenv: $base has no venv module (apt-get install python3-venv)" >&2
		return 1
	fi
	mkdir -p "$root/var"
	[ -x "$py" ] || "$base" -m venv "$venv" >&2
	# shellcheck disable=SC2086
	"$py" -m pip install -q --disable-pip-version-check $want >&2
	echo "$want" >"$stamp"
	echo "$py"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	pyenv_main
else
	PY="$(pyenv_main)"
	export PY
fi
