#!/usr/bin/env bash
# Runs Strata's whole test suite: static checks, unit and integration tests
# (including every object-store provider against real S3, GCS and Azure
# emulators, which this script installs once and starts), and the
# end-to-end tests that build the binary and drive it with the official
# Weaviate Go and TypeScript clients (the latter needs Node.js 20+ and npm).
# Usage: ./scripts/test.sh [extra go test flags]
# Set STRATA_SKIP_EMULATORS=1 to run without them (cloud tests then skip).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/emulators.sh

echo "== go mod download"
go mod download

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './data/*'))
if [ -n "$unformatted" ]; then
  echo "gofmt needed on:"; echo "$unformatted"; exit 1
fi

echo "== go vet"
go vet ./...

if [ "${STRATA_SKIP_EMULATORS:-}" != 1 ]; then
  echo "== object-store emulators (install once, start)"
  emu_install
  trap emu_stop EXIT
  emu_start
fi

echo "== go test"
go test -count=1 -timeout 30m "$@" ./...

# The fuzz targets run briefly on every run, from their seeds and whatever
# the local corpus holds; a crash they find fails the run. The budget is a
# count of executions: a duration budget can end in a spurious "context
# deadline exceeded" on a loaded machine (a race in Go 1.26's fuzzing
# coordinator, golang/go#75804).
echo "== fuzz (${STRATA_FUZZTIME:=60000x} each)"
go test -run '^$' -fuzz '^FuzzClassDecode$' -fuzztime "$STRATA_FUZZTIME" ./internal/schema
go test -run '^$' -fuzz '^FuzzExecute$' -fuzztime "$STRATA_FUZZTIME" ./internal/graphql
