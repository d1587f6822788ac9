#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) in build-fuzz/ and runs each for
# N seconds (default 30) from the seed corpus in fuzz/corpus/. Crashes land in build-fuzz/.
# FUZZ_RUNS=1000000 scripts/fuzz.sh runs each target for that many iterations instead.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
seconds="${1:-30}"
if ! command -v clang++ >/dev/null || ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends clang libclang-rt-14-dev >/dev/null
fi
cmake -S "$root" -B "$root/build-fuzz" -DCMAKE_CXX_COMPILER=clang++ -DKV_FUZZ=ON -DKV_BUILD_TESTS=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$root/build-fuzz" -j "${KV_JOBS:-2}" --target fuzz_frame_headers fuzz_detection_record fuzz_jpeg fuzz_broker_request fuzz_http_request
cd "$root/build-fuzz"
for t in frame_headers detection_record jpeg broker_request http_request; do
  mkdir -p "corpus/$t"
  echo "fuzz: $t for ${seconds}s"
  # In CI the run is reproducible (fixed seed and run count), so a red build always means a bug
  # that can be replayed; by hand it explores for the given time.
  if [ -n "${FUZZ_RUNS:-}" ]; then  # a fixed number of iterations per target
    budget=(-runs="$FUZZ_RUNS")
  elif [ "${CI:-}" = "true" ]; then
    budget=(-seed=1 -runs="$((seconds * 15000))" -max_total_time="$((seconds * 3))")
  else
    budget=(-max_total_time="$seconds")
  fi
  "./fuzz/fuzz_$t" "${budget[@]}" -max_len=65536 "corpus/$t" "$root/fuzz/corpus/$t" >"fuzz_$t.log" 2>&1 \
    || { tail -n 30 "fuzz_$t.log"; echo "fuzz: fuzz_$t failed; the input is in build-fuzz/"; exit 1; }
  tail -n 1 "fuzz_$t.log"
done
