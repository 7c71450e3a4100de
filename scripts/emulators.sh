# Object-store emulators for the cloud-backend tests — S3: versitygw,
# GCS: fake-gcs-server, Azure: Azurite — installed from the Go module proxy
# and npm into $STRATA_TOOLS_DIR (once), started on 127.0.0.1, stopped by
# emu_stop. Sourced by scripts/test.sh (bash, set -euo pipefail).
VERSITYGW_PKG=github.com/versity/versitygw/cmd/versitygw@v1.8.0
FAKEGCS_PKG=github.com/fsouza/fake-gcs-server@v1.56.1
AZURITE_VERSION=3.37.0
STRATA_TOOLS_DIR="${STRATA_TOOLS_DIR:-$HOME/.cache/ci-tools}"
S3_PORT="${S3_PORT:-7070}" GCS_PORT="${GCS_PORT:-4443}" AZ_PORT="${AZ_PORT:-10000}"
EMU_DIR=""
EMU_PIDS=()

emu_install_go() { # <binary name> <module/pkg@version>
  local bin="$STRATA_TOOLS_DIR/bin/$1" stamp="$STRATA_TOOLS_DIR/bin/.$1.pkg"
  if [ -x "$bin" ] && [ "$(cat "$stamp" 2>/dev/null || true)" = "$2" ]; then return 0; fi
  GOBIN="$STRATA_TOOLS_DIR/bin" GOFLAGS= go install "$2" && echo "$2" > "$stamp"
}

# emu_install_azurite installs Azurite once; the stamp is written only after
# npm succeeded, so an install cut short is redone rather than trusted.
emu_install_azurite() {
  local dir="$STRATA_TOOLS_DIR/azurite-$AZURITE_VERSION"
  if [ -x "$dir/node_modules/.bin/azurite-blob" ] && [ -f "$dir/.installed" ]; then return 0; fi
  rm -rf "$dir"
  mkdir -p "$dir" && npm install --prefix "$dir" --no-audit --no-fund --loglevel=error "azurite@$AZURITE_VERSION" \
    && touch "$dir/.installed"
}

emu_start_azurite() {
  "$STRATA_TOOLS_DIR/azurite-$AZURITE_VERSION/node_modules/.bin/azurite-blob" --blobHost 127.0.0.1 --blobPort "$AZ_PORT" \
    --location "$EMU_DIR/azurite" --skipApiVersionCheck --loose --silent > "$EMU_DIR/azurite.log" 2>&1 &
  EMU_PIDS+=($!)
}

# emu_install installs the three emulators (npm in parallel with go install).
emu_install() {
  mkdir -p "$STRATA_TOOLS_DIR/bin"
  local log; log="$(mktemp)"
  emu_install_azurite > "$log" 2>&1 & local npm_pid=$!
  emu_install_go versitygw "$VERSITYGW_PKG"
  emu_install_go fake-gcs-server "$FAKEGCS_PKG"
  if ! wait "$npm_pid"; then cat "$log"; rm -f "$log"; return 1; fi
  rm -f "$log"
}

emu_wait_http() { # <url> [timeout s]: any HTTP answer (even 4xx) means "listening"
  local deadline=$((SECONDS + ${2:-90}))
  until curl -s -o /dev/null --max-time 2 "$1"; do
    if [ "$SECONDS" -ge "$deadline" ]; then echo "emulator at $1 not ready" >&2; return 1; fi
    sleep 0.2
  done
}

# emu_start starts the emulators and exports what the tests read.
emu_start() {
  EMU_DIR="$(mktemp -d /tmp/strata-emu.XXXXXX)"
  mkdir -p "$EMU_DIR/s3" "$EMU_DIR/azurite"
  ROOT_ACCESS_KEY=testkey ROOT_SECRET_KEY=testsecret \
    "$STRATA_TOOLS_DIR/bin/versitygw" --port "127.0.0.1:$S3_PORT" posix "$EMU_DIR/s3" > "$EMU_DIR/s3.log" 2>&1 &
  EMU_PIDS+=($!)
  "$STRATA_TOOLS_DIR/bin/fake-gcs-server" -scheme http -host 127.0.0.1 -port "$GCS_PORT" \
    -public-host "127.0.0.1:$GCS_PORT" -external-url "http://127.0.0.1:$GCS_PORT" \
    -backend memory -log-level warn > "$EMU_DIR/gcs.log" 2>&1 &
  EMU_PIDS+=($!)
  emu_start_azurite
  if ! { emu_wait_http "http://127.0.0.1:$S3_PORT/" && \
         emu_wait_http "http://127.0.0.1:$GCS_PORT/_internal/healthcheck"; }; then
    tail -n 20 "$EMU_DIR"/*.log
    return 1
  fi
  # A cached Azurite whose node_modules were damaged dies at start: reinstall it once.
  if ! emu_wait_http "http://127.0.0.1:$AZ_PORT/" 60; then
    tail -n 20 "$EMU_DIR/azurite.log"
    echo "reinstalling Azurite" >&2
    kill -9 "${EMU_PIDS[-1]}" 2>/dev/null || true
    rm -f "$STRATA_TOOLS_DIR/azurite-$AZURITE_VERSION/.installed"
    emu_install_azurite
    emu_start_azurite
    if ! emu_wait_http "http://127.0.0.1:$AZ_PORT/"; then tail -n 20 "$EMU_DIR/azurite.log"; return 1; fi
  fi
  export STRATA_VERSITYGW_BIN="$STRATA_TOOLS_DIR/bin/versitygw" # for tests that stop their own S3 server
  export S3_ENDPOINT="http://127.0.0.1:$S3_PORT" AWS_ACCESS_KEY_ID=testkey AWS_SECRET_ACCESS_KEY=testsecret AWS_REGION=us-east-1
  export STORAGE_EMULATOR_HOST="127.0.0.1:$GCS_PORT"
  export AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:$AZ_PORT/devstoreaccount1;"
}

# emu_stop stops the emulators (Azurite may need a second TERM) and removes their data.
emu_stop() {
  local p i alive
  for p in "${EMU_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for i in $(seq 50); do
    alive=0
    for p in "${EMU_PIDS[@]}"; do if kill -0 "$p" 2>/dev/null; then alive=1; fi; done
    if [ "$alive" = 0 ]; then break; fi
    if [ "$i" = 20 ]; then for p in "${EMU_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; fi
    sleep 0.1
  done
  for p in "${EMU_PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  EMU_PIDS=()
  if [ -n "$EMU_DIR" ]; then rm -rf "$EMU_DIR"; fi
}
