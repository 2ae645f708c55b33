#!/usr/bin/env bash
# Build the docs site (mkdocs, --strict: any warning fails) into site/: the task gallery is
# generated first (docs/gallery/, by `audiogym gallery`), and the README is the home page.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
"$PY" -m audiogym.cli gallery --out docs/gallery
cp README.md docs/index.md
"$PY" -m mkdocs build --strict --site-dir "${SITE_DIR:-site}" "$@"
