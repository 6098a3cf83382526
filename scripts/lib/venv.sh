# Shared by scripts/serve and scripts/test: create .venv on first use and install the project
# into it; later runs skip pip when pyproject.toml has not changed (a stamp file records it).
# Each set-up step prints one line on stderr, so a first run is never a silent terminal.
# Ctrl-C while setting up is one line and exit status 130: a .venv this run was creating is
# removed (never left half made), and the stamp is only written after a complete install.
ensure_venv() {
  local extras="$1"
  local python="${PYTHON:-python3}"
  if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "$(basename "$0"): Python 3.11 or newer is required (found: $("$python" --version 2>&1))" >&2
    exit 1
  fi
  _VENV_CREATED=""
  trap _venv_interrupted INT TERM
  if [ ! -x .venv/bin/python ]; then
    echo "$(basename "$0"): creating .venv" >&2
    _VENV_CREATED=1
    "$python" -m venv .venv
  fi
  local spec="."
  [ -n "$extras" ] && spec=".[${extras}]"
  local stamp=".venv/.installed-$(cat pyproject.toml | sha256sum | cut -c1-16)-${extras:-base}"
  if [ ! -f "$stamp" ]; then
    echo "$(basename "$0"): installing the project${extras:+ with its ${extras} extras} into .venv (pip; a minute or so the first time)" >&2
    local log
    log="$(mktemp "${TMPDIR:-/tmp}/pip-install.XXXXXX")"
    if ! .venv/bin/python -m pip install --quiet --disable-pip-version-check -e "$spec" \
        >"$log" 2>&1; then
      echo "$(basename "$0"): installing the project into .venv failed (pip's output: $log)" >&2
      exit 1
    fi
    rm -f "$log"
    .venv/bin/python -c "import mock_servicenow, connector" || {
      echo "$(basename "$0"): installing the project into .venv failed" >&2; exit 1; }
    touch "$stamp"
    echo "$(basename "$0"): .venv is ready" >&2
  fi
  # Byte-compile the project (up-to-date files are skipped in milliseconds): where
  # PYTHONDONTWRITEBYTECODE is set, every process would otherwise compile ~150 modules at
  # start (a third of a second of `serve`'s cold start).
  .venv/bin/python -m compileall -q -j 0 mock_servicenow connector >/dev/null 2>&1 || true
  trap - INT TERM
}

_venv_interrupted() {
  [ -n "${_VENV_CREATED:-}" ] && rm -rf .venv
  echo "$(basename "$0"): interrupted while setting up .venv; run it again to finish" >&2
  exit 130
}
