#!/usr/bin/env bash
# Install what the browser tests and the font build need from Debian: chromium (driven by
# Playwright through /usr/bin/chromium; never `playwright install`) and fonts-noto-cjk
# (the source of assets/fonts/NotoSansSC-Subset.otf), and nginx-light (tests/test_deploy_guide.py
# checks the deployment guide's nginx configuration with `nginx -t`). Idempotent: installs only
# what is missing, and runs `apt-get update` only when the package lists are empty or a package
# cannot be found. Needs root (or sudo).
set -euo pipefail

packages=(chromium fonts-noto-cjk nginx-light)
missing=()
for pkg in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$pkg")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "browser deps present: ${packages[*]}"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

lists_empty() { [ -z "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v -e '^lock$' -e '^partial$' || true)" ]; }
if lists_empty || ! apt-cache show "${missing[@]}" >/dev/null 2>&1; then
    $SUDO apt-get update
fi
echo "installing: ${missing[*]}"
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y "${missing[@]}"
test -x /usr/bin/chromium
