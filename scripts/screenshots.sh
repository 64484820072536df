#!/usr/bin/env bash
# Regenerates screenshots/*.png from real renders of the console: a test renders the
# console over the drill into HTML pages (one <span> per styled run of cells), then a
# headless Chromium takes a picture of each. Needs chromium (or chromium-browser).
# Usage: scripts/screenshots.sh
set -euo pipefail
cd "$(dirname "$0")/.."

browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [ -z "$browser" ]; then
  echo "screenshots.sh: needs chromium (apt-get install chromium)" >&2
  exit 1
fi
pages=$(mktemp -d)
profile=$(mktemp -d)
trap 'rm -rf "$pages" "$profile"' EXIT

HACTL_SCREENSHOTS="$pages" cargo test --release --test console -- --exact \
  screenshots::write_screenshot_pages live::write_live_screenshot_pages

mkdir -p screenshots
for page in "$pages"/*.html; do
  name=$(basename "$page" .html)
  read -r cols rows < "$pages/$name.size"
  # 15px DejaVu Sans Mono: 9px a column, 18.75px a row, 8px padding.
  width=$(( cols * 9 + 16 ))
  height=$(( (rows * 75 + 3) / 4 + 16 ))
  "$browser" --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --no-first-run --hide-scrollbars --user-data-dir="$profile" \
    --screenshot="screenshots/$name.png" --window-size="$width,$height" "file://$page" 2>/dev/null
  echo "screenshots/$name.png"
done
