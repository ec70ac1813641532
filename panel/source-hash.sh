#!/bin/sh
# Prints one hash of everything the panel bundle is built from: its sources,
# build config and lockfile, and the SDK source it compiles in. `make panel`
# records it in internal/panel/source.sha256; `make check-generated`
# compares, so a source change without a rebuild fails there. (The spec's
# types, clients/typescript/src/schema.d.ts, are not in it: they do not reach
# the bundle; `make test-panel` type-checks the panel against them.)
set -eu
cd "$(dirname "$0")/.."
find panel/src panel/management.html panel/vite.config.ts panel/tsconfig.json panel/package.json panel/package-lock.json \
  clients/typescript/src/client.ts clients/typescript/src/errors.ts clients/typescript/src/text.ts clients/typescript/src/watch.ts -type f |
  LC_ALL=C sort | xargs sha256sum | sha256sum | cut -d' ' -f1
