#!/bin/sh
# Re-vendors Swagger UI into assets/ from the swagger-ui-dist package that
# clients/typescript/package.json pins. Run from anywhere after
# `cd clients/typescript && npm ci --ignore-scripts` (or `make ts-deps`).
# Only the bundle and the stylesheet are copied (source-map comments stripped),
# plus the license files and the version; index.html and init.js are our own.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dist="$here/../../clients/typescript/node_modules/swagger-ui-dist"
out="$here/assets"
[ -f "$dist/package.json" ] || { echo "swagger-ui-dist not installed: run 'make ts-deps'" >&2; exit 1; }
version=$(node -p 'require(process.argv[1]).version' "$dist/package.json")
for f in swagger-ui-bundle.js swagger-ui.css; do
	sed '/sourceMappingURL=/d' "$dist/$f" >"$out/$f"
done
cp "$dist/LICENSE" "$out/LICENSE"
cp "$dist/NOTICE" "$out/NOTICE"
cp "$dist/swagger-ui-bundle.js.LICENSE.txt" "$out/swagger-ui-bundle.js.LICENSE.txt"
printf '%s\n' "$version" >"$out/VERSION"
echo "vendored swagger-ui-dist $version into $out"
