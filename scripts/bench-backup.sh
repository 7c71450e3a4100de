#!/usr/bin/env bash
# Backup/restore benchmark on the filesystem backend, next to the floor of
# this machine (tar | zstd -1 and back) on the same data, in one run.
#   ./scripts/bench-backup.sh [objects per class] [dims]     (defaults 100000 128)
# BENCH_DIST picks the vector distribution (random, clustered, realistic;
# default clustered, the quickest to index).
# LATENCY_ROUNDS (default 5) is how many idle/backup rounds the latency
# measurement pools.
# Two classes are imported; results are printed for docs/benchmarks.md.
#
# BENCH_SCENARIO=after-import measures a backup that starts two seconds
# after a large import, while pebble still compacts what it wrote: random
# vectors imported in batches of 500 by 2 workers, then a probe issuing a
# single-object GET and a 10-object batch write (into the first class, same
# dims) every 20 ms — 5 s idle baseline, then during the backup — and the
# floor `tar | zstd -1 -T2` of the same data directory after the server
# stopped and `sync`.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-100000}" DIMS="${2:-128}" PORT="${PORT:-18090}" DIST="${BENCH_DIST:-clustered}"
WORK="$(mktemp -d /tmp/strata-bench.XXXXXX)"
PID=""
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null || true; { [ -z "$PID" ] || wait "$PID" 2>/dev/null || true; }; rm -rf "$WORK"' EXIT

go build -o "$WORK/strata" ./cmd/strata
go build -o "$WORK/strata-bench" ./cmd/strata-bench
# BENCH_CLOUD=1 also measures the s3, gcs and azure backends against the
# emulators of scripts/emulators.sh, next to the filesystem in the same run.
MODULES=backup-filesystem
if [ "${BENCH_CLOUD:-}" = 1 ]; then
  source scripts/emulators.sh
  emu_install
  trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null || true; emu_stop; rm -rf "$WORK"' EXIT
  emu_start
  export BACKUP_S3_BUCKET=strata-bench BACKUP_S3_ENDPOINT="${S3_ENDPOINT#http://}" BACKUP_S3_USE_SSL=false
  export BACKUP_GCS_BUCKET=strata-bench BACKUP_GCS_USE_AUTH=false GOOGLE_CLOUD_PROJECT=strata-bench
  export BACKUP_AZURE_CONTAINER=strata-bench
  for b in s3 gcs azure; do "$WORK/strata-bench" mkbucket --backend "$b"; done
  MODULES=backup-filesystem,backup-s3,backup-gcs,backup-azure
fi
ENABLE_MODULES="$MODULES" PERSISTENCE_DATA_PATH="$WORK/data" BACKUP_FILESYSTEM_PATH="$WORK/backups" \
  "$WORK/strata" serve --port "$PORT" > "$WORK/server.log" 2>&1 &
PID=$!
URL="http://127.0.0.1:$PORT"
until curl -sf "$URL/v1/.well-known/ready" > /dev/null; do sleep 0.1; done

if [ "${BENCH_SCENARIO:-}" = after-import ]; then
  echo "== after-import: import 2 x $N x $DIMS (random, batches of 500, 2 workers), backup 2 s later"
  seed=0
  for c in BenchA BenchB; do
    seed=$((seed + 1))
    "$WORK/strata-bench" import --url "$URL" --class "$c" --objects "$N" --dims "$DIMS" --dist random --batch 500 --workers 2 --seed "$seed"
  done
  echo "data directory: $(du -sh "$WORK/data" | cut -f1)"
  sleep 2
  "$WORK/strata-bench" backup --url "$URL" --classes BenchA,BenchB --id after-import --pid "$PID" \
    --latency --idle 5s --interval 20ms --write-class BenchA --write-dims "$DIMS" --restore
  kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""
  grep -E 'msg="(backup|restore) ' "$WORK/server.log" | sed 's/^time=[^ ]* //' || true
  sync
  start=$(date +%s.%N)
  tar -cf - -C "$WORK/data" . | zstd -1 -q -T2 > "$WORK/floor.tar.zst"
  sync "$WORK/floor.tar.zst"
  end=$(date +%s.%N)
  echo "floor tar | zstd -1 -T2: $(echo "$end - $start" | bc) s, $(du -sh "$WORK/floor.tar.zst" | cut -f1)"
  exit 0
fi

echo "== import 2 x $N x $DIMS ($DIST)"
"$WORK/strata-bench" import --url "$URL" --class BenchA --objects "$N" --dims "$DIMS" --dist "$DIST" --seed 1
"$WORK/strata-bench" import --url "$URL" --class BenchB --objects "$N" --dims "$DIMS" --dist "$DIST" --seed 2
echo "data directory: $(du -sh "$WORK/data/classes" | cut -f1)"

echo "== strata backup + restore, default settings, no other load"
for i in 1 2; do
  "$WORK/strata-bench" backup --url "$URL" --classes BenchA,BenchB --id "bench$i" --pid "$PID" --restore
done
echo "backup size on disk: $(du -sh "$WORK/backups/bench1" | cut -f1)"
if [ "${BENCH_CLOUD:-}" = 1 ]; then
  for b in s3 gcs azure; do
    echo "== $b backup + restore (emulator on loopback)"
    "$WORK/strata-bench" backup --backend "$b" --url "$URL" --classes BenchA,BenchB --id "bench-$b" --pid "$PID" --restore
  done
fi
echo "== latency of single GETs and 10-object batches, idle vs during a backup"
"$WORK/strata-bench" backup --url "$URL" --classes BenchA,BenchB --id bench-latency --pid "$PID" --latency --rounds "${LATENCY_ROUNDS:-5}"

kill "$PID"; wait "$PID" 2>/dev/null || true
echo "== floor: tar -c | zstd -1 > file; zstd -d | tar -x (the backed-up classes' directories, fsynced)"
sync
start=$(date +%s.%N)
# Only the two classes the backups hold, not the latency run's writes.
tar -c -C "$WORK/data" classes/BenchA classes/BenchB | zstd -1 -q -T1 > "$WORK/floor.tar.zst"
sync "$WORK/floor.tar.zst"
end=$(date +%s.%N)
echo "tar | zstd -1: $(echo "$end - $start" | bc) s, $(du -sh "$WORK/floor.tar.zst" | cut -f1)"
mkdir "$WORK/floor-x"
start=$(date +%s.%N)
zstd -d -q -c "$WORK/floor.tar.zst" | tar -x -C "$WORK/floor-x"
sync
end=$(date +%s.%N)
echo "zstd -d | tar -x: $(echo "$end - $start" | bc) s"
