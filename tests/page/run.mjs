// Page tests: the real page in headless Chromium (Debian's /usr/bin/chromium) driven by
// playwright-core. Prints cargo-style "test result:" so build.sh can count the results.
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { chromium } from 'playwright-core';
import { serve } from './serve.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const WWW = path.join(ROOT, 'www');
const SHOTS = path.join(ROOT, 'target', 'page-screenshots');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const BASE_ARGS = [
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];
const WEBGPU_ARGS = ['--enable-unsafe-webgpu'];

fs.mkdirSync(SHOTS, { recursive: true });
for (const f of ['pkg/diffusion_playground_bg.wasm', 'vendor/uPlot.esm.js']) {
  if (!fs.existsSync(path.join(WWW, f))) {
    console.error(`www/${f} is missing: run ./build.sh build first`);
    process.exit(1);
  }
}

const server = await serve(WWW, 0);
const BASE = `http://127.0.0.1:${server.address().port}/`;

async function withPage(args, fn, viewport = { width: 1100, height: 900 }) {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dplay-chromium-'));
  const ctx = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...BASE_ARGS, ...args],
    viewport,
  });
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  const problems = [];
  page.on('console', (m) => {
    // A test that takes the default digit model off the server: the page asks for it and says
    // so; the browser logs the 404 itself.
    if (m.type() === 'error' && /weights\/ddpm_digits\//.test(m.location()?.url ?? '') && /404/.test(m.text())) return;
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  // All computation belongs in the worker: record any wasm compiled on the main thread (init
  // scripts run in the page, not in its workers). Long tasks are recorded for the log only; how
  // long a task takes on a loaded 2-core machine is a benchmark, not a test. Long animation
  // frames name their scripts, which tells the page's own code (this origin's modules) from the
  // test's probes (page.evaluate reading canvases) and from rendering.
  await page.addInitScript(() => {
    window.__mainThreadWasm = [];
    window.__longTasks = [];
    window.__pageScripts = [];
    for (const name of ['compile', 'compileStreaming', 'instantiate', 'instantiateStreaming']) {
      const original = WebAssembly[name];
      WebAssembly[name] = function (...args) {
        window.__mainThreadWasm.push(name);
        return original.apply(this, args);
      };
    }
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__longTasks.push(e.duration);
    }).observe({ type: 'longtask', buffered: true });
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        for (const sc of e.scripts) {
          if (sc.sourceURL.startsWith(location.origin)) window.__pageScripts.push({ ms: sc.duration, where: `${sc.sourceURL.slice(location.origin.length)} ${sc.invoker}` });
        }
      }
    }).observe({ type: 'long-animation-frame', buffered: true });
  });
  try {
    await fn(page, problems);
  } finally {
    await ctx.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
}

function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

// Fraction of canvas pixels that are not near-white: the drawing is visible. `id` is an element id
// or a CSS selector.
async function inkFraction(page, id) {
  return page.evaluate((id) => {
    const c = document.getElementById(id) ?? document.querySelector(id);
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let ink = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && d[i] + d[i + 1] + d[i + 2] < 600) ink++;
    return ink / (c.width * c.height);
  }, id);
}

async function checkHealthy(page, problems) {
  const { wasm, long, own } = await page.evaluate(() => ({ wasm: window.__mainThreadWasm, long: window.__longTasks, own: window.__pageScripts }));
  assert(wasm.length === 0, `wasm ran on the main thread (${wasm.join(', ')}); it belongs in the worker`);
  if (long.length) {
    const worst = own.reduce((a, b) => (b.ms > a.ms ? b : a), { ms: 0, where: '–' });
    console.log(`    (info) longest main-thread task ${Math.max(...long).toFixed(0)} ms; longest run of the page's own scripts ${worst.ms.toFixed(0)} ms (${worst.where})`);
  }
  assert(problems.length === 0, problems.join('\n'));
}

async function exercise(page, problems, { hash, backend, shot, waitDone }) {
  await page.goto(`${BASE}${hash}`);
  await page.waitForSelector('body[data-ready="1"]', { timeout: 120_000 });
  const shown = await page.getAttribute('body', 'data-backend');
  assert(shown === backend, `expected backend ${backend}, page is on ${shown}`);
  assert((await page.textContent('#backend')).length > 0, 'backend badge is empty');

  // Forward: scrub to t = 500 and see the noised cloud.
  await page.evaluate(() => {
    const s = document.getElementById('t-scrub');
    s.value = '500';
    s.dispatchEvent(new Event('input'));
  });
  await page.waitForSelector('body[data-forward-t="500"]', { timeout: 60_000 });
  assert((await page.textContent('#t-value')) === '500', 't readout does not follow the scrubber');
  assert((await inkFraction(page, 'forward-canvas')) > 0.002, 'forward canvas is blank');

  // Reverse: the sampling animation starts by itself and the counter advances.
  await page.waitForFunction(() => Number(document.body.dataset.reverseStep ?? 0) >= 10, null, { timeout: 120_000 });
  // It goes on, or has finished in the meantime (a fast machine, a short walk).
  const a = Number(await page.textContent('#step-counter'));
  await page.waitForFunction(
    (a) => Number(document.getElementById('step-counter').textContent) > a || document.body.dataset.reverseDone === '1',
    a,
    { timeout: 120_000 },
  );
  assert((await inkFraction(page, 'reverse-canvas')) > 0.002, 'reverse canvas is blank');
  await page.screenshot({ path: path.join(SHOTS, `${shot}-sampling.png`) });
  if (waitDone) {
    await page.waitForSelector('body[data-reverse-done="1"]', { timeout: 300_000 });
    assert((await page.textContent('#step-counter')) === '1000', 'sampling did not reach step 1000');
    await page.screenshot({ path: path.join(SHOTS, `${shot}-done.png`) });
  }
  await checkHealthy(page, problems);
}

async function ready(page, hash) {
  await page.goto('about:blank'); // a new document, not a same-document hash change
  await page.goto(`${BASE}${hash}`);
  await page.waitForSelector('body[data-ready="1"]', { timeout: 120_000 });
}

// Choose a value in a labelled control as a person would (keyboard-free but through its events).
async function choose(page, selector, value) {
  await page.evaluate(
    ([sel, v]) => {
      const el = document.querySelector(sel);
      if (el.type === 'checkbox') el.checked = v === '1';
      else el.value = v;
      el.dispatchEvent(new Event('change'));
    },
    [selector, value],
  );
}

function hashParams(page) {
  return page.evaluate(() => Object.fromEntries(new URLSearchParams(location.hash.slice(1))));
}

// The same settings, in any order (the hash lists them in the schema's order).
const sameParams = (a, b) => JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());

// Wait until the reverse panel finished `sampler` and return its recovered weights.
async function finished(page, sampler, timeout = 240_000) {
  await page.waitForFunction(
    (s) => document.body.dataset.reverseDone === '1' && document.body.dataset.reverseSampler === s,
    sampler,
    { timeout },
  );
  const w = JSON.parse(await page.getAttribute('body', 'data-weights'));
  assert(await page.isVisible('#weights'), `${sampler}: the weights table is not shown`);
  assert(w.length === 3 && w.every((v) => v >= 0 && v <= 1), `${sampler}: weights ${w}`);
  assert(Math.abs(w.reduce((a, b) => a + b, 0) - 1) < 1e-4, `${sampler}: weights do not sum to 1: ${w}`);
  const rows = await page.$$eval('#weights tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
  assert(rows.length === 3 && rows.every((r) => r.length === 3), `${sampler}: weights table ${JSON.stringify(rows)}`);
  return w;
}

const TRUE_WEIGHTS = [0.5, 0.3, 0.2];
// (0, 0), (1, 1), (-1, 0.5) in the hash's point encoding (www/points.js).
const THREE_POINTS = 'gAgAhkhkecgy';

// A panel's equation is typeset: its scripts are <sub>/<sup>, with no TeX (x_{t−1}) left in its text.
async function equationRendered(page, selector, label) {
  const text = await page.textContent(selector);
  assert(text.length > 0 && !/[_^{}]/.test(text), `${label}: ${selector} is not typeset: "${text}"`);
}

// Read a number a panel publishes on <body data-...>.
async function bodyNumber(page, key) {
  return Number(await page.evaluate((k) => document.body.dataset[k], key));
}

// Destroy the page's GPUDevice through the worker's test hook and wait until the session is on
// the CPU; a failed takeover fails here with the page's error.
async function loseDevice(page) {
  await page.evaluate(() => window.dplay.call('loseDevice'));
  await page.waitForSelector('body[data-recovered]', { state: 'attached', timeout: 300_000 });
  const state = await page.getAttribute('body', 'data-recovered');
  assert(state !== 'failed', `the CPU did not take over: ${await page.textContent('#error')}`);
  assert((await page.getAttribute('body', 'data-backend')) === 'flex', 'the fallback left the page off the CPU');
}

// The CLI the round trips run: build.sh builds it before the page tests.
const DPLAY = process.env.DPLAY ?? path.join(ROOT, 'target', 'debug', 'dplay');
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'dplay-page-'));

function dplay(...args) {
  if (!fs.existsSync(DPLAY)) throw new Error(`${DPLAY} is missing: the round trips need the CLI (./build.sh test builds it first)`);
  return execFileSync(DPLAY, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

// A float32 .npy (version 1, little-endian, C order) as a Float32Array.
function readNpy(file) {
  const b = fs.readFileSync(file);
  const len = b.readUInt16LE(8);
  const header = b.toString('latin1', 10, 10 + len);
  assert(header.includes("'<f4'") && header.includes("'fortran_order': False"), `not a float32 .npy: ${header}`);
  const start = 10 + len;
  return new Float32Array(b.buffer.slice(b.byteOffset + start, b.byteOffset + b.length));
}

// The reverse panel's finished sample (after `finished`).
const pageSample = (page) => page.evaluate(() => Array.from(window.dplay.reverse.frame.x));

// The page's samples (wasm on flex: SIMD128) against the CLI's (native flex: AVX), the same
// operations in another summation order: each step's f32 error (~1e-7 relative) passes through
// a few DDIM steps of an untrained-to-lightly-trained MLP with Lipschitz constant of order one,
// so 1e-4 on points of magnitude ≤ 10 bounds it with room, and a different seed, step count or
// model misses it by orders of magnitude.
function assertSameSamples(a, b, what) {
  assert(a.length === b.length, `${what}: ${a.length} values on the page, ${b.length} from the CLI`);
  let err = 0;
  for (let i = 0; i < a.length; i++) err = Math.max(err, Math.abs(a[i] - b[i]));
  assert(err <= 1e-4, `${what}: max |page − CLI| = ${err}`);
  return err;
}

// Press a training button and wait until the report it triggers has arrived.
async function trainStep(page) {
  const reports = await bodyNumber(page, 'trainReports') || 0;
  await page.click('#train-step');
  try {
    await page.waitForFunction(
      (r) => document.body.dataset.trainBusy === '0' && Number(document.body.dataset.trainReports ?? 0) > r,
      reports,
      { timeout: 300_000 },
    );
  } catch (e) {
    const d = await page.evaluate(() => JSON.stringify(document.body.dataset));
    throw new Error(`training step did not finish (${reports} reports before): ${d}\n${e.message}`);
  }
  assert(await page.isHidden('#error'), `training failed: ${await page.textContent('#error')}`);
}

// Draw a stroke with the mouse: `pts` in data coordinates of the drawing canvas ([-4, 4]²).
async function drawStroke(page, pts) {
  await page.locator('#draw-canvas').scrollIntoViewIfNeeded();
  const box = await page.$eval('#draw-canvas', (c) => {
    const r = c.getBoundingClientRect();
    return { x: r.left, y: r.top, w: r.width, h: r.height };
  });
  const px = ([x, y]) => [box.x + ((x + 4) / 8) * box.w, box.y + ((4 - y) / 8) * box.h];
  await page.mouse.move(...px(pts[0]));
  await page.mouse.down();
  for (const p of pts.slice(1)) await page.mouse.move(...px(p), { steps: 2 });
  await page.mouse.up();
}

async function uploadCsv(page, name, text) {
  await page.setInputFiles('#csv-file', { name, mimeType: 'text/csv', buffer: Buffer.from(text) });
}

async function dataMessage(page) {
  await page.waitForFunction(() => document.body.dataset.dataMessage !== undefined);
  return { kind: await page.evaluate(() => document.body.dataset.dataMessage), text: await page.textContent('#data-message') };
}

// Image mode. The reference UNet (diffusers' UNet2DModel, ../shared/reference/ref_small_unet, or
// $DPLAY_REFERENCE_DIR as for the native tests) is dropped onto the page like a user's folder.
const REFERENCE = process.env.DPLAY_REFERENCE_DIR ?? path.join(ROOT, '../shared/reference');
const REF_UNET = path.join(REFERENCE, 'ref_small_unet');
const UNET_FILES = ['config.json', 'diffusion_pytorch_model.safetensors'];

function referenceFile(name) {
  assert(fs.existsSync(path.join(REFERENCE, 'sched_ref.json')),
    `reference data not found in ${REFERENCE}; set DPLAY_REFERENCE_DIR to the folder holding sched_ref.json`);
  return path.join(REF_UNET, name);
}

// A float32 C-order .npy file: { data, shape }.
function readNpyF32(file) {
  const b = fs.readFileSync(file);
  const major = b[6];
  const at = major === 1 ? 10 : 12;
  const hlen = major === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
  const header = b.subarray(at, at + hlen).toString('latin1');
  assert(/'descr': '<f4'/.test(header) && /'fortran_order': False/.test(header), `${file}: not float32 C order: ${header}`);
  const shape = /'shape': \(([^)]*)\)/.exec(header)[1].split(',').map((v) => v.trim()).filter(Boolean).map(Number);
  const bytes = b.subarray(at + hlen);
  return { data: new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)), shape };
}

// A scratch folder holding the reference UNet's files, with `config` changes (JSON text or an
// object merged into the reference config) or without the files named in `drop`.
function unetFolder(name, { config = null, drop = [] } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `dplay-${name}-`));
  const out = path.join(dir, name);
  fs.mkdirSync(out);
  for (const f of UNET_FILES) {
    if (drop.includes(f)) continue;
    if (f === 'config.json' && config !== null) {
      const text = typeof config === 'string'
        ? config
        : JSON.stringify({ ...JSON.parse(fs.readFileSync(referenceFile(f), 'utf8')), ...config });
      fs.writeFileSync(path.join(out, f), text);
    } else fs.copyFileSync(referenceFile(f), path.join(out, f));
  }
  return out;
}

// Drop files onto the model panel's drop zone, as a drag from the desktop would.
async function dropFiles(page, dir) {
  const payload = fs.readdirSync(dir).map((name) => ({ name, b64: fs.readFileSync(path.join(dir, name)).toString('base64') }));
  await page.locator('#model-drop').scrollIntoViewIfNeeded();
  await page.evaluate((files) => {
    const dt = new DataTransfer();
    for (const { name, b64 } of files) {
      const bin = atob(b64);
      const bytes = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
      dt.items.add(new File([bytes], name));
    }
    const zone = document.getElementById('model-drop');
    zone.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, payload);
}

// The model panel's message after a load: { kind, text }. Waits for the check to finish.
async function modelMessage(page) {
  await page.waitForFunction(() => {
    const k = document.body.dataset.modelMessage;
    return k === 'ok' || k === 'error' || (k === 'info' && !/Checking/.test(document.getElementById('model-message').textContent));
  }, null, { timeout: 240_000 });
  return { kind: await page.evaluate(() => document.body.dataset.modelMessage), text: await page.textContent('#model-message') };
}

async function loadReference(page, how) {
  if (how === 'drop') await dropFiles(page, REF_UNET);
  else await page.setInputFiles('#model-dir', REF_UNET);
  const m = await modelMessage(page);
  assert(m.kind === 'ok', `the reference UNet did not load: ${JSON.stringify(m)}`);
  // The simulated drop decodes 6 MB of base64 on the main thread: the test's work, not the page's.
  if (how === 'drop') await page.evaluate(() => { window.__longTasks = []; window.__pageScripts = []; });
}

// A canvas's grey levels (0..255): their spread (standard deviation: a drawn image or grid has
// structure, a blank or single-colour canvas has none), and the fractions that are background
// (< 60), ink (> 190) and in between (an MNIST digit is ~80% background and ~10% ink; Gaussian
// noise at the same scale is ~30% of each).
async function greyStats(page, selector) {
  return page.evaluate((sel) => {
    const c = document.querySelector(sel);
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let s = 0;
    let s2 = 0;
    let dark = 0;
    let ink = 0;
    const n = d.length / 4;
    for (let i = 0; i < d.length; i += 4) {
      const g = (d[i] + d[i + 1] + d[i + 2]) / 3;
      s += g;
      s2 += g * g;
      if (g < 60) dark++;
      else if (g > 190) ink++;
    }
    return {
      spread: Math.sqrt(Math.max(0, s2 / n - (s / n) ** 2)),
      dark: dark / n,
      ink: ink / n,
      mid: 1 - (dark + ink) / n,
    };
  }, selector);
}

async function pixelSpread(page, selector) {
  return (await greyStats(page, selector)).spread;
}

async function scrub(page, t) {
  await page.evaluate((t) => {
    const s = document.getElementById('t-scrub');
    s.value = String(t);
    s.dispatchEvent(new Event('input'));
  }, t);
  await page.waitForSelector(`body[data-forward-t="${t}"]`, { timeout: 120_000 });
}

// Every image-mode panel shows something: the forward image and its multiples, the charts, the
// grid (sampled, or a "no model" message), the SDEdit guide, the model panel's caption.
async function imagePanelsRender(page, label) {
  assert((await page.getAttribute('body', 'data-mode')) === 'images', `${label}: not in image mode`);
  for (const id of ['#score-panel', '#train-panel', '#reverse-canvas']) assert(await page.isHidden(id), `${label}: ${id} shows in image mode`);
  for (const id of ['#sdedit-panel', '#model-panel', '#pad-canvas', '#grid-xt']) assert(await page.isVisible(id), `${label}: ${id} is hidden`);
  assert((await page.getAttribute('body', 'data-forward-multiples')) === '5', `${label}: expected 5 small multiples`);
  for (let i = 1; i <= 5; i++) {
    const spread = await pixelSpread(page, `#forward-multiples figure:nth-child(${i}) canvas`);
    assert(spread > 10, `${label}: small multiple ${i} is blank (spread ${spread})`);
  }
  for (const sel of ['#forward-canvas', '#grid-xt', '#grid-x0', '#sd-guide']) {
    const spread = await pixelSpread(page, sel);
    assert(spread > 5, `${label}: ${sel} is blank (spread ${spread})`);
  }
  for (const sel of ['#chart-schedule canvas', '#chart-snr canvas']) assert((await inkFraction(page, sel)) > 0.01, `${label}: ${sel} is blank`);
  assert((await page.textContent('#model-caption')).startsWith('model:'), `${label}: no model caption`);
}

// The page's 10-step DDIM of the reference network against diffusers', pixel by pixel. The
// reference README asks for 1e-3, which is this map's float32 floor rather than a margin: the
// network agrees with PyTorch to 2.8e-6 at an output scale of 1.7 (summation order; measured in
// tests/image_lab.rs' reference run), and the 10-step map turns a relative 1e-6 change of x_T into
// ~1.8e-3 (tests/unet_reference.rs, "chaotic"), so any implementation that is not PyTorch's own
// lands at O(1e-3): measured 1.05e-3 on the page's CPU backend (1.07e-3 to 1.39e-3 natively) and
// 1.49e-3 on WebGPU. The bounds: 2e-3 on the CPU (as tests/unet_reference.rs); 3e-3 on WebGPU,
// whose exp (softmax, SiLU) WGSL specifies only to 3 + 2|x| ULP, about twice the CPU's per-forward
// disagreement. A real error is far outside both: without clipping the gap is > 1e-2, and with
// the sinusoidal embedding computed by the GPU's sin (WGSL: 2⁻¹¹ on [-π, π] only) it was 6.9e-3.
// The median pixel must agree to 2e-4 as well (measured ~5e-5): most of the image follows
// diffusers' trajectory closely.
const DDIM_TOLERANCE = { flex: 2e-3, webgpu: 3e-3 };
const DDIM_MEDIAN_TOLERANCE = 2e-4;

function maxAbsDiff(a, b) {
  assert(a.length === b.length, `lengths ${a.length} and ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function medianAbsDiff(a, b) {
  const d = Array.from(a, (v, i) => Math.abs(v - b[i])).sort((x, y) => x - y);
  return d[Math.floor(d.length / 2)];
}

// The page's DDIM against ddim10_x0.npy on `backend`, within the bounds above.
async function checkReferenceDdim(page, backend) {
  const want = readNpyF32(referenceFile('ddim10_x0.npy')).data;
  const got = await referenceDdim(page);
  const [max, median] = [maxAbsDiff(got, want), medianAbsDiff(got, want)];
  console.log(`    (info) ${backend} DDIM 10 against diffusers: max |Δ| = ${max.toExponential(3)}, median ${median.toExponential(2)}`);
  assert(max <= DDIM_TOLERANCE[backend], `DDIM 10 on ${backend}: max |Δ| = ${max} against diffusers`);
  assert(median <= DDIM_MEDIAN_TOLERANCE, `DDIM 10 on ${backend}: median |Δ| = ${median} against diffusers`);
}

// The page's deterministic DDIM (the reverse panel's grid, 10 steps, η = 0, leading spacing,
// x̂₀ clipped as diffusers' default scheduler) from the reference x_T; returns the final images.
async function referenceDdim(page) {
  const xT = readNpyF32(referenceFile('ddim_xT.npy'));
  assert(JSON.stringify(xT.shape) === '[4,1,28,28]', `x_T shape ${xT.shape}`);
  const x = await page.evaluate((init) => window.dplay.images.reverse.runFrom(Float32Array.from(init)).then(Array.from), Array.from(xT.data));
  assert((await page.textContent('#step-counter')) === '10', 'the reference DDIM did not take 10 steps');
  return x;
}

const tests = [
  [
    'webgpu: forward chain and live reverse sampling on WebGPU',
    () => withPage(WEBGPU_ARGS, async (page, problems) => {
      // SwiftShader runs WebGPU on the CPU, far slower than a GPU: check the animation is live and
      // leave the full 1000 steps to the flex test.
      await exercise(page, problems, { hash: '', backend: 'webgpu', shot: 'webgpu', waitDone: false });
      const adapter = await page.textContent('#adapter');
      assert(adapter.length > 0, 'adapter name is not shown');
      assert(await page.isHidden('#notice'), 'no fallback notice expected on WebGPU');
      // The score panel's learned field is read back from WebGPU asynchronously.
      assert((await inkFraction(page, 'score-canvas')) > 0.5, 'score canvas is blank on WebGPU');
    }),
  ],
  [
    'webgpu: predictor-corrector on the learned score and DDIM on the oracle',
    () => withPage(WEBGPU_ARGS, async (page, problems) => {
      // PC's Langevin corrector sizes its step from the batch's score norm: on WebGPU that must stay
      // on the device (a synchronous read panics). The oracle runs on the host. Few steps each:
      // SwiftShader compiles every new kernel slowly.
      await ready(page, '#sampler=pc&pc.steps=3&n=200&speed=3');
      await finished(page, 'pc', 400_000);
      await choose(page, '#source', 'oracle');
      await choose(page, '#sampler', 'ddim');
      await choose(page, '#opt-ddim-steps', '4');
      await finished(page, 'ddim', 300_000);
      await checkHealthy(page, problems);
    }),
  ],
  [
    'flex: the CPU backend on request (#backend=flex)',
    () => withPage(WEBGPU_ARGS, async (page, problems) => {
      await exercise(page, problems, { hash: '#backend=flex&speed=25', backend: 'flex', shot: 'flex', waitDone: true });
    }),
  ],
  [
    'fallback: without a WebGPU adapter the page runs on the CPU and says so',
    () => withPage(['--disable-gpu', '--disable-webgpu'], async (page, problems) => {
      await exercise(page, problems, { hash: '', backend: 'flex', shot: 'fallback', waitDone: false });
      assert(await page.isVisible('#notice'), 'the fallback notice is not visible');
      const text = await page.textContent('#notice');
      assert(/CPU/.test(text), `notice should say it runs on the CPU: ${text}`);
    }),
  ],
  [
    'hash state: n, seed and speed come from the URL',
    () => withPage(WEBGPU_ARGS, async (page, problems) => {
      await page.goto(`${BASE}#backend=flex&n=500&seed=7&speed=50`);
      await page.waitForSelector('body[data-ready="1"]', { timeout: 120_000 });
      assert((await page.inputValue('#n-points')) === '500', 'n not read from the hash');
      assert((await page.inputValue('#seed')) === '7', 'seed not read from the hash');
      assert((await page.inputValue('#speed')) === '50', 'speed not read from the hash');
      await checkHealthy(page, problems);
    }),
  ],
  [
    'forward panel: small multiples and the schedule charts with t marked',
    () => withPage(WEBGPU_ARGS, async (page, problems) => {
      await ready(page, '#backend=flex&n=1000');
      assert((await page.getAttribute('body', 'data-forward-multiples')) === '5', 'expected 5 small multiples');
      const inks = [];
      for (let i = 1; i <= 5; i++) inks.push(await inkFraction(page, `#forward-multiples figure:nth-child(${i}) canvas`));
      assert(inks.every((v) => v > 0.01), `a small multiple is blank: ${inks}`);
      const captions = await page.$$eval('#forward-multiples figcaption', (c) => c.map((e) => e.textContent));
      assert(captions[0] === 't = 0' && captions[4] === 't = 1000', `multiples captions ${captions}`);
      assert((await page.getAttribute('body', 'data-forward-charts')) === '2', 'expected 2 charts');
      // uPlot draws on a canvas inside each chart; the marker is an orange line at the current t.
      const chartInk = async () => [
        await inkFraction(page, '#chart-schedule canvas'),
        await inkFraction(page, '#chart-snr canvas'),
      ];
      const before = await chartInk();
      assert(before.every((v) => v > 0.01), `a chart is blank: ${before}`);
      const orange = () => page.evaluate(() => {
        const c = document.querySelector('#chart-snr canvas');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        const cols = new Set();
        for (let i = 0; i < d.length; i += 4) {
          if (d[i] > 200 && d[i + 1] > 60 && d[i + 1] < 120 && d[i + 2] < 40) cols.add((i / 4) % c.width);
        }
        return [...cols];
      });
      assert((await orange()).length === 0, 'no marker expected at t = 0');
      await page.evaluate(() => {
        const s = document.getElementById('t-scrub');
        s.value = '600';
        s.dispatchEvent(new Event('input'));
      });
      await page.waitForSelector('body[data-forward-t="600"]', { timeout: 60_000 });
      const cols = await orange();
      assert(cols.length > 0, 'the current t is not marked on the SNR chart');
      assert((await hashParams(page)).t === '600', 'the scrubber is not in the URL hash');
      await page.screenshot({ path: path.join(SHOTS, 'forward-panel.png') });
      await checkHealthy(page, problems);
    }),
  ],
  [
    'score panel: learned and true field over the density; error is large where density is low',
    () => withPage(WEBGPU_ARGS, async (page, problems) => {
      await ready(page, '#backend=flex&n=500&st=20');
      await page.waitForSelector('body[data-score-t="20"]', { timeout: 60_000 });
      assert((await inkFraction(page, 'score-canvas')) > 0.5, 'score heatmap is blank');
      await choose(page, '#score-arrows', 'both');
      await choose(page, '#score-heat', 'error');
      await page.waitForSelector('body[data-score-heat="error"]', { timeout: 60_000 });
      assert((await inkFraction(page, 'score-canvas')) > 0.5, 'error heatmap is blank');
      const { low, high, size } = await page.evaluate(() => {
        const f = window.dplay.score.field;
        const keep = (pred) => {
          const v = [];
          for (let i = 0; i < f.error.length; i++) if (pred(f.logP[i] / Math.LN10)) v.push(f.error[i]);
          return v.reduce((a, b) => a + b, 0) / v.length;
        };
        return { low: keep((l) => l < -8), high: keep((l) => l >= -2), size: f.size };
      });
      assert(size === 31, `grid size ${size}`);
      assert(low > 5 * high, `score error where p_t < 1e-8 (${low}) should exceed 5× the error where p_t ≥ 1e-2 (${high})`);
      await page.screenshot({ path: path.join(SHOTS, 'score-error.png') });
      // A finer grid is fetched again.
      await choose(page, '#score-grid', '21');
      await page.waitForFunction(() => window.dplay.score.field?.size === 21, null, { timeout: 60_000 });
      assert((await hashParams(page)).grid === '21', 'grid size is not in the hash');
      await checkHealthy(page, problems);
    }),
  ],
  [
    'score panel: plain and annealed Langevin side by side on the seeds\' mixture; annealing recovers ⅕/⅘, plain Langevin does not',
    () => withPage(WEBGPU_ARGS, async (page, problems) => {
      await ready(page, '#backend=flex&data=seeds&n=1000&seed=3');
      const truth = JSON.parse(await page.evaluate(() => JSON.stringify(window.dplay.reverse.trueWeights)));
      assert(truth.length === 2 && Math.abs(truth[0] - 0.2) < 1e-6, `the seeds' weights: ${truth}`);
      await page.locator('#pair-run').scrollIntoViewIfNeeded();
      await page.click('#pair-run');
      await page.waitForFunction(() => document.body.dataset.pairWeights !== undefined, null, { timeout: 300_000 });
      const [plain, annealed] = JSON.parse(await page.getAttribute('body', 'data-pair-weights'));
      for (const w of [plain, annealed]) assert(w.length === 2 && Math.abs(w[0] + w[1] - 1) < 1e-4, `weights ${w}`);
      // n = 1000 points: a weight's standard error is at most √(¼/1000) = 0.016. Annealed Langevin
      // on the exact score recovers π = (⅕, ⅘) to within 0.08 (5 SE, for the finite step size and
      // levels). Plain Langevin starts uniform on a box symmetric about both modes, and a particle
      // keeps the mode of its starting basin, so it gives about ½ each: 0.3 from π. The bound 0.15
      // lies 9 SE from both outcomes.
      assert(Math.abs(annealed[0] - truth[0]) < 0.08, `annealed Langevin recovered ${annealed}, π = ${truth}`);
      assert(Math.abs(plain[0] - truth[0]) > 0.15, `plain Langevin recovered ${plain}: as close to π = ${truth} as annealing`);
      const rows = await page.$$eval('#pair-weights tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
      assert(rows.length === 2 && rows.every((r) => r.length === 4), `weights table ${JSON.stringify(rows)}`);
      assert(Number(rows[0][2]) === Number(plain[0].toFixed(3)) && Number(rows[0][3]) === Number(annealed[0].toFixed(3)), `table ${JSON.stringify(rows)}`);
      for (const id of ['pair-plain', 'pair-annealed']) assert((await inkFraction(page, id)) > 0.002, `${id} is blank`);
      assert(/\/.*steps/.test(await page.textContent('#pair-annealed-caption')), 'no step count under the annealed samples');
      await page.locator('#score-panel').screenshot({ path: path.join(SHOTS, 'langevin-pair.png') });
      // Data without an exact score: the comparison is off, and says why.
      await choose(page, '#data-select', 'moons');
      await page.waitForFunction(() => !document.getElementById('pair-message').hidden, null, { timeout: 60_000 });
      assert(/exact score/.test(await page.textContent('#pair-message')), await page.textContent('#pair-message'));
      assert(await page.isDisabled('#pair-run'), 'compare is enabled without a mixture');
      await checkHealthy(page, problems);
    }),
  ],
  [
    'samplers: each sampler completes and shows recovered mixture weights',
    () => withPage(WEBGPU_ARGS, async (page, problems) => {
      await ready(page, '#backend=flex&n=1000&speed=50&sampler=ddim&ddim.steps=25');
      let w = await finished(page, 'ddim');
      // n = 1000: a weight's SE is ≤ 0.016; 4 SE plus 0.04 for the model's own error.
      w.forEach((v, k) => assert(Math.abs(v - TRUE_WEIGHTS[k]) < 0.1, `ddim (learned): weight ${k} ${v}`));
      assert((await inkFraction(page, 'reverse-canvas')) > 0.005, 'reverse canvas is blank');
      const runs = [
        ['#sampler', 'langevin', [['#opt-langevin-steps', '100']]],
        ['#sampler', 'annealed_langevin', [['#opt-annealed-langevin-levels', '6'], ['#opt-annealed-langevin-n-per-level', '20']]],
        ['#sampler', 'euler_maruyama', [['#opt-euler-maruyama-steps', '60']]],
        ['#sampler', 'pc', [['#opt-pc-steps', '40'], ['#opt-pc-process', 've']]],
        ['#sampler', 'dpm_solver_pp', [['#opt-dpm-solver-pp-steps', '15'], ['#opt-dpm-solver-pp-order', '2'], ['#source', 'oracle']]],
        ['#sampler', 'edm', [['#opt-edm-steps', '20'], ['#opt-edm-method', 'heun']]],
        ['#sampler', 'ode', [['#opt-ode-steps', '25'], ['#opt-ode-process', 'vp'], ['#source', 'oracle']]],
      ];
      for (const [sel, name, opts] of runs) {
        await choose(page, sel, name);
        for (const [o, v] of opts) await choose(page, o, v);
        w = await finished(page, name);
        await equationRendered(page, '#reverse-eq', name);
        // The few-step solvers on the exact score: 15 DPM-Solver++ 2M calls and 39 EDM Heun calls
        // recover the weights (on the oracle both are within 0.01 at these steps; 0.08 is 5 SE).
        if (name === 'dpm_solver_pp' || name === 'edm') {
          w.forEach((v, k) => assert(Math.abs(v - TRUE_WEIGHTS[k]) < 0.08, `${name} (oracle): weight ${k} ${v}`));
        }
        if (name === 'annealed_langevin') {
          assert(await page.inputValue('#source') === 'oracle', 'annealed Langevin must switch to the oracle');
          assert(await page.$eval('#source option[value="learned"]', (o) => o.disabled), 'learned should be disabled');
        }
        await page.screenshot({ path: path.join(SHOTS, `sampler-${name}.png`), fullPage: true });
      }
      // The probability-flow ODE on the exact score recovers the weights.
      w.forEach((v, k) => assert(Math.abs(v - TRUE_WEIGHTS[k]) < 0.08, `ode (oracle): weight ${k} ${v}`));
      const p = await hashParams(page);
      assert(p.sampler === 'ode' && p.source === 'oracle' && p['ode.steps'] === '25', `hash ${JSON.stringify(p)}`);
      // Trajectories of a few particles are drawn over the samples.
      await choose(page, '#show-traj', '0');
      const without = await inkFraction(page, 'reverse-canvas');
      await choose(page, '#show-traj', '1');
      const withTraj = await inkFraction(page, 'reverse-canvas');
      assert(withTraj > without, `trajectories add no ink (${withTraj} vs ${without})`);
      const sps = Number(await page.textContent('#hud-steps'));
      assert(sps > 0, `HUD steps/s is not shown: ${sps}`);
      await checkHealthy(page, problems);
    }),
  ],
  [
    'hash state: the full state round-trips through the URL',
    () => withPage(WEBGPU_ARGS, async (page, problems) => {
      // In the page's canonical order: its own settings, then the catalogue's (process, sampler,
      // objective, source, each with its options).
      const want = {
        backend: 'flex', n: '600', seed: '5', speed: '20', help: '1', t: '300', st: '200', arrows: 'both',
        heat: 'error', grid: '21', x0: '1', traj: '0', data: 'seeds', pts: THREE_POINTS, digit: '42', x0src: 'pad',
        pad: 'B'.repeat(523), isampler: 'ancestral', isteps: '20', ieta: '0.5', igrid: '3', ispeed: '2', t0: '321',
        tk: '7', 'train.hidden': '32', 'train.depth': '2', 'train.lr': '0.01', 'train.batch_size': '128',
        'train.steps': '500', 'train.seed': '4', 'guide.label': '3', 'guide.scale': '4.5', 'guide.null_label': '7',
        process: 'sub_vp', 'vp.schedule.kind': 'cosine', 'vp.schedule.steps': '400', 'vp.schedule.beta_start': '0.0002',
        'vp.schedule.beta_end': '0.03', 'sub_vp.schedule.kind': 'cosine', 'sub_vp.schedule.steps': '500',
        'sub_vp.schedule.beta_start': '0.0002', 'sub_vp.schedule.beta_end': '0.03', 've.levels': '20',
        've.sigma_min': '0.2', 've.sigma_max': '15', 'flow.steps': '250', sampler: 'ode', 'ancestral.variance': 'beta', 'ancestral.clip': '2',
        'ddim.steps': '20', 'ddim.eta': '0.5', 'ddim.spacing': 'trailing', 'ddim.clip': '3', 'ddim.end': 'first_step', 'langevin.steps': '200',
        'langevin.step_size': '0.02', 'annealed_langevin.levels': '5', 'annealed_langevin.n_per_level': '10',
        'annealed_langevin.step_size': '0.001', 'annealed_langevin.sigma_min': '0.2', 'annealed_langevin.sigma_max': '12',
        'euler_maruyama.steps': '100', 'euler_maruyama.process': 've', 'euler_maruyama.t_end': '0.01', 'pc.steps': '100',
        'pc.snr': '0.2', 'pc.corrector_steps': '2', 'pc.process': 'sub_vp', 'pc.t_end': '0.002', 'ode.steps': '40',
        'ode.method': 'euler', 'ode.process': 'sub_vp', 'ode.t_end': '0.005', 'dpm_solver_pp.steps': '15',
        'dpm_solver_pp.order': '3', 'edm.steps': '12', 'edm.rho': '5', 'edm.method': 'euler', 'edm.s_churn': '10',
        'edm.s_tmin': '0.1', 'edm.s_tmax': '20', 'edm.s_noise': '1.003', objective: 'ism',
        'ssm.slicing.projections': '3', 'ssm.slicing.projection': 'gaussian', 'ssm.slicing.variance_reduced': '1', source: 'oracle',
      };
      const hash = `#${new URLSearchParams(want)}`;
      await ready(page, hash);
      const keys = await page.evaluate(() => Object.keys(window.dplay.state));
      assert(keys.every((k) => k in want), `the test misses settings: ${keys.filter((k) => !(k in want))}`);
      // The controls are the catalogue's (src/catalogue.rs), name for name: each choice of
      // process, sampler, source and objective, and a control for each of their options.
      const faces = await page.evaluate(() => {
        const c = window.dplay.catalogue;
        const values = (id) => [...document.getElementById(id).options].map((o) => o.value);
        const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
        const missing = [...c.processes, ...c.samplers].flatMap((e) => e.options.map((o) => `${e.kind}.${o.key}`))
          .concat(c.training.map((o) => `train.${o.key}`), c.guidance.map((o) => `guide.${o.key}`))
          .filter((k) => !document.querySelector(`[data-key="${k}"]`));
        return {
          process: same(values('process'), c.processes.map((e) => e.kind)),
          sampler: same(values('sampler'), c.samplers.map((e) => e.kind)),
          source: same(values('source'), c.sources.map((e) => e.kind)),
          objective: same(values('train-objective'), c.objectives.map((e) => e.kind)),
          data: c.datasets.every((d) => values('data-select').includes(d.kind)),
          missing,
        };
      });
      assert(faces.process && faces.sampler && faces.source && faces.objective && faces.data && faces.missing.length === 0,
        `the page's controls are not the catalogue's: ${JSON.stringify(faces)}`);
      const got = await hashParams(page);
      assert(sameParams(got, want), `hash after load\n${JSON.stringify(got)}\nwanted\n${JSON.stringify(want)}`);
      // Every setting shows in its control.
      const shown = await page.evaluate(() => {
        const out = {};
        for (const el of document.querySelectorAll('[data-key]')) {
          const k = el.dataset.key;
          out[k] = el.type === 'checkbox' ? (el.checked ? '1' : '0')
            : el.tagName === 'BUTTON' ? (el.getAttribute('aria-pressed') === 'true' ? '1' : '0') : el.value;
        }
        return out;
      });
      for (const [k, v] of Object.entries(want)) if (k !== 'pts' && k !== 'pad') assert(shown[k] === v, `control for ${k} shows ${shown[k]}, want ${v}`);
      // The drawn points have no control of their own: the drawing shows them.
      assert((await page.textContent('#draw-count')) === '3 points', `drawn points: ${await page.textContent('#draw-count')}`);
      assert((await page.getAttribute('body', 'data-data-kind')) === 'mixture', 'data=seeds is a mixture');
      assert(await page.isVisible('#forward-panel .help'), 'help=1 should show the help layer');
      // The process in the hash is the one the panels show: sub-VP's 500 steps.
      assert((await page.getAttribute('#t-scrub', 'max')) === '500', 'the forward scrubber does not span T = 500');
      assert((await page.getAttribute('#score-t', 'max')) === '500', 'the score slider does not span T = 500');
      assert(/sub-VP \(cosine β, T = 500\)/.test(await page.textContent('#model-info')), await page.textContent('#model-info'));
      assert(await page.isVisible('#opt-sub-vp-schedule-steps') && await page.isHidden('#opt-ve-levels'), 'sub-VP shows T, not VE\'s levels');
      // A change through a control lands in the hash, and that hash restores it.
      await choose(page, '#opt-pc-snr', '0.3');
      await choose(page, '#sampler', 'pc');
      const after = await hashParams(page);
      assert(after['pc.snr'] === '0.3' && after.sampler === 'pc', `hash after changes ${JSON.stringify(after)}`);
      const url = page.url();
      await page.goto('about:blank');
      await page.goto(url);
      await page.waitForSelector('body[data-ready="1"]', { timeout: 120_000 });
      assert(JSON.stringify(await hashParams(page)) === JSON.stringify(after), 'the hash did not survive a reload');
      assert((await page.inputValue('#opt-pc-snr')) === '0.3', 'snr not restored');
      assert(await page.isHidden('#state-notice'), 'no notice expected for a valid hash');
      await checkHealthy(page, problems);
    }),
  ],
  [
    'corrupt hash: defaults and a visible notice',
    () => withPage(['--disable-gpu', '--disable-webgpu'], async (page, problems) => {
      for (const bad of ['#n=abc&seed=3', '#sampler=telepathy', '#%E0%A4%A', '#nonsense', '#data=draw&pts=abc', '#data=spirals']) {
        await ready(page, bad);
        assert(await page.isVisible('#state-notice'), `${bad}: no notice`);
        const text = await page.textContent('#state-notice');
        assert(/could not be read/.test(text) && /defaults/.test(text), `${bad}: notice says ${text}`);
        assert((await page.inputValue('#seed')) === '0' && (await page.inputValue('#n-points')) === '2000',
          `${bad}: not the defaults`);
        assert((await page.evaluate(() => location.hash)) === '', `${bad}: the corrupt hash was kept`);
      }
      await checkHealthy(page, problems);
    }),
  ],
  [
    'clamping: absurd numbers are clamped with a message',
    () => withPage(['--disable-gpu', '--disable-webgpu'], async (page, problems) => {
      await ready(page, '#n=50&speed=100000&ddim.eta=7&t=5000&grid=1e9');
      const text = await page.textContent('#state-notice');
      for (const m of ['n=50', 'speed=100000', 'ddim.eta=7', 't=5000', 'grid=1e9']) assert(text.includes(m), `no message for ${m}: ${text}`);
      const p = await hashParams(page);
      assert(p.n === '100' && p.speed === '200' && p['ddim.eta'] === '1' && p.t === '1000' && p.grid === '61', `clamped hash ${JSON.stringify(p)}`);
      assert((await page.inputValue('#n-points')) === '100', 'n control not clamped');
      // Typed into a control.
      await choose(page, '#seed', '-4');
      await choose(page, '#opt-langevin-steps', '99999999');
      const after = await page.textContent('#state-notice');
      assert(after.includes('seed=-4') && after.includes('langevin.steps=99999999'), `no message for typed values: ${after}`);
      assert((await page.inputValue('#seed')) === '0' && (await page.inputValue('#opt-langevin-steps')) === '5000', 'typed values not clamped');
      await checkHealthy(page, problems);
    }),
  ],
  [
    'layout: labelled keyboard controls, CSP, HUD, help; readable at 1280x720 and 390 px',
    async () => {
      for (const [w, h] of [[1280, 720], [390, 844]]) {
        await withPage(['--disable-gpu', '--disable-webgpu'], async (page, problems) => {
          await ready(page, '#n=500');
          const csp = await page.getAttribute('meta[http-equiv="Content-Security-Policy"]', 'content');
          assert(csp.includes("script-src 'self' 'wasm-unsafe-eval'") && csp.includes("worker-src 'self'"), `CSP: ${csp}`);
          assert((await page.$$('script:not([src])')).length === 0, 'inline scripts are not allowed');
          const unlabelled = await page.$$eval('input, select', (els) => els.filter((e) => e.labels.length === 0).map((e) => e.id));
          assert(unlabelled.length === 0, `controls without a label: ${unlabelled}`);
          const overflow = await page.evaluate(() => document.documentElement.scrollWidth - innerWidth);
          assert(overflow <= 0, `${w}px: the page scrolls sideways by ${overflow}px`);
          const small = await page.$$eval('label, button, .caption, p', (els) => els.filter((e) => e.offsetParent && parseFloat(getComputedStyle(e).fontSize) < 12).length);
          assert(small === 0, `${w}px: ${small} elements with text under 12px`);
          for (const id of ['forward-canvas', 'score-canvas', 'reverse-canvas']) {
            const box = await page.$eval(`#${id}`, (c) => c.getBoundingClientRect().width);
            assert(box >= 200 && box <= w, `${w}px: #${id} is ${box}px wide`);
          }
          // The keyboard reaches the controls and toggles the help.
          await page.focus('#sampler');
          await page.keyboard.press('Tab');
          assert(await page.evaluate(() => document.activeElement.id === 'source'), 'Tab does not move from sampler to score source');
          await page.focus('#sample');
          await page.keyboard.press('?');
          assert(await page.isVisible('#score-panel .help'), '? does not show the help');
          assert((await hashParams(page)).help === '1', 'help is not in the hash');
          await page.waitForFunction(() => Number(document.getElementById('hud-frame').textContent) > 0, null, { timeout: 120_000 });
          await page.screenshot({ path: path.join(SHOTS, `layout-${w}.png`), fullPage: true });
          await checkHealthy(page, problems);
        }, { width: w, height: h });
      }
    },
  ],
  [
    'layout: at 1280x800 the data, forward, reverse and training panels are in the first viewport; no WebGPU is said in plain words',
    () => withPage(['--disable-gpu'], async (page, problems) => {
      const [W, H] = [1280, 800];
      await ready(page, '');
      assert((await page.getAttribute('body', 'data-backend')) === 'flex', 'expected the CPU backend without a GPU');

      // The notice says it in plain words; wgpu's own text waits behind a closed <details>.
      assert(await page.isVisible('#notice'), 'no notice on the CPU');
      const notice = await page.$eval('#notice', (n) => {
        const d = n.querySelector('details');
        return {
          plain: [...n.childNodes].filter((c) => c !== d).map((c) => c.textContent).join(''),
          details: d !== null,
          open: d?.open ?? null,
          raw: d?.querySelector('code')?.textContent ?? '',
        };
      });
      assert(notice.details, `the notice has no <details>: ${notice.plain}`);
      assert(/no WebGPU/.test(notice.plain) && /runs on the CPU/.test(notice.plain), `notice: ${notice.plain}`);
      assert(!/WgpuDevice|adapter|[{}]/.test(notice.plain), `wgpu's text is outside the toggle: ${notice.plain}`);
      assert(notice.open === false && await page.isHidden('#notice details code'), 'the details are open by default');
      assert(/WebGPU/.test(notice.raw), `the raw text is not behind the toggle: ${notice.raw}`);
      await page.click('#notice summary');
      assert(await page.isVisible('#notice details code'), 'the toggle does not show the raw text');
      await page.click('#notice summary');

      // Every main panel starts, and its canvas lies whole, in the first viewport, unscrolled and
      // uncovered; the panels do not overlap; the training controls are on screen.
      const PANELS = ['train-panel', 'data-panel', 'forward-panel', 'reverse-panel'];
      const CANVASES = ['data-canvas', 'forward-canvas', 'reverse-canvas'];
      const CONTROLS = ['train-play', 'train-pause', 'train-step', 'train-reset', 'train-use', 'train-objective', 'sample'];
      const at = await page.evaluate((ids) => {
        const out = { scroll: [scrollX, scrollY] };
        for (const id of ids) {
          const el = document.getElementById(id);
          const r = el.getBoundingClientRect();
          const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
          out[id] = { left: r.left, top: r.top, right: r.right, bottom: r.bottom, width: r.width, height: r.height, uncovered: hit === el };
        }
        return out;
      }, [...PANELS, ...CANVASES, ...CONTROLS]);
      assert(at.scroll[0] === 0 && at.scroll[1] === 0, `the page is scrolled: ${at.scroll}`);
      const where = (id) => `#${id} at (${Math.round(at[id].left)}, ${Math.round(at[id].top)}), ${Math.round(at[id].width)}×${Math.round(at[id].height)}`;
      for (const id of PANELS) {
        const b = at[id];
        assert(b.width > 0 && b.height > 0, `#${id} is not shown`);
        assert(b.left >= 0 && b.top >= 0 && b.left < W && b.top < H, `${where(id)} does not start in the ${W}×${H} viewport`);
      }
      for (const id of [...CANVASES, ...CONTROLS]) {
        const b = at[id];
        assert(b.left >= 0 && b.top >= 0 && b.right <= W && b.bottom <= H, `${where(id)} is not inside the ${W}×${H} viewport`);
        assert(b.uncovered, `${where(id)} is covered by another element`);
      }
      for (const id of CANVASES) assert(at[id].width >= 240, `${where(id)} is too small to read`);
      for (const [i, a] of PANELS.entries()) {
        for (const b of PANELS.slice(i + 1)) {
          const [p, q] = [at[a], at[b]];
          const overlap = p.left < q.right && q.left < p.right && p.top < q.bottom && q.top < p.bottom;
          assert(!overlap, `${where(a)} overlaps ${where(b)}`);
        }
      }
      // Data | forward | reverse, side by side under the training strip.
      assert(at['data-panel'].right <= at['forward-panel'].left && at['forward-panel'].right <= at['reverse-panel'].left,
        `the columns are not data | forward | reverse: ${PANELS.map(where).join('; ')}`);
      assert(at['train-panel'].bottom <= Math.min(at['data-panel'].top, at['forward-panel'].top, at['reverse-panel'].top),
        `the training strip is not above the columns: ${PANELS.map(where).join('; ')}`);
      assert((await inkFraction(page, 'data-canvas')) > 0.002, 'the data panel shows no data');
      // The picture, once the reverse panel has drawn some of its walk and trajectories.
      await page.waitForFunction(() => Number(document.body.dataset.reverseStep ?? 0) >= 100, null, { timeout: 120_000 });
      await page.screenshot({ path: path.join(SHOTS, `layout-${W}x${H}.png`) });
      await checkHealthy(page, problems);
    }, { width: 1280, height: 800 }),
  ],

  [
    'train (flex): ▶ lowers the fixed-batch loss; samples, energy distance and weights; the panels use it',
    () => withPage(WEBGPU_ARGS, async (page, problems) => {
      await ready(page, '#backend=flex&n=500&train.hidden=64&train.depth=2&train.lr=0.005&train.batch_size=256&train.steps=400&tk=20&sampler=ddim&ddim.steps=20');
      await trainStep(page); // step 0 report, then one message
      const eval0 = await bodyNumber(page, 'trainEval0');
      assert(eval0 > 0, `no initial fixed-batch loss: ${eval0}`);
      await page.click('#train-play');
      await page.waitForFunction(() => Number(document.body.dataset.trainStep) >= 300, null, { timeout: 300_000 });
      await page.click('#train-pause');
      // The loop ends with a report of the step it stopped at.
      await page.waitForSelector('body[data-train-playing="0"]', { timeout: 120_000 });
      const after = await bodyNumber(page, 'trainEval');
      // The same batch before and after: a fall of a fifth is the network's doing, not noise.
      assert(after < 0.8 * eval0, `fixed-batch loss ${eval0} -> ${after} after ${await bodyNumber(page, 'trainStep')} steps`);
      assert((await inkFraction(page, '#chart-loss canvas')) > 0.005, 'the loss curve is blank');
      assert((await inkFraction(page, 'train-canvas')) > 0.005, 'the samples-vs-data scatter is blank');
      const energy = Number(await page.textContent('#train-energy'));
      assert(Number.isFinite(energy) && energy >= 0, `energy distance ${energy}`);
      assert(await page.isVisible('#train-weights'), 'a mixture shows its recovered weights');
      const w = JSON.parse(await page.getAttribute('body', 'data-train-weights'));
      assert(w.length === 3 && Math.abs(w.reduce((a, b) => a + b, 0) - 1) < 1e-4, `weights ${w}`);
      await page.screenshot({ path: path.join(SHOTS, 'train-flex.png'), fullPage: true });
      // The score and reverse panels switch to the network being trained.
      await page.click('#train-use');
      await page.waitForSelector('body[data-model="trained"]', { timeout: 60_000 });
      await finished(page, 'ddim');
      assert(/being trained/.test(await page.textContent('#source-note')), 'the reverse panel does not say which network it uses');
      await checkHealthy(page, problems);
    }),
  ],
  [
    'round trip (flex): train on the page, download the run; dplay sample --model the .zip gives the page\'s samples',
    () => withPage(WEBGPU_ARGS, async (page, problems) => {
      await ready(page, '#backend=flex&n=300&train.hidden=32&train.depth=1&train.lr=0.01&train.batch_size=128&train.steps=40&tk=20&sampler=ddim&ddim.steps=10');
      await trainStep(page);
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('#train-download')]);
      const zip = path.join(TMP, download.suggestedFilename());
      await download.saveAs(zip);
      assert(/^dplay-mixture3-ddpm-vp-step\d+\.zip$/.test(download.suggestedFilename()), download.suggestedFilename());
      // The page samples with the network it trained.
      await page.click('#train-use');
      await finished(page, 'ddim');
      const x = await pageSample(page);
      const spec = await page.evaluate(() => JSON.stringify({ kind: 'ddim', ...Object.fromEntries(
        window.dplay.catalogue.samplers.find((e) => e.kind === 'ddim').options.map((o) => [o.key, window.dplay.state[`ddim.${o.key}`]])) }));
      const out = path.join(TMP, 'from-page.npy');
      dplay('sample', '--model', zip, '--spec', spec, '--n', '300', '--seed', '0', '--out', out);
      const err = assertSameSamples(x, readNpy(out), 'the downloaded model');
      console.log(`    (info) page vs dplay sample of the download: max |Δ| = ${err.toExponential(2)}`);
      // The download holds the run as dplay train writes one.
      const listing = execFileSync('python3', ['-c', 'import sys, zipfile; print(" ".join(sorted(zipfile.ZipFile(sys.argv[1]).namelist())))', zip], { encoding: 'utf8' }).trim();
      assert(listing === 'config.json loss.csv model.safetensors samples.csv samples.npy samples.png', listing);
      await checkHealthy(page, problems);
    }),
  ],
  [
    'round trip (flex): dplay train a VE model on moons, pick its folder on the page; the page samples as the CLI does',
    () => withPage(WEBGPU_ARGS, async (page, problems) => {
      const dir = path.join(TMP, 've-moons');
      dplay('train', '--data', 'moons', '--process', 've', '--objective', 'dsm', '--levels', '6', '--sigma-min', '0.05',
        '--sigma-max', '5', '--steps', '30', '--batch-size', '64', '--hidden', '16', '--depth', '1', '--out', dir);
      await ready(page, '#backend=flex&n=200&sampler=ddim&ddim.steps=5');
      // Only one of the two files: named.
      await page.setInputFiles('#points-model-files', [path.join(dir, 'config.json')]);
      await page.waitForSelector('body[data-points-model="error"]', { timeout: 60_000 });
      assert(/no model\.safetensors among the files \(config\.json\)/.test(await page.textContent('#points-model-message')),
        await page.textContent('#points-model-message'));
      // The folder: the model brings its data set and its process.
      await page.setInputFiles('#points-model-files', [path.join(dir, 'config.json'), path.join(dir, 'model.safetensors')]);
      await page.waitForSelector('body[data-points-model="ok"]', { timeout: 60_000 });
      await page.waitForSelector('body[data-process-steps="6"]', { timeout: 60_000 });
      const s = await page.evaluate(() => ({ ...window.dplay.state }));
      assert(s.data === 'moons' && s.process === 've' && s['ve.levels'] === 6 && s.source === 'pretrained', JSON.stringify(s));
      // Moons has no mixture weights: done is the energy distance to the data. The walk on the
      // model's process is the last one started (each restart clears done).
      await page.waitForFunction(() => document.body.dataset.reverseDone === '1' && document.body.dataset.reverseSampler === 'ddim'
        && document.getElementById('model-info').textContent.includes('VE (σ from 0.05 to 5, L = 6)'), null, { timeout: 120_000 });
      const x = await pageSample(page);
      const out = path.join(TMP, 'from-cli.npy');
      dplay('sample', '--model', dir, '--spec', '{"kind": "ddim", "steps": 5, "eta": 0, "spacing": "leading"}',
        '--n', '200', '--seed', '0', '--out', out);
      const err = assertSameSamples(x, readNpy(out), 'the dropped model');
      console.log(`    (info) page vs dplay sample of the dropped folder: max |Δ| = ${err.toExponential(2)}`);
      await checkHealthy(page, problems);
    }),
  ],
  [
    'process (flex): VE in the forward panel; charts, score and reverse follow; a VP-only sampler says why',
    () => withPage(WEBGPU_ARGS, async (page, problems) => {
      await ready(page, '#backend=flex&n=500&process=ve&ve.levels=10&ve.sigma_min=0.1&ve.sigma_max=20&t=4&st=3&speed=5');
      assert((await page.getAttribute('body', 'data-process')) === 've', 'the forward panel is not on VE');
      assert((await page.getAttribute('#t-scrub', 'max')) === '10', 'the scrubber does not span L = 10 levels');
      const captions = await page.$$eval('#forward-multiples figcaption', (c) => c.map((e) => e.textContent));
      assert(captions[4] === 't = 10', `multiples captions ${captions}`);
      assert(/σ_t/.test(await page.textContent('#chart-schedule-caption')), 'the first chart is not σ_t');
      const eq = await page.innerHTML('#forward-eq');
      assert(eq.includes('N(x<sub>0</sub>, σ<sub>t</sub>² I)') && eq.includes('σ<sub>min</sub> (σ<sub>max</sub>/σ<sub>min</sub>)<sup>t/(L−1)</sup>'), eq);
      assert((await inkFraction(page, '#chart-schedule canvas')) > 0.01, 'the σ_t chart is blank');
      // The default sampler, DDPM ancestral, walks a VP chain VE does not have: a message, no error.
      await page.waitForSelector('body[data-reverse-message="1"]', { timeout: 60_000 });
      assert(/discrete VP chain/.test(await page.textContent('#reverse-message')), await page.textContent('#reverse-message'));
      assert(await page.isHidden('#error'), `error: ${await page.textContent('#error')}`);
      // The pretrained ε-MLP knows VP only, so its field is missing at VE's levels; the exact one is drawn.
      await page.waitForSelector('body[data-score-t="3"]', { timeout: 60_000 });
      assert((await page.getAttribute('body', 'data-score-model')) === '0', 'a VP model drew a field on VE');
      assert(/trained on the VP/.test(await page.textContent('#score-caption')), await page.textContent('#score-caption'));
      // DDIM runs on any process: the pretrained source gives way to the oracle, which recovers the weights.
      await choose(page, '#sampler', 'ddim');
      const w = await finished(page, 'ddim', 120_000);
      assert((await page.inputValue('#source')) === 'oracle', 'the pretrained VP model should give way to the oracle on VE');
      assert(await page.$eval('#source option[value="pretrained"]', (o) => o.disabled), 'pretrained should be disabled on VE');
      w.forEach((v, k) => assert(Math.abs(v - TRUE_WEIGHTS[k]) < 0.1, `ddim (oracle, VE): weight ${k} ${v}`));
      assert((await page.textContent('#step-total')) === '10', `DDIM on L = 10 levels takes ${await page.textContent('#step-total')} steps`);
      await page.screenshot({ path: path.join(SHOTS, 'process-ve.png'), fullPage: true });
      // Back to VP in the control: the charts and the pretrained model return.
      await choose(page, '#process', 'vp');
      await page.waitForSelector('body[data-process-steps="1000"]', { timeout: 60_000 });
      assert((await page.getAttribute('#t-scrub', 'max')) === '1000', 'the scrubber does not span T = 1000 again');
      await choose(page, '#source', 'pretrained');
      await finished(page, 'ddim', 120_000);
      assert((await page.inputValue('#source')) === 'pretrained', 'the pretrained model should drive DDIM on VP again');
      assert((await hashParams(page)).process === undefined, 'the default process should leave the hash');
      // σ_min above σ_max cannot be built: the panels keep the process they show, with a message.
      await choose(page, '#process', 've');
      await page.waitForSelector('body[data-process-steps="10"]', { timeout: 60_000 });
      await choose(page, '#opt-ve-sigma-min', '9');
      await choose(page, '#opt-ve-sigma-max', '5');
      await page.waitForSelector('body[data-process-message="1"]', { timeout: 60_000 });
      assert(/sigma_min/.test(await page.textContent('#process-message')), await page.textContent('#process-message'));
      assert(await page.isHidden('#error'), `error: ${await page.textContent('#error')}`);
      await checkHealthy(page, problems);
    }),
  ],
  [
    'train (flex): flow matching on the flow path lowers its loss, and its velocity network samples by flow-matching Euler',
    () => withPage(WEBGPU_ARGS, async (page, problems) => {
      await ready(page, '#backend=flex&n=500&process=flow&objective=flow_matching&train.hidden=64&train.depth=2&train.lr=0.005&train.batch_size=256&train.steps=200&tk=20&sampler=ddim&ddim.steps=20&ddim.spacing=linspace');
      assert((await page.innerHTML('#train-eq')).includes('u<sub>θ</sub>'), `loss shown: ${await page.innerHTML('#train-eq')}`);
      await trainStep(page);
      assert((await page.getAttribute('body', 'data-train-objective')) === 'flow_matching', 'the run is not flow matching');
      const eval0 = await bodyNumber(page, 'trainEval0');
      for (let i = 0; i < 9; i++) await trainStep(page);
      const after = await bodyNumber(page, 'trainEval');
      // The same batch's ‖u_θ − (z − x_0)‖² falls by a fifth at least in 200 steps (its floor,
      // E Var[z − x_0 | x_t], is well below the untrained network's ~E‖z − x_0‖²).
      assert(after < 0.8 * eval0, `fixed-batch loss ${eval0} -> ${after}`);
      assert((await inkFraction(page, 'train-canvas')) > 0.005, 'the samples of the flow network are not shown');
      await page.click('#train-use');
      await page.waitForSelector('body[data-model="trained"]', { timeout: 60_000 });
      await finished(page, 'ddim');
      assert(await page.isHidden('#error'), `error: ${await page.textContent('#error')}`);
      await page.screenshot({ path: path.join(SHOTS, 'train-flow.png'), fullPage: true });
      await checkHealthy(page, problems);
    }),
  ],
  [
    'train (flex): ISM, a non-ε objective, lowers its fixed-batch loss; its samples show; the panels use it',
    () => withPage(WEBGPU_ARGS, async (page, problems) => {
      await ready(page, '#backend=flex&n=500&objective=ism&train.hidden=64&train.depth=2&train.lr=0.005&train.batch_size=256&train.steps=200&tk=20&sampler=ddim&ddim.steps=20');
      assert((await page.innerHTML('#train-eq')).includes('tr(∇ₓs<sub>θ</sub>)'), `loss shown: ${await page.innerHTML('#train-eq')}`);
      await equationRendered(page, '#train-eq', 'ISM');
      await trainStep(page);
      assert((await page.getAttribute('body', 'data-train-objective')) === 'ism', 'the run is not ISM');
      const eval0 = await bodyNumber(page, 'trainEval0');
      for (let i = 0; i < 9; i++) await trainStep(page);
      assert((await bodyNumber(page, 'trainStep')) === 200, `steps ${await bodyNumber(page, 'trainStep')}`);
      const after = await bodyNumber(page, 'trainEval');
      // ISM's loss, E s_t²[tr ∇ₓs_θ + ½‖s_θ‖²], goes below zero as it learns: the same batch, a fall by
      // a fifth of its size at least (natively, tests/level_objectives.rs checks the score it learns).
      assert(after < eval0 - 0.2 * Math.abs(eval0), `fixed-batch loss ${eval0} -> ${after}`);
      assert((await inkFraction(page, '#chart-loss canvas')) > 0.005, 'the loss curve is blank');
      assert((await inkFraction(page, 'train-canvas')) > 0.005, 'the samples of the ISM network are not shown');
      const w = JSON.parse(await page.getAttribute('body', 'data-train-weights'));
      assert(w.length === 3 && Math.abs(w.reduce((a, b) => a + b, 0) - 1) < 1e-4, `weights ${w}`);
      await page.screenshot({ path: path.join(SHOTS, 'train-ism.png'), fullPage: true });
      // The score network drives the panels: DDIM through the score link, the field against the exact one.
      await page.click('#train-use');
      await page.waitForSelector('body[data-model="trained"]', { timeout: 60_000 });
      assert((await hashParams(page)).source === 'learned', 'use in panels does not set source=learned');
      await finished(page, 'ddim');
      await page.waitForFunction(() => /learned \(blue\)/.test(document.getElementById('score-caption').textContent), null, { timeout: 60_000 });
      assert((await page.getAttribute('body', 'data-score-model')) === '1', 'the score panel does not draw the ISM field');
      // Another process: the network knows VP's levels only, and says so.
      await choose(page, '#process', 've');
      await page.waitForSelector('body[data-reverse-message="1"]', { timeout: 60_000 });
      assert(/press ▶ train/.test(await page.textContent('#reverse-message')), await page.textContent('#reverse-message'));
      assert(await page.isHidden('#error'), `error: ${await page.textContent('#error')}`);
      await checkHealthy(page, problems);
    }),
  ],
  [
    'objective: ESM without an exact score is disabled with an inline message, and trains nothing',
    () => withPage(['--disable-gpu', '--disable-webgpu'], async (page, problems) => {
      await ready(page, '#data=moons&objective=esm&n=300&train.hidden=16&train.depth=1&tk=5');
      await page.waitForSelector('body[data-train-message="1"]', { timeout: 60_000 });
      const text = await page.textContent('#train-message');
      assert(/exact score/.test(text) && /moons/.test(text), `message: ${text}`);
      assert(await page.$eval('#train-objective option[value="esm"]', (o) => o.disabled), 'ESM should be disabled on moons');
      await page.click('#train-step');
      await page.waitForFunction(() => document.body.dataset.trainBusy === '0', null, { timeout: 60_000 });
      assert(!(await page.getAttribute('body', 'data-train-step')), 'ESM on moons trained');
      assert(await page.isHidden('#error'), `error: ${await page.textContent('#error')}`);
      // Another objective trains; a mixture brings ESM back.
      await choose(page, '#train-objective', 'dsm');
      await page.waitForFunction(() => document.body.dataset.trainMessage === '', null, { timeout: 60_000 });
      assert(await page.isHidden('#train-message'), 'the message should clear for DSM');
      await trainStep(page);
      assert((await bodyNumber(page, 'trainStep')) === 5, 'DSM did not train');
      await choose(page, '#data-select', 'mixture3');
      await page.waitForSelector('body[data-data-kind="mixture"]', { timeout: 60_000 });
      await page.waitForFunction(() => !document.querySelector('#train-objective option[value="esm"]').disabled, null, { timeout: 60_000 });
      await page.screenshot({ path: path.join(SHOTS, 'objective-esm.png'), fullPage: true });
      await checkHealthy(page, problems);
    }),
  ],
  [
    'bench page: sampling and training steps/s on flex and on WebGPU, with the adapter named',
    async () => {
      for (const [backend, train] of [['flex', 'ddpm,ism'], ['webgpu', 'ddpm']]) {
        await withPage(WEBGPU_ARGS, async (page, problems) => {
          await page.goto(`${BASE}bench.html#backend=${backend}&n=200&steps=2&train=${train}&batch=64&trainSteps=2`);
          await page.waitForFunction(() => window.benchResult, null, { timeout: 400_000 });
          const r = await page.evaluate(() => window.benchResult);
          assert(!r.error, `${backend}: ${r.error}`);
          assert(r.backend === backend, `asked for ${backend}, ran on ${r.backend}`);
          assert(r.stepsPerSec > 0, `${backend}: sampling ${r.stepsPerSec} steps/s`);
          assert(r.training.map((t) => t.objective).join(',') === train, `${backend}: trained ${JSON.stringify(r.training)}`);
          assert(r.training.every((t) => t.stepsPerSec > 0 && t.batch === 64), `${backend}: ${JSON.stringify(r.training)}`);
          assert(r.machine.cores > 0 && r.machine.userAgent.length > 0, `${backend}: machine ${JSON.stringify(r.machine)}`);
          if (backend === 'webgpu') assert(r.adapter?.length > 0, 'the WebGPU adapter is not named');
          const rows = await page.$$eval('#rows tr', (trs) => trs.length);
          assert(rows === 1 + r.training.length, `${rows} table rows`);
          console.log(`    (info) ${backend}: sampling ${r.stepsPerSec.toFixed(1)} steps/s (200 points), training ${r.training.map((t) => `${t.objective} ${t.stepsPerSec.toFixed(1)}`).join(', ')} steps/s (batch 64)`);
          await page.screenshot({ path: path.join(SHOTS, `bench-${backend}.png`) });
          await checkHealthy(page, problems);
        });
      }
    },
  ],
  [
    'draw your own (flex): draw with the mouse, train, sample; the drawing survives in the link',
    () => withPage(WEBGPU_ARGS, async (page, problems) => {
      await ready(page, '#backend=flex&data=draw&n=400&train.hidden=32&train.depth=2&train.lr=0.01&train.batch_size=128&train.steps=200&tk=25&sampler=ddim&ddim.steps=20');
      let m = await dataMessage(page);
      assert(m.kind === 'error' && /empty/.test(m.text), `an empty drawing should say so: ${JSON.stringify(m)}`);
      assert(await page.isVisible('#draw-canvas'), 'the drawing canvas is not shown for data=draw');
      // A ring of radius 2, drawn as one stroke.
      const ring = Array.from({ length: 61 }, (_, i) => [2 * Math.cos((i / 60) * 2 * Math.PI), 2 * Math.sin((i / 60) * 2 * Math.PI)]);
      await drawStroke(page, ring);
      await page.waitForSelector('body[data-data-kind="points"]', { timeout: 60_000 });
      assert(await page.isHidden('#data-message'), `message after a good drawing: ${await page.textContent('#data-message')}`);
      const n = Number(await page.getAttribute('body', 'data-data-points'));
      assert(n >= 40, `only ${n} points drawn`);
      const pts = (await hashParams(page)).pts;
      assert(pts && pts.length === 4 * n, `the hash holds ${pts?.length / 4} points, the drawing ${n}`);
      // The oracle is gone (not a mixture): the reverse panel runs the learned score. The panel
      // disables it once the worker has answered for the new data, a few round trips later.
      await page.waitForFunction(() => document.querySelector('#source option[value="oracle"]').disabled, null, { timeout: 120_000 });
      for (let i = 0; i < 3; i++) await trainStep(page);
      assert((await bodyNumber(page, 'trainStep')) === 75, `steps ${await bodyNumber(page, 'trainStep')}`);
      assert((await bodyNumber(page, 'trainEval')) < (await bodyNumber(page, 'trainEval0')), 'training did not lower the fixed-batch loss');
      assert((await inkFraction(page, 'train-canvas')) > 0.003, 'no samples drawn');
      await page.click('#train-use');
      await page.waitForSelector('body[data-model="trained"]', { timeout: 60_000 });
      await page.waitForFunction(() => document.body.dataset.reverseDone === '1', null, { timeout: 240_000 });
      assert(await page.isHidden('#weights'), 'drawn points have no mixture weights');
      assert(Number(await page.textContent('#reverse-energy')) >= 0, 'no energy distance after sampling');
      assert((await page.getAttribute('body', 'data-score-exact')) === '0', 'the score panel claims an exact score');
      await page.screenshot({ path: path.join(SHOTS, 'draw-own.png'), fullPage: true });
      // The link reproduces the drawing.
      const url = page.url();
      await page.goto('about:blank');
      await page.goto(url);
      await page.waitForSelector('body[data-ready="1"]', { timeout: 120_000 });
      await page.waitForSelector('body[data-data-kind="points"]', { timeout: 60_000 });
      assert(Number(await page.getAttribute('body', 'data-data-points')) === n, 'the reloaded drawing differs');
      assert((await hashParams(page)).pts === pts, 'the points changed on reload');
      await checkHealthy(page, problems);
    }),
  ],
  [
    'draw your own: an empty or one-point drawing gets a message; the keyboard can draw',
    () => withPage(['--disable-gpu', '--disable-webgpu'], async (page, problems) => {
      await ready(page, '#data=draw&n=300');
      let m = await dataMessage(page);
      assert(m.kind === 'error' && /empty/.test(m.text) && /keep/.test(m.text), `empty drawing: ${JSON.stringify(m)}`);
      assert((await page.getAttribute('body', 'data-data-kind')) === 'mixture', 'the previous data should stay');
      await drawStroke(page, [[1, 1]]);
      await page.waitForFunction(() => /1 point/.test(document.getElementById('data-message').textContent), null, { timeout: 120_000 });
      assert((await page.getAttribute('body', 'data-data-kind')) === 'mixture', 'a one-point drawing must not replace the data');
      // The page keeps working: a panel still responds.
      await choose(page, '#score-grid', '21');
      await page.waitForFunction(() => window.dplay.score.field?.size === 21, null, { timeout: 60_000 });
      // Arrow keys move the cross, Enter places a point: two points make a data set.
      await page.focus('#draw-canvas');
      await page.keyboard.press('ArrowLeft');
      await page.keyboard.press('Enter');
      await page.waitForSelector('body[data-data-kind="points"]', { timeout: 60_000 });
      assert(await page.isHidden('#data-message'), 'the message should clear');
      assert((await page.textContent('#draw-count')) === '2 points', await page.textContent('#draw-count'));
      await page.click('#draw-undo');
      await page.waitForFunction(() => /1 point/.test(document.getElementById('data-message').textContent), null, { timeout: 120_000 });
      await checkHealthy(page, problems);
    }),
  ],
  [
    'CSV upload: a good file trains; malformed, NaN, infinite, short and 3-column files get a message',
    () => withPage(['--disable-gpu', '--disable-webgpu'], async (page, problems) => {
      await ready(page, '#n=300&train.hidden=32&train.depth=2&tk=10');
      await choose(page, '#data-select', 'csv');
      let m = await dataMessage(page);
      assert(m.kind === 'info' && /Choose a CSV/.test(m.text), `csv without a file: ${JSON.stringify(m)}`);
      assert(await page.isVisible('#csv-file'), 'the file input is not shown');
      const bad = [
        ['letters.csv', 'x,y\n1,2\n3,abc\n', /line 3.*'abc' is not a number/],
        ['nan.csv', '1,2\nNaN,3\n4,5\n', /line 2.*not a finite number/],
        ['inf.csv', '1,2\n3,inf\n', /line 2.*not a finite number/],
        ['one.csv', 'x,y\n1,2\n', /at least 2 points/],
        ['wide.csv', '1,2,3\n4,5,6\n', /3 columns/],
        ['ragged.csv', '1,2\n3\n', /line 2.*1 columns, expected 2/],
        ['empty.csv', '', /no points/],
      ];
      for (const [name, text, want] of bad) {
        await uploadCsv(page, name, text);
        await page.waitForFunction((n) => document.getElementById('data-message').textContent.includes(n), name, { timeout: 120_000 });
        m = await dataMessage(page);
        assert(m.kind === 'error' && want.test(m.text), `${name}: ${JSON.stringify(m)}`);
        assert((await page.getAttribute('body', 'data-data-kind')) === 'mixture', `${name} replaced the data`);
      }
      const rows = ['x,y', ...Array.from({ length: 200 }, (_, i) => `${(Math.cos(i) * 2).toFixed(3)},${(Math.sin(i) * 2).toFixed(3)}`)];
      await uploadCsv(page, 'circle.csv', rows.join('\n'));
      await page.waitForSelector('body[data-data-kind="points"][data-data-message="ok"]', { timeout: 60_000 });
      m = await dataMessage(page);
      assert(m.kind === 'ok' && /200 points/.test(m.text), `good csv: ${JSON.stringify(m)}`);
      assert((await page.getAttribute('body', 'data-data-points')) === '200', 'not 200 points');
      assert((await hashParams(page)).data === 'csv', 'data=csv is not in the hash');
      await trainStep(page);
      assert((await bodyNumber(page, 'trainStep')) === 10, 'training on the CSV did not run');
      await page.screenshot({ path: path.join(SHOTS, 'csv.png'), fullPage: true });
      await checkHealthy(page, problems);
    }),
  ],
  [
    'webgpu: a lost device moves the training run (NCSN on VE) to the CPU with its weights and step',
    () => withPage(WEBGPU_ARGS, async (page, problems) => {
      // Any objective on any process: the run is its config (objective and process) and its weights.
      await ready(page, '#n=200&process=ve&objective=ncsn&train.hidden=32&train.depth=1&train.lr=0.02&train.batch_size=64&train.steps=20&tk=2&speed=5&sampler=ddim&ddim.steps=4');
      assert((await page.getAttribute('body', 'data-backend')) === 'webgpu', 'expected WebGPU');
      await trainStep(page);
      await trainStep(page);
      const eval0 = await bodyNumber(page, 'trainEval0');
      const before = await page.evaluate(() => window.dplay.call('evalLoss', { seed: 12345 }));
      assert(before.step === 4, `steps before the loss: ${before.step}`);
      assert(Math.abs(before.loss - eval0) > 0.01 * eval0, `training did not move the loss (${eval0} -> ${before.loss})`);
      await loseDevice(page);
      assert(await page.isVisible('#notice'), 'no notice after the device was lost');
      const notice = await page.textContent('#notice');
      assert(/lost/.test(notice) && /CPU/.test(notice) && /step 4/.test(notice), `notice: ${notice}`);
      // Same weights, same batch, another backend: equal to float precision, far from a fresh start.
      const after = await page.evaluate(() => window.dplay.call('evalLoss', { seed: 12345 }));
      assert(after.step === 4, `steps after recovery: ${after.step}`);
      assert(Math.abs(after.loss - before.loss) < 1e-3 * before.loss, `fixed-batch loss ${before.loss} on WebGPU, ${after.loss} after recovery`);
      // Training goes on from step 4 on the CPU.
      await trainStep(page);
      assert((await bodyNumber(page, 'trainStep')) === 6, `step after recovery ${await bodyNumber(page, 'trainStep')}`);
      assert((await page.textContent('#backend')).includes('CPU'), 'the HUD still shows WebGPU');
      await page.screenshot({ path: path.join(SHOTS, 'device-lost.png'), fullPage: true });
      await checkHealthy(page, problems);
    }),
  ],
  [
    'webgpu: a device lost while ▶ plays: training goes on on the CPU from its last step, not from 0',
    () => withPage(WEBGPU_ARGS, async (page, problems) => {
      await ready(page, '#n=200&train.hidden=32&train.depth=1&train.lr=0.02&train.batch_size=64&train.steps=200&tk=2&speed=5&sampler=ddim&ddim.steps=4');
      await page.click('#train-play');
      await page.waitForFunction(() => Number(document.body.dataset.trainStep) >= 4, null, { timeout: 300_000 });
      // Every step count the panel shows once the run is on the CPU, to see that it never starts
      // again (counts shown before the fallback, up to the step it restores, are not recorded).
      await page.evaluate(() => {
        window.__steps = [];
        new MutationObserver(() => {
          if (document.body.dataset.recovered) window.__steps.push(Number(document.getElementById('train-step-count').textContent));
        }).observe(document.getElementById('train-step-count'), { childList: true, characterData: true, subtree: true });
      });
      await loseDevice(page);
      const at = Number(/step (\d+)/.exec(await page.textContent('#notice'))[1]);
      assert(at >= 4, `recovered at step ${at}`);
      await page.waitForFunction((a) => Number(document.body.dataset.trainStep) >= a + 20, at, { timeout: 120_000 });
      await page.click('#train-pause');
      const steps = await page.evaluate(() => window.__steps);
      assert(steps.length > 0 && Math.min(...steps) >= at, `the step count went back below ${at}: ${steps}`);
      assert(await page.isHidden('#error'), `error after recovery: ${await page.textContent('#error')}`);
      await checkHealthy(page, problems);
    }),
  ],
  [
    'images (flex): digits and the forward image; the dropped reference UNet samples, and its DDIM matches diffusers',
    () => withPage(WEBGPU_ARGS, async (page, problems) => {
      await ready(page, '#backend=flex&data=digits&digit=7&igrid=2&isteps=10&ispeed=2');
      assert((await page.getAttribute('body', 'data-backend')) === 'flex', 'expected flex');
      // The digit is noised, with the default digit model loaded beside it.
      await scrub(page, 0);
      const clean = await pixelSpread(page, '#forward-canvas');
      assert(clean > 40, `digit #7 is not drawn (spread ${clean})`);
      assert((await page.getAttribute('body', 'data-image-x0')) === 'digit', 'x₀ should be a digit');
      await scrub(page, 300);
      const noisy = await pixelSpread(page, '#forward-canvas');
      assert(Math.abs(noisy - clean) > 3, `t = 300 looks like t = 0 (${noisy} vs ${clean})`);
      assert((await hashParams(page)).t === '300', 'the scrubber is not in the hash');
      const origin = await page.getAttribute('body', 'data-image-model');
      assert(origin === 'the default digit model', `the page starts with ${origin}, not the default digit model`);
      // Drop the reference folder: it samples a 2×2 grid, 10 DDIM steps.
      await loadReference(page, 'drop');
      assert(/not part of the link/.test(await page.textContent('#model-caption')), 'the caption must say a dropped model is not in the link');
      await page.waitForSelector('body[data-image-done="1"]', { timeout: 300_000 });
      await imagePanelsRender(page, 'flex');
      await page.screenshot({ path: path.join(SHOTS, 'images-flex.png'), fullPage: true });
      // The page's deterministic DDIM from the reference x_T against diffusers' DDIMScheduler.
      await checkReferenceDdim(page, 'flex');
      // The same folder through the folder picker.
      await loadReference(page, 'pick');
      assert((await page.getAttribute('body', 'data-image-model')) === 'the folder ref_small_unet', `origin ${await page.getAttribute('body', 'data-image-model')}`);
      await checkHealthy(page, problems);
    }),
  ],
  [
    'images (flex): a dropped v-prediction UNet (scaled-linear β, set_alpha_to_one false) samples as diffusers does',
    () => withPage(WEBGPU_ARGS, async (page, problems) => {
      // The reverse panel's DDIM options hold in image mode too: trailing spacing, as the model's
      // DDIMScheduler; everything else comes from its scheduler_config.json.
      await ready(page, '#backend=flex&data=digits&igrid=2&isteps=10&ieta=0&ispeed=2&ddim.spacing=trailing');
      const vpred = path.join(REFERENCE, 'ref_vpred');
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dplay-vpred-'));
      for (const f of [...UNET_FILES, 'scheduler_config.json']) fs.copyFileSync(path.join(vpred, f), path.join(dir, f));
      await dropFiles(page, dir);
      const m = await modelMessage(page);
      assert(m.kind === 'ok', `the v-prediction UNet did not load: ${JSON.stringify(m)}`);
      const caption = await page.textContent('#model-caption');
      assert(/predicts v/.test(caption) && /1×16×16/.test(caption), `caption: ${caption}`);
      const xT = readNpyF32(path.join(vpred, 'ddim_xT.npy'));
      const got = await page.evaluate((init) => window.dplay.images.reverse.runFrom(Float32Array.from(init)).then(Array.from), Array.from(xT.data));
      const want = readNpyF32(path.join(vpred, 'ddim10_x0.npy')).data;
      const max = maxAbsDiff(got, want);
      console.log(`    (info) flex v-prediction DDIM 10 against diffusers: max |Δ| = ${max.toExponential(3)}`);
      assert(max <= DDIM_TOLERANCE.flex, `v-prediction DDIM 10: max |Δ| = ${max} against diffusers`);
      await checkHealthy(page, problems);
    }),
  ],
  [
    'images (flex): a dropped class-conditional UNet samples its class with classifier-free guidance, as diffusers does',
    () => withPage(WEBGPU_ARGS, async (page, problems) => {
      await ready(page, '#backend=flex&data=digits&igrid=2&isteps=10&ieta=0&ispeed=2&guide.label=5&guide.scale=2.5');
      assert(await page.isHidden('#guidance-controls'), 'the default digit model is not class-conditional: no guidance controls');
      const cond = path.join(REFERENCE, 'ref_class_cond');
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dplay-cond-'));
      for (const f of [...UNET_FILES, 'scheduler_config.json']) fs.copyFileSync(path.join(cond, f), path.join(dir, f));
      await dropFiles(page, dir);
      const m = await modelMessage(page);
      assert(m.kind === 'ok', `the class-conditional UNet did not load: ${JSON.stringify(m)}`);
      assert(/class-conditional, labels 0–10/.test(await page.textContent('#model-caption')), await page.textContent('#model-caption'));
      assert(await page.isVisible('#opt-guide-scale') && (await page.inputValue('#opt-guide-label')) === '5', 'the guidance controls should show the hash');
      // diffusers' reference guides the three x_T with labels 1, 5, 8; the page gives every
      // image one label, and each image's walk depends on its own x_T and label only, so the
      // second image (label 5) must match.
      const xT = readNpyF32(path.join(cond, 'ddim_xT.npy'));
      const got = await page.evaluate((init) => window.dplay.images.reverse.runFrom(Float32Array.from(init)).then(Array.from), Array.from(xT.data));
      const d = xT.data.length / 3;
      const want = readNpyF32(path.join(cond, 'cfg2.5_ddim10_x0.npy')).data.slice(d, 2 * d);
      const max = maxAbsDiff(got.slice(d, 2 * d), want);
      console.log(`    (info) flex guided DDIM 10 (label 5, s = 2.5) against diffusers: max |Δ| = ${max.toExponential(3)}`);
      assert(max <= DDIM_TOLERANCE.flex, `guided DDIM 10: max |Δ| = ${max} against diffusers`);
      // Another scale samples something else.
      await choose(page, '#opt-guide-scale', '1');
      const plain = await page.evaluate((init) => window.dplay.images.reverse.runFrom(Float32Array.from(init)).then(Array.from), Array.from(xT.data));
      assert(maxAbsDiff(plain.slice(d, 2 * d), want) > 1e-2, 'the guidance scale changes nothing');
      assert((await hashParams(page))['guide.scale'] === '1', 'the scale is not in the hash');
      await checkHealthy(page, problems);
    }),
  ],
  [
    'images (flex): the default digit model comes with the page, and its samples look like digits',
    () => withPage(WEBGPU_ARGS, async (page, problems) => {
      await ready(page, '#backend=flex&data=digits&igrid=3&isteps=20&ispeed=5');
      // The page samples the model it starts with straight away.
      await page.waitForSelector('body[data-image-model="the default digit model"]', { timeout: 120_000 });
      assert(/ddpm_digits|default digit model/.test(await page.textContent('#model-caption')), await page.textContent('#model-caption'));
      await page.waitForSelector('body[data-image-done="1"]', { timeout: 300_000 });
      await imagePanelsRender(page, 'default model');
      // Nine samples at the end of DDIM: white strokes on black, as the digits are (the model's
      // judge, 256 samples, is tests/digit_model.rs). Noise, a blank or a grey blur all fail.
      const s = await greyStats(page, '#grid-xt');
      assert(s.dark > 0.6 && s.ink > 0.04 && s.mid < 0.25, `the samples do not look like digits: ${JSON.stringify(s)}`);
      await page.screenshot({ path: path.join(SHOTS, 'images-default-model.png'), fullPage: true });
      await checkHealthy(page, problems);
    }),
  ],
  [
    'images (no WebGPU): with the default model gone from the server, a notice offers to drop one',
    () => withPage(['--disable-gpu', '--disable-webgpu'], async (page, problems) => {
      await page.context().route('**/weights/ddpm_digits/**', (route) => route.fulfill({ status: 404, body: 'not found' }));
      await ready(page, '#data=digits&igrid=2');
      const m = await modelMessage(page);
      assert(m.kind === 'info' && /not on this server yet/.test(m.text) && /Drop/.test(m.text), `no-model notice: ${JSON.stringify(m)}`);
      assert(!(await page.getAttribute('body', 'data-image-model')), 'a model is in use');
      assert(await page.isDisabled('#sample'), '▶ sample is enabled without a model');
      await checkHealthy(page, problems);
    }),
  ],
  [
    'images (no WebGPU): malformed, mismatched and too-large folders get an inline message; the page keeps working',
    () => withPage(['--disable-gpu', '--disable-webgpu'], async (page, problems) => {
      await ready(page, '#data=digits&igrid=2&isteps=4&ispeed=4');
      assert((await page.getAttribute('body', 'data-backend')) === 'flex', 'expected the CPU fallback');
      await loadReference(page, 'pick');
      await page.waitForSelector('body[data-image-done="1"]', { timeout: 300_000 });
      await imagePanelsRender(page, 'no WebGPU');
      const bad = [
        ['malformed', unetFolder('malformed', { config: '{"in_channels": 1, "sample_size": 28,' }), /config\.json: not JSON/],
        ['no weights', unetFolder('noweights', { drop: ['diffusion_pytorch_model.safetensors'] }), /no diffusion_pytorch_model\.safetensors/],
        ['mismatched', unetFolder('mismatched', { config: { block_out_channels: [32, 64, 128] } }), /tensor '[^']+' has shape \[.*\], the config expects/],
        ['too large', unetFolder('too_large', { config: { sample_size: 1024 } }), /too large for this device: the attention scores of down_blocks\.1.*exceeds the CPU backend's cap per tensor \(1 GiB\)/],
      ];
      for (const [name, dir, want] of bad) {
        await page.setInputFiles('#model-dir', dir);
        const m = await modelMessage(page);
        assert(m.kind === 'error' && want.test(m.text), `${name}: ${JSON.stringify(m)}`);
        assert(/the page keeps the folder ref_small_unet/.test(m.text), `${name}: the message does not say what stays: ${m.text}`);
        assert((await page.getAttribute('body', 'data-image-model')) === 'the folder ref_small_unet', `${name} replaced the model`);
        fs.rmSync(path.dirname(dir), { recursive: true, force: true });
      }
      await page.screenshot({ path: path.join(SHOTS, 'images-bad-folder.png'), fullPage: true });
      // The page keeps working with the previous model: a new 1×1 grid runs to its end, and a grid
      // begun anew moves one step per press of "step".
      await choose(page, '#igrid', '1');
      await page.waitForFunction(() => document.body.dataset.imageDone === '1' && document.body.dataset.imageStep === '4', null, { timeout: 300_000 });
      assert((await pixelSpread(page, '#grid-x0')) > 5, 'the new grid is blank');
      await page.evaluate(() => window.dplay.images.reverse.begin());
      await page.waitForSelector('body[data-image-step="0"]', { timeout: 120_000 });
      await page.click('#step-once');
      await page.waitForSelector('body[data-image-step="1"]', { timeout: 120_000 });
      assert((await page.textContent('#step-counter')) === '1', 'step did not take one step');
      assert(await page.isHidden('#error'), `error: ${await page.textContent('#error')}`);
      await checkHealthy(page, problems);
    }),
  ],
  [
    'images (flex): a diffusers DDPMPipeline folder and a folder written by dplay train load, with their schedulers, and sample',
    () => withPage(WEBGPU_ARGS, async (page, problems) => {
      await ready(page, '#backend=flex&data=digits&igrid=3&isteps=10&ispeed=5');
      await page.waitForSelector('body[data-image-model="the default digit model"]', { timeout: 120_000 });
      // A folder picked once the grid in view is finished; done again only when the new model's
      // grid is.
      const pick = async (dir) => {
        await page.waitForSelector('body[data-image-done="1"]', { timeout: 300_000 });
        await page.evaluate(() => { delete document.body.dataset.imageDone; });
        await page.setInputFiles('#model-dir', dir);
        return modelMessage(page);
      };
      // A pipeline as DDPMPipeline.save_pretrained writes it: the UNet in unet/, its scheduler in
      // scheduler/. The scheduler's T = 500 (the reference config's own default is 1000) shows
      // that the page read scheduler/scheduler_config.json.
      const root = fs.mkdtempSync(path.join(os.tmpdir(), 'dplay-pipeline-'));
      const pipe = path.join(root, 'ddpm-pipeline');
      for (const d of ['unet', 'scheduler']) fs.mkdirSync(path.join(pipe, d), { recursive: true });
      fs.writeFileSync(path.join(pipe, 'model_index.json'), JSON.stringify({
        _class_name: 'DDPMPipeline', _diffusers_version: '0.30.0', scheduler: ['diffusers', 'DDPMScheduler'], unet: ['diffusers', 'UNet2DModel'],
      }));
      for (const f of UNET_FILES) fs.copyFileSync(referenceFile(f), path.join(pipe, 'unet', f));
      fs.writeFileSync(path.join(pipe, 'scheduler', 'scheduler_config.json'), JSON.stringify({
        _class_name: 'DDPMScheduler', num_train_timesteps: 500, beta_start: 0.0001, beta_end: 0.02, beta_schedule: 'linear',
        clip_sample: true, prediction_type: 'epsilon', variance_type: 'fixed_small',
      }));
      let m = await pick(pipe);
      assert(m.kind === 'ok', `the pipeline folder did not load: ${JSON.stringify(m)}`);
      assert((await page.getAttribute('body', 'data-image-model')) === 'the folder ddpm-pipeline', await page.getAttribute('body', 'data-image-model'));
      const caption = await page.textContent('#model-caption');
      assert(/1×28×28/.test(caption) && /T = 500\b/.test(caption), `pipeline caption: ${caption}`);
      await page.waitForSelector('body[data-image-done="1"]', { timeout: 300_000 });
      assert((await pixelSpread(page, '#grid-x0')) > 5, 'the pipeline\'s grid is blank');
      await equationRendered(page, '#reverse-eq', 'image DDIM');
      fs.rmSync(root, { recursive: true, force: true });

      // The page's digit model as `dplay train` wrote it (its train.json, check.json and check.png
      // beside the model files), picked as a folder: the grid turns into digits again.
      m = await pick(path.join(WWW, 'weights', 'ddpm_digits'));
      assert(m.kind === 'ok', `the dplay train folder did not load: ${JSON.stringify(m)}`);
      assert((await page.getAttribute('body', 'data-image-model')) === 'the folder ddpm_digits', await page.getAttribute('body', 'data-image-model'));
      assert(/T = 1000\b/.test(await page.textContent('#model-caption')), await page.textContent('#model-caption'));
      await page.waitForSelector('body[data-image-done="1"]', { timeout: 300_000 });
      const s = await greyStats(page, '#grid-xt');
      assert(s.dark > 0.6 && s.ink > 0.04 && s.mid < 0.25, `the samples do not look like digits: ${JSON.stringify(s)}`);
      await page.screenshot({ path: path.join(SHOTS, 'images-pipeline-and-dplay-folders.png'), fullPage: true });
      await checkHealthy(page, problems);
    }),
  ],
  [
    'images (flex): SDEdit of a drawing on the pad, end to end',
    () => withPage(WEBGPU_ARGS, async (page, problems) => {
      await ready(page, '#backend=flex&data=digits&igrid=1&isteps=10&t0=600&ispeed=5');
      await loadReference(page, 'drop');
      // A vertical stroke, drawn with the mouse on the 28×28 pad: x₀ becomes the drawing.
      await page.locator('#pad-canvas').scrollIntoViewIfNeeded();
      const box = await page.$eval('#pad-canvas', (c) => {
        const r = c.getBoundingClientRect();
        return { x: r.left, y: r.top, w: r.width, h: r.height };
      });
      await page.mouse.move(box.x + box.w * 0.5, box.y + box.h * 0.2);
      await page.mouse.down();
      await page.mouse.move(box.x + box.w * 0.5, box.y + box.h * 0.8, { steps: 12 });
      await page.mouse.up();
      await page.waitForSelector('body[data-image-x0="pad"]', { timeout: 60_000 });
      const p = await hashParams(page);
      assert(p.x0src === 'pad' && p.pad?.length === 523, `the drawing is not in the hash: ${JSON.stringify(p)}`);
      assert((await pixelSpread(page, '#sd-guide')) > 20, 'the guide is not drawn');
      await page.click('#sd-run');
      await page.waitForSelector('body[data-sdedit-done="1"]', { timeout: 300_000 });
      // DDIM 10 (leading: 900, 800, ..., 0): the edit starts at the step at or below t₀ = 600.
      assert((await page.getAttribute('body', 'data-sdedit-start')) === '600', `start ${await page.getAttribute('body', 'data-sdedit-start')}`);
      assert((await bodyNumber(page, 'sdeditStep')) === 7, `SDEdit took ${await bodyNumber(page, 'sdeditStep')} steps, not 7 (600, 500, ..., 0)`);
      assert(/noised to t = 600/.test(await page.textContent('#sd-caption')), await page.textContent('#sd-caption'));
      for (const sel of ['#sd-xt', '#sd-x0']) assert((await pixelSpread(page, sel)) > 5, `${sel} is blank`);
      await page.screenshot({ path: path.join(SHOTS, 'images-sdedit.png'), fullPage: true });
      // The keyboard draws on the pad too: a dab at the cursor changes the drawing.
      const before = (await hashParams(page)).pad;
      await page.focus('#pad-canvas');
      await page.keyboard.press('ArrowLeft');
      await page.keyboard.press('Shift+ArrowUp');
      await page.keyboard.press('Enter');
      await page.waitForFunction((b) => new URLSearchParams(location.hash.slice(1)).get('pad') !== b, before, { timeout: 120_000 });
      await checkHealthy(page, problems);
    }),
  ],
  [
    'images: hash round trip of the image keys; mode switches both ways; layout at 1280x720 and 390 px',
    async () => {
      const pad = 'A'.repeat(200) + 'D'.repeat(4) + 'A'.repeat(319); // a few inked pixels
      const want = { backend: 'flex', seed: '3', data: 'digits', digit: '42', x0src: 'pad', pad, isampler: 'ancestral', isteps: '20', ieta: '0.5', igrid: '3', ispeed: '2', t0: '321' };
      for (const [w, h] of [[1280, 720], [390, 844]]) {
        await withPage(['--disable-gpu', '--disable-webgpu'], async (page, problems) => {
          await ready(page, `#${new URLSearchParams(want)}`);
          assert(sameParams(await hashParams(page), want), `hash after load ${JSON.stringify(await hashParams(page))}`);
          for (const [sel, v] of [['#digit', '42'], ['#x0src', 'pad'], ['#isampler', 'ancestral'], ['#isteps', '20'], ['#ieta', '0.5'], ['#igrid', '3'], ['#ispeed', '2'], ['#sd-t0', '321']]) {
            assert((await page.inputValue(sel)) === v, `${sel} shows ${await page.inputValue(sel)}, want ${v}`);
          }
          await page.waitForSelector('body[data-image-x0="pad"]', { timeout: 60_000 });
          assert(await page.isHidden('#state-notice'), `notice for a valid hash: ${await page.textContent('#state-notice')}`);
          const overflow = await page.evaluate(() => document.documentElement.scrollWidth - innerWidth);
          assert(overflow <= 0, `${w}px: image mode scrolls sideways by ${overflow}px`);
          const unlabelled = await page.$$eval('input, select', (els) => els.filter((e) => e.labels.length === 0).map((e) => e.id));
          assert(unlabelled.length === 0, `controls without a label: ${unlabelled}`);
          for (const id of ['forward-canvas', 'grid-xt', 'pad-canvas', 'sd-guide']) {
            const bw = await page.$eval(`#${id}`, (c) => c.getBoundingClientRect().width);
            assert(bw >= 100 && bw <= w, `${w}px: #${id} is ${bw}px wide`);
          }
          // The help layer has the image views' text.
          await page.click('#help-toggle');
          assert(await page.isVisible('#sdedit-panel .help'), 'no SDEdit help');
          assert(/x̂/.test(await page.textContent('#reverse-panel .help')), 'no x̂₀ equation in the reverse help');
          await page.screenshot({ path: path.join(SHOTS, `images-layout-${w}.png`), fullPage: true });
          if (w === 1280) {
            // A change lands in the hash and survives a reload; 2-D data and back again.
            await choose(page, '#digit', '43');
            await choose(page, '#data-select', 'moons');
            await page.waitForSelector('body[data-mode="points"][data-data-kind="toy"]', { timeout: 120_000 });
            assert(await page.isVisible('#score-panel') && await page.isHidden('#sdedit-panel'), 'the 2-D panels are not back');
            await page.waitForFunction(() => Number(document.body.dataset.reverseStep ?? 0) > 0, null, { timeout: 120_000 });
            await choose(page, '#data-select', 'digits');
            await page.waitForSelector('body[data-mode="images"]', { timeout: 60_000 });
            const after = await hashParams(page);
            assert(after.digit === '43' && after.data === 'digits' && after.pad === pad, `hash after changes ${JSON.stringify(after)}`);
            const url = page.url();
            await page.goto('about:blank');
            await page.goto(url);
            await page.waitForSelector('body[data-ready="1"]', { timeout: 120_000 });
            assert(JSON.stringify(await hashParams(page)) === JSON.stringify(after), 'the hash did not survive a reload');
          }
          await checkHealthy(page, problems);
        }, { width: w, height: h });
      }
      // A pad that is not 523 characters is a corrupt hash.
      await withPage(['--disable-gpu', '--disable-webgpu'], async (page, problems) => {
        await ready(page, '#data=digits&pad=abc');
        assert(/could not be read/.test(await page.textContent('#state-notice')), 'no notice for a bad pad');
        await checkHealthy(page, problems);
      });
    },
  ],
  [
    'images (webgpu): the reference UNet on WebGPU: every panel renders, DDIM from x_T, SDEdit; a lost device leaves it on the CPU',
    () => withPage(WEBGPU_ARGS, async (page, problems) => {
      // SwiftShader compiles every kernel slowly: 4 images, 10 steps at most.
      await ready(page, '#data=digits&igrid=2&isteps=10&ispeed=10&t0=300');
      assert((await page.getAttribute('body', 'data-backend')) === 'webgpu', 'expected WebGPU');
      await loadReference(page, 'drop');
      await page.waitForSelector('body[data-image-done="1"]', { timeout: 600_000 });
      await imagePanelsRender(page, 'webgpu');
      await checkReferenceDdim(page, 'webgpu');
      await page.click('#sd-run');
      await page.waitForSelector('body[data-sdedit-done="1"]', { timeout: 600_000 });
      assert((await page.getAttribute('body', 'data-sdedit-start')) === '300', 'SDEdit start');
      await page.screenshot({ path: path.join(SHOTS, 'images-webgpu.png'), fullPage: true });

      // The device is lost while a grid is sampling: image mode goes on on the CPU with the dropped
      // model, not the default one, and its DDIM now meets diffusers at the CPU's bound.
      const model = await page.getAttribute('body', 'data-image-model');
      assert(model === 'the dropped files', `model in use: ${model}`);
      await page.click('#sample');
      await page.waitForSelector('body[data-image-running="1"]', { state: 'attached', timeout: 600_000 });
      await loseDevice(page);
      const notice = await page.textContent('#notice');
      assert(/lost/.test(notice) && /CPU/.test(notice), `notice: ${notice}`);
      // The grid restarts on the CPU once the panels have (a grid done on WebGPU is no answer).
      await page.waitForSelector('body[data-recovered="done"]', { timeout: 300_000 });
      await page.waitForSelector('body[data-image-done="1"]', { timeout: 300_000 });
      assert((await page.getAttribute('body', 'data-image-model')) === model, `after recovery the page uses ${await page.getAttribute('body', 'data-image-model')}`);
      assert(await page.isHidden('#error'), `error after recovery: ${await page.textContent('#error')}`);
      await checkReferenceDdim(page, 'flex');
      await page.screenshot({ path: path.join(SHOTS, 'images-webgpu-device-lost.png'), fullPage: true });
      await checkHealthy(page, problems);
    }),
  ],
];

const only = process.argv[2];
let passed = 0;
let failed = 0;
for (const [name, fn] of tests) {
  if (only && !name.startsWith(only)) continue;
  const t0 = Date.now();
  try {
    await fn();
    passed++;
    console.log(`test ${name} ... ok (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  } catch (e) {
    failed++;
    console.log(`test ${name} ... FAILED (${((Date.now() - t0) / 1000).toFixed(1)} s)\n    ${e.message.split('\n').join('\n    ')}`);
  }
}
server.close();
console.log(`screenshots in ${path.relative(ROOT, SHOTS)}/`);
console.log(`test result: ${failed ? 'FAILED' : 'ok'}. ${passed} passed; ${failed} failed`);
process.exit(failed ? 1 : 0);
