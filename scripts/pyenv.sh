#!/usr/bin/env bash
# Creates or updates the Python virtualenv var/pyenv with the tools the tests
# and benchmarks cross-validate against (pyarrow, duckdb; pyyaml for the
# static checks of the Docker files), idempotently: when
# the stamp file matches the wanted package list, it only prints the path of
# the virtualenv's python, in well under a second.
#
#   scripts/pyenv.sh            ensure the virtualenv; print its python path
#   PY=$(scripts/pyenv.sh)      typical use from other scripts
#   . scripts/pyenv.sh          when sourced, also exports PY (and leaves the
#                               caller's shell options alone)

pyenv_main() {
	local here root venv stamp want py base
	here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)" || return 1
	root="$(cd "$here/.." && pwd)" || return 1
	venv="$root/var/pyenv"
	stamp="$venv/.topsongs-stamp"
	want="pyarrow duckdb pyyaml"
	py="$venv/bin/python"
	if [ -x "$py" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
		echo "$py"
		return 0
	fi
	base="$(command -v /usr/bin/python3 || command -v python3)" || {
		echo "pyenv: no python3 (apt-get install python3)" >&2
		return 1
	}
	if ! "$base" -c 'import venv, ensurepip' >/dev/null 2>&1 && [ "$(id -u)" = 0 ] &&
		command -v apt-get >/dev/null; then
		# Debian ships venv's pip bootstrap separately.
		echo "pyenv: installing python3-venv" >&2
		DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >&2
	fi
	if ! "$base" -c 'import venv, ensurepip' >/dev/null 2>&1; then
		echo "pyenv: $base has no venv module (apt-get install python3-venv)" >&2
		return 1
	fi
	mkdir -p "$root/var" || return 1
	if [ ! -x "$py" ]; then
		"$base" -m venv "$venv" >&2 || return 1
	fi
	# shellcheck disable=SC2086
	"$py" -m pip install -q --disable-pip-version-check $want >&2 || return 1
	echo "$want" >"$stamp"
	echo "$py"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -euo pipefail
	pyenv_main
else
	PY="$(pyenv_main)" && export PY
fi
