#!/usr/bin/env bash
# Real-world check: runs the test suites of widely used concurrent crates from
# crates.io under umbra (`cargo umbra test`) and under stock ThreadSanitizer
# (rustc's own runtime: RUSTFLAGS=-Zsanitizer=thread, -Zbuild-std), and prints a
# table: tests passed/failed, reports by kind, time and peak memory of the test
# binaries, for both.
#
#   scripts/realworld.sh                 # all crates below
#   scripts/realworld.sh parking_lot     # only crates whose name contains a word
#
# Not part of `cargo test`: it downloads crates (with cargo, from crates.io) and
# takes a while (std is built twice with -Zbuild-std; each crate's suite runs twice).
# Needs the nightly toolchain with rust-src and GNU time (/usr/bin/time).
#
# What it does, for each crate (pinned versions below):
#   1. `cargo fetch`es the pinned version through a scratch package and copies the
#      published source to target/realworld/src/NAME-VERSION (made its own
#      workspace). The dev-dependencies are pinned by scripts/realworld-locks/
#      NAME-VERSION.lock when present (written from the first run otherwise).
#   2. umbra:  cargo umbra test --no-fail-fast (target/realworld/umbra-target).
#      stock:  cargo +nightly test -Zbuild-std --target HOST --no-fail-fast with
#              RUSTFLAGS=RUSTDOCFLAGS=-Zsanitizer=thread (target/realworld/stock-target).
#      Each is built first (`--no-run`, not timed), then run with a runner that
#      records each test binary's wall time and peak RSS (GNU time); each run is
#      limited to $UMBRA_RW_TIMEOUT seconds (default 900). UMBRA_RW_RUNTIMES=umbra
#      (or stock) reruns one side only; the table then uses the other's last logs;
#      UMBRA_RW_RUNTIMES= (empty) only prints the table.
#   3. Counts `test result:` lines, `WARNING: ThreadSanitizer: KIND` reports (stdout
#      and stderr: rustdoc prints a failed doctest's stderr on stdout) and the test
#      binaries that exited non-zero.
# Both runtimes get TSAN_OPTIONS=atexit_sleep_ms=0 (stock otherwise sleeps 1 s at the
# exit of every test binary; umbra never does) unless TSAN_OPTIONS is set.
#
# Output: the table on stdout and in target/realworld/table.md; full logs in
# target/realworld/logs/NAME-{umbra,stock}.log; the distinct SUMMARY lines of each
# run in target/realworld/logs/NAME-{umbra,stock}.summaries.
set -uo pipefail

CRATES=(
  crossbeam-channel@0.5.17
  crossbeam-deque@0.8.8
  crossbeam-epoch@0.9.21
  crossbeam-queue@0.3.14
  parking_lot@0.12.5
  rayon-core@1.13.0
  once_cell@1.21.4
)

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$ROOT/target/realworld"
LOCKS="$ROOT/scripts/realworld-locks"
TIMEOUT="${UMBRA_RW_TIMEOUT:-900}"
# Which runtimes to run ("umbra stock"); the table reads the other's last logs.
# Set but empty: only print the table from the last logs.
RUNTIMES="${UMBRA_RW_RUNTIMES-umbra stock}"
export TSAN_OPTIONS="${TSAN_OPTIONS:-atexit_sleep_ms=0}"
HOST="$(rustc +nightly -vV | sed -n 's/^host: //p')"
mkdir -p "$WORK/src" "$WORK/logs" "$WORK/fetch/src"

if [ ! -x /usr/bin/time ]; then
  echo "realworld.sh: needs GNU time (/usr/bin/time; Debian: apt-get install time)" >&2
  exit 1
fi

# Selection by the command-line words.
selected=()
for spec in "${CRATES[@]}"; do
  if [ $# -eq 0 ]; then selected+=("$spec"); continue; fi
  for word in "$@"; do
    case "$spec" in *"$word"*) selected+=("$spec"); break ;; esac
  done
done
[ ${#selected[@]} -gt 0 ] || { echo "realworld.sh: no crate matches: $*" >&2; exit 1; }

echo "== building cargo-umbra and umbra" >&2
(cd "$ROOT" && cargo build --release --quiet --bin umbra --bin cargo-umbra) || exit 1
CARGO_UMBRA="$ROOT/target/release/cargo-umbra"
export UMBRA_CACHE_DIR="$WORK/umbra-cache"

# 1. Fetch the pinned versions through a scratch package.
{
  printf '[package]\nname = "realworld-fetch"\nversion = "0.0.0"\nedition = "2021"\n\n[dependencies]\n'
  for spec in "${selected[@]}"; do
    printf '%s = "=%s"\n' "${spec%@*}" "${spec#*@}"
  done
  printf '\n[workspace]\n'
} > "$WORK/fetch/Cargo.toml"
touch "$WORK/fetch/src/lib.rs"
echo "== fetching ${selected[*]}" >&2
(cd "$WORK/fetch" && cargo fetch --quiet) || exit 1
REGISTRY_SRC="${CARGO_HOME:-$HOME/.cargo}/registry/src"

# The runner: each test binary's wall time, peak RSS and exit status.
RUNNER="$WORK/runner.sh"
cat > "$RUNNER" <<'EOF'
#!/bin/sh
exec /usr/bin/time -a -o "$UMBRA_RW_MEASURE" -f "measure %e %M %x" "$@"
EOF
chmod +x "$RUNNER"

# run_suite NAME DIR RUNTIME: builds, then runs the crate's tests; writes the log and
# the measurements.
run_suite() {
  local name="$1" dir="$2" rt="$3"
  local log="$WORK/logs/$name-$rt.log" measure="$WORK/logs/$name-$rt.measure"
  rm -f "$measure"
  local -a cmd env_args
  if [ "$rt" = umbra ]; then
    cmd=("$CARGO_UMBRA" umbra test --no-fail-fast --target-dir "$WORK/umbra-target")
    env_args=()
  else
    cmd=(cargo +nightly test -Zbuild-std --target "$HOST" --no-fail-fast --target-dir "$WORK/stock-target")
    env_args=(RUSTFLAGS=-Zsanitizer=thread RUSTDOCFLAGS=-Zsanitizer=thread)
  fi
  echo "== $name on $rt: building" >&2
  (cd "$dir" && env "${env_args[@]}" timeout "$TIMEOUT" "${cmd[@]}" --no-run) > "$log.build" 2>&1
  echo "== $name on $rt: testing" >&2
  local start end
  start=$(date +%s.%N)
  (cd "$dir" && env "${env_args[@]}" UMBRA_RW_MEASURE="$measure" \
     CARGO_TARGET_$(echo "$HOST" | tr 'a-z-' 'A-Z_')_RUNNER="$RUNNER" \
     timeout "$TIMEOUT" "${cmd[@]}") > "$log" 2>&1
  local status=$?
  end=$(date +%s.%N)
  echo "exit $status wall $(awk "BEGIN{print $end - $start}")" > "$log.status"
  grep -a "^SUMMARY: ThreadSanitizer" "$log" | sed 's/(pid=[0-9]*)//' | sort | uniq -c | sort -rn \
    > "$WORK/logs/$name-$rt.summaries"
}

for spec in "${selected[@]}"; do
  crate="${spec%@*}" version="${spec#*@}" name="$crate-$version"
  src="$(ls -d "$REGISTRY_SRC"/*/"$name" 2>/dev/null | head -1)"
  [ -n "$src" ] || { echo "realworld.sh: $name not in $REGISTRY_SRC after cargo fetch" >&2; exit 1; }
  dir="$WORK/src/$name"
  if [ ! -d "$dir" ]; then
    cp -r "$src" "$dir"
    printf '\n[workspace]\n' >> "$dir/Cargo.toml"
  fi
  if [ -f "$LOCKS/$name.lock" ]; then
    cp "$LOCKS/$name.lock" "$dir/Cargo.lock"
  else
    (cd "$dir" && cargo +nightly generate-lockfile --quiet) && mkdir -p "$LOCKS" && cp "$dir/Cargo.lock" "$LOCKS/$name.lock"
  fi
  for rt in $RUNTIMES; do
    run_suite "$name" "$dir" "$rt"
  done
done

# 3. The table.
python3 - "$WORK" "${selected[@]}" <<'EOF'
import re, sys, collections
work, specs = sys.argv[1], sys.argv[2:]

def stats(name, rt):
    base = f"{work}/logs/{name}-{rt}"
    text = open(base + ".log", errors="replace").read()
    passed = sum(int(m) for m in re.findall(r"test result: \w+\. (\d+) passed", text))
    failed = sum(int(m) for m in re.findall(r"test result: \w+\. \d+ passed; (\d+) failed", text))
    kinds = collections.Counter(re.findall(r"WARNING: ThreadSanitizer: (.+?) \(pid=", text))
    status = open(base + ".log.status").read().split()
    exit_code, wall = int(status[1]), float(status[3])
    secs, peak, bad = 0.0, 0, 0
    try:
        for line in open(base + ".measure"):
            f = line.split()
            if f and f[0] == "measure":
                secs += float(f[1]); peak = max(peak, int(f[2])); bad += f[3] != "0"
            elif "terminated by signal" in line:
                bad += 1
    except FileNotFoundError:
        pass
    return dict(passed=passed, failed=failed, kinds=kinds, exit=exit_code, wall=wall,
                secs=secs, peak=peak, bad=bad, timeout=exit_code == 124)

def kinds(k):
    return ", ".join(f"{n} {kind}" for kind, n in k.most_common()) or "none"

rows = ["| crate | runtime | tests passed / failed | binaries exiting non-zero | reports | test time (s) | peak RSS (MiB) |",
        "|---|---|---|---|---|---|---|"]
totals = {"umbra": [0.0, 0], "stock": [0.0, 0]}
for spec in specs:
    crate, version = spec.split("@")
    name = f"{crate}-{version}"
    for rt in ("umbra", "stock"):
        s = stats(name, rt)
        note = " (timed out)" if s["timeout"] else ""
        rows.append(f"| {crate} {version} | {rt} | {s['passed']} / {s['failed']}{note} | {s['bad']} | "
                    f"{kinds(s['kinds'])} | {s['secs']:.1f} | {s['peak'] / 1024:.0f} |")
        totals[rt][0] += s["secs"]; totals[rt][1] = max(totals[rt][1], s["peak"])
u, st = totals["umbra"], totals["stock"]
rows.append(f"| **all** | umbra | | | | {u[0]:.1f} | {u[1] / 1024:.0f} |")
rows.append(f"| **all** | stock | | | | {st[0]:.1f} | {st[1] / 1024:.0f} |")
if st[0] > 0 and st[1] > 0:
    rows.append("")
    rows.append(f"umbra/stock: time {u[0] / st[0]:.2f}x, peak memory {u[1] / st[1]:.2f}x "
                "(test time = sum over the test binaries; peak = largest test binary).")
table = "\n".join(rows)
print(table)
open(f"{work}/table.md", "w").write(table + "\n")
EOF
