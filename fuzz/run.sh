#!/usr/bin/env bash
# Runs every Talos fuzz target for a while and fails if any of them crashes.
#
#   fuzz/run.sh [seconds-per-target]      (default 20)
#
# Environment:
#   TALOS_FUZZ_TARGETS  space-separated targets to run (default: all, from `cargo fuzz list`)
#   TALOS_FUZZ_SCRATCH  where the growing corpus lives (default: fuzz/target/corpus, ignored by
#                       git); the committed seeds in fuzz/corpus/<target>/seed-* are only read.
#
# Limits: -rss_limit_mb=2048 bounds a run's memory; -malloc_limit_mb=512 fails on any single
# allocation of 512 MiB or more. The largest message any decoder accepts is a sync response of
# 16 MiB (see protocols/sync/src/limits.rs), and every repeated field is counted before prost
# allocates, so no single allocation comes near 512 MiB unless a bound is broken.
# Crashes are written to fuzz/artifacts/<target>/ (ignored by git); reproduce one with
#   RUSTC_BOOTSTRAP=1 cargo fuzz run <target> fuzz/artifacts/<target>/<file>
set -euo pipefail

seconds="${1:-20}"
fuzz_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$fuzz_dir")"
scratch="${TALOS_FUZZ_SCRATCH:-$fuzz_dir/target/corpus}"
export PATH="$HOME/.cargo/bin:$PATH"
# cargo-fuzz needs nightly-only rustc flags (sanitizers, -Z options); this lets the stable
# toolchain accept them.
export RUSTC_BOOTSTRAP=1

cd "$root"
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked
fi

if [[ -n "${TALOS_FUZZ_TARGETS:-}" ]]; then
    read -r -a targets <<<"$TALOS_FUZZ_TARGETS"
else
    mapfile -t targets < <(cargo fuzz list)
fi

failed=()
for target in "${targets[@]}"; do
    echo "=== fuzzing $target for ${seconds}s" >&2
    mkdir -p "$scratch/$target"
    # The first corpus directory receives new inputs; the committed seeds are read only.
    if ! cargo fuzz run "$target" "$scratch/$target" "fuzz/corpus/$target" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=512 -timeout=10 \
        -print_final_stats=1; then
        failed+=("$target")
    fi
done

if ((${#failed[@]})); then
    echo "FAILED fuzz targets: ${failed[*]} (see fuzz/artifacts/)" >&2
    exit 1
fi
echo "all ${#targets[@]} fuzz targets ran ${seconds}s without a crash" >&2
