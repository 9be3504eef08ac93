// Page tests: the real page in headless Chromium (Debian's /usr/bin/chromium) driven by
// playwright-core. Prints cargo-style "test result:" so build.sh can count the results.
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
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
if (!fs.existsSync(path.join(WWW, 'pkg', 'diffusion_playground_bg.wasm'))) {
  console.error('www/pkg is missing: run ./build.sh build first');
  process.exit(1);
}

const server = await serve(WWW, 0);
const BASE = `http://127.0.0.1:${server.address().port}/`;

async function withPage(args, fn) {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dplay-chromium-'));
  const ctx = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...BASE_ARGS, ...args],
    viewport: { width: 1100, height: 900 },
  });
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  const problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  // All computation belongs in the worker: record any wasm compiled on the main thread (init
  // scripts run in the page, not in its workers). Long tasks are recorded for the log only; how
  // long a task takes on a loaded 2-core machine is a benchmark, not a test.
  await page.addInitScript(() => {
    window.__mainThreadWasm = [];
    window.__longTasks = [];
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

// Fraction of canvas pixels that are not near-white: the drawing is visible.
async function inkFraction(page, id) {
  return page.evaluate((id) => {
    const c = document.getElementById(id);
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let ink = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && d[i] + d[i + 1] + d[i + 2] < 600) ink++;
    return ink / (c.width * c.height);
  }, id);
}

async function checkHealthy(page, problems) {
  const { wasm, long } = await page.evaluate(() => ({ wasm: window.__mainThreadWasm, long: window.__longTasks }));
  assert(wasm.length === 0, `wasm ran on the main thread (${wasm.join(', ')}); it belongs in the worker`);
  if (long.length) console.log(`    (info) longest main-thread task ${Math.max(...long).toFixed(0)} ms`);
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
  const a = Number(await page.textContent('#step-counter'));
  await page.waitForFunction((a) => Number(document.getElementById('step-counter').textContent) > a, a, {
    timeout: 60_000,
  });
  assert((await inkFraction(page, 'reverse-canvas')) > 0.002, 'reverse canvas is blank');
  await page.screenshot({ path: path.join(SHOTS, `${shot}-sampling.png`) });
  if (waitDone) {
    await page.waitForSelector('body[data-reverse-done="1"]', { timeout: 300_000 });
    assert((await page.textContent('#step-counter')) === '1000', 'sampling did not reach step 1000');
    await page.screenshot({ path: path.join(SHOTS, `${shot}-done.png`) });
  }
  await checkHealthy(page, problems);
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
