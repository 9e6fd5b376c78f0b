#!/usr/bin/env bash
# Installs the real LiteLLM proxy (litellm[proxy]) from PyPI into a virtualenv in a cache
# outside the repository, once, and prints the venv's directory. Idempotent: when the venv
# is complete (its stamp matches this script's inputs) it prints the path and exits at once.
# Nothing is fetched from anywhere but PyPI: pip installs uv, uv installs LiteLLM.
#
#   LITELLM_VERSION    litellm version                (default below; the one CONTRACT-VERIFIED.md read)
#   LLM_TENANCY_CACHE  cache root                     (default ~/.cache/llm-tenancy)
#   PYTHON             interpreter for the venv       (default python3; LiteLLM needs >= 3.10)
#
# Why uv and an override: every recent litellm pins certifi>=2026.10.19, newer than any
# certifi this machine's PyPI mirror serves; uv's --override relaxes that one requirement
# (pip has no equivalent). The versions of everything else are pinned by
# litellm-constraints.txt beside this script, so a cold install resolves the same set of
# packages the contract tests were written against.
#
# Why `prisma` too: LiteLLM's error handlers import the prisma Python package to classify
# exceptions (litellm/proxy/db/exception_handler.py), even without a database; without it
# every error (a missing key, "No db connected") becomes a bare 500 "Internal Server Error".
# LiteLLM's own image ships it (the `extra_proxy` extra); only the Python package is installed,
# its engines are never downloaded (nothing here runs the prisma CLI).
set -euo pipefail

LITELLM_VERSION=${LITELLM_VERSION:-1.108.7}
CACHE_ROOT=${LLM_TENANCY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/llm-tenancy}
VENV="$CACHE_ROOT/litellm-$LITELLM_VERSION"
PYTHON=${PYTHON:-python3}
here=$(cd "$(dirname "$0")" && pwd)
constraints="$here/litellm-constraints.txt"

log() { echo "install-litellm: $*" >&2; }

# The stamp records what the venv was built from; any change (version, constraints,
# this script) rebuilds it.
inputs_digest() {
  {
    echo "$LITELLM_VERSION"
    cat "$0"
    if [[ -f $constraints ]]; then cat "$constraints"; fi
  } | sha256sum | cut -d' ' -f1
}
digest=$(inputs_digest)
if [[ -x "$VENV/bin/litellm" && -f "$VENV/.llm-tenancy-installed" ]] &&
  [[ $(cat "$VENV/.llm-tenancy-installed") == "$digest" ]]; then
  echo "$VENV"
  exit 0
fi

command -v "$PYTHON" >/dev/null || { log "'$PYTHON' not found; install Python >= 3.10 (Debian: apt-get install python3 python3-venv)"; exit 1; }
"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' ||
  { log "$("$PYTHON" --version 2>&1) is too old: LiteLLM $LITELLM_VERSION needs Python >= 3.10 (set PYTHON=...)"; exit 1; }
"$PYTHON" -c 'import venv, ensurepip' 2>/dev/null ||
  { log "'$PYTHON -m venv' is unavailable (Debian: apt-get install python3-venv)"; exit 1; }

started=$(date +%s)
log "installing litellm[proxy]==$LITELLM_VERSION into $VENV (first time only; about 20 s)"
# A venv is not relocatable, so it is built in place; the stamp, written last, marks it complete.
rm -rf "$VENV"
mkdir -p "$CACHE_ROOT"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check 'uv>=0.4,<1'

override="$VENV/llm-tenancy-override.txt"
echo 'certifi>=2024' >"$override"
constraint_args=()
if [[ -f $constraints ]]; then constraint_args=(--constraint "$constraints"); fi
# uv's own cache lives beside the venvs, so a CI cache of $CACHE_ROOT keeps installs warm.
UV_CACHE_DIR=${UV_CACHE_DIR:-$CACHE_ROOT/uv} "$VENV/bin/uv" pip install --quiet \
  --python "$VENV/bin/python" \
  "litellm[proxy]==$LITELLM_VERSION" 'prisma>=0.11.0,<1.0' \
  --override "$override" "${constraint_args[@]}"

installed=$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("litellm"))')
[[ $installed == "$LITELLM_VERSION" ]] || { log "expected litellm $LITELLM_VERSION, got $installed"; exit 1; }
echo "$digest" >"$VENV/.llm-tenancy-installed"
log "done in $(($(date +%s) - started))s"
echo "$VENV"
