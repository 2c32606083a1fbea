#!/usr/bin/env bash
# Install code-server (a real VS Code in the browser) once per machine under .state/, offline:
# npm's registry only. Its postinstall fetches ripgrep from GitHub, which is unreachable, so the
# archive it would download is made from Debian's ripgrep and put in the cache it looks in first.
# Usage: install-code-server.sh PREFIX   (code-server ends up in PREFIX/node_modules/.bin)
set -euo pipefail
prefix=$1
version=4.100.3
stamp="$prefix/.installed-$version"
[ -f "$stamp" ] && exit 0

tmp=${TMPDIR:-/tmp}
cache="$tmp/vscode-ripgrep-cache-1.15.11"   # @vscode/ripgrep 1.15.11, the one code-server pins
archive="$cache/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz"
if [ ! -s "$archive" ]; then
  mkdir -p "$cache"
  work=$(mktemp -d)
  cp /usr/bin/rg "$work/rg"
  tar czf "$archive" -C "$work" rg
  rm -rf "$work"
fi

mkdir -p "$prefix"
echo "installing code-server $version into $prefix (once per machine; a few minutes)"
# --unsafe-perm: as root npm would otherwise drop privileges and the postinstall's nested
# `npm install` for VS Code's own modules fails; npm_config_yes answers its npx prompts
npm_config_yes=true npm install --prefix "$prefix" --unsafe-perm --no-audit --no-fund \
  --loglevel=error "code-server@$version"
"$prefix/node_modules/.bin/code-server" --version
touch "$stamp"
