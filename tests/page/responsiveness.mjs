// Responsiveness benchmark: the page's main thread while a person uses it, in headless Chromium on
// WebGPU and on the CPU backend. Each phase is driven through real input (Playwright's mouse and
// keyboard) and nothing reads the page's canvases, so every task measured is the page's own or the
// browser's work for it. Reports, per phase, the longest main-thread task (Long Tasks API) and the
// longest animation frame with what filled it (the page's scripts, style and layout, rendering)
// and how long of it blocked input (a frame can also wait on the GPU process: SwiftShader runs
// WebGPU's compute and the page's compositing in the same process).
// The page's bound is 50 ms per task. Not a test: how long a task takes depends on the machine
// and its load (headless Chromium renders on the CPU here). RESP_PHASE_S sets each phase's length.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve } from './serve.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PHASE_MS = 1000 * Number(process.env.RESP_PHASE_S ?? 8);
const BOUND_MS = 50;
const ARGS = ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage', '--enable-unsafe-webgpu'];

// Recorded from the first byte: long tasks, and long animation frames with their scripts.
function observe() {
  window.__tasks = [];
  window.__frames = [];
  new PerformanceObserver((l) => {
    for (const e of l.getEntries()) window.__tasks.push({ at: e.startTime, ms: e.duration });
  }).observe({ type: 'longtask', buffered: true });
  new PerformanceObserver((l) => {
    for (const e of l.getEntries()) {
      const end = e.startTime + e.duration;
      const own = e.scripts.filter((s) => s.sourceURL.startsWith(location.origin));
      const top = own.reduce((a, s) => (s.duration > (a?.duration ?? 0) ? s : a), null);
      window.__frames.push({
        at: e.startTime,
        ms: e.duration,
        blocking: e.blockingDuration,
        scripts: own.reduce((a, s) => a + s.duration, 0),
        top: top ? `${top.sourceURL.slice(location.origin.length)} ${top.invoker}`.trim() : '',
        layout: e.styleAndLayoutStart ? end - e.styleAndLayoutStart : 0,
        render: e.renderStart ? end - e.renderStart : 0,
      });
    }
  }).observe({ type: 'long-animation-frame', buffered: true });
}

const mark = (page) => page.evaluate(() => performance.now());
const body = (page, key) => page.evaluate((k) => document.body.dataset[k], key);

// Move a slider by keyboard: `presses` of PageUp spread over `ms`.
async function slide(page, selector, presses, ms) {
  await page.focus(selector);
  for (let i = 0; i < presses; i++) {
    await page.keyboard.press('PageUp');
    await page.waitForTimeout(ms / presses);
  }
}

// The panel has drawn the slider's last position (the worker answers in order, after the frames
// already asked of it).
function caughtUp(page, key, slider) {
  return page.waitForFunction(([k, sel]) => document.body.dataset[k] === document.querySelector(sel).value, [key, slider], { timeout: 300_000 });
}

// One phase: `drive` uses the page, and `moved` (a <body data-*> key) must change during it, or the
// phase measured a page that did nothing.
async function phase(page, rows, backend, name, moved, drive) {
  const before = moved && (await body(page, moved));
  const from = await mark(page);
  await drive();
  const to = await mark(page);
  if (moved && (await body(page, moved)) === before) throw new Error(`${backend}, ${name}: data-${moved} stayed ${before}; the phase did not run`);
  const { tasks, frames } = await page.evaluate(([a, b]) => ({
    tasks: window.__tasks.filter((t) => t.at >= a && t.at < b),
    frames: window.__frames.filter((f) => f.at >= a && f.at < b),
  }), [from, to]);
  const worst = frames.reduce((a, f) => (f.ms > (a?.ms ?? 0) ? f : a), null);
  rows.push({
    backend,
    name,
    over: tasks.filter((t) => t.ms > BOUND_MS).length,
    task: Math.max(0, ...tasks.map((t) => t.ms)),
    frame: worst,
  });
}

async function run(backend) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dplay-resp-'));
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ARGS,
    viewport: { width: 1280, height: 720 },
  });
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  await page.addInitScript(observe);
  const rows = [];
  const hash = backend === 'flex' ? '#backend=flex' : '';
  const idle = () => page.waitForTimeout(PHASE_MS);
  try {
    await phase(page, rows, backend, 'load', 'ready', async () => {
      await page.goto(`${base}${hash}`);
      await page.waitForSelector('body[data-ready="1"]', { state: 'attached', timeout: 120_000 });
    });
    await phase(page, rows, backend, 'reverse sampling (running)', 'reverseStep', async () => {
      await page.waitForFunction(() => Number(document.body.dataset.reverseStep ?? 0) >= 10, null, { timeout: 120_000 });
      await idle();
    });
    await phase(page, rows, backend, 'forward scrubber (keys)', 'forwardT', async () => {
      await slide(page, '#t-scrub', 40, PHASE_MS);
      await caughtUp(page, 'forwardT', '#t-scrub');
    });
    await phase(page, rows, backend, 'score field (t slider, grid; Langevin pair)', 'scoreT', async () => {
      await slide(page, '#score-t', 10, PHASE_MS / 2);
      await caughtUp(page, 'scoreT', '#score-t');
      await page.selectOption('#score-heat', { index: 1 });
      await page.fill('#score-grid', '41');
      await page.press('#score-grid', 'Enter');
      await page.click('#pair-run');
      await page.waitForFunction(() => document.body.dataset.pairWeights !== undefined, null, { timeout: 300_000 });
      await idle();
    });
    await phase(page, rows, backend, 'training (▶ train, use in panels)', 'trainReports', async () => {
      await page.click('#train-play');
      await page.waitForFunction(() => !document.getElementById('train-use').disabled, null, { timeout: 300_000 });
      await idle();
      await page.click('#train-use');
      await idle();
      await page.click('#train-pause');
    });
    await phase(page, rows, backend, 'image mode (digits, grid sampling)', 'imageStep', async () => {
      await page.selectOption('#data-select', 'digits');
      await page.waitForSelector('body[data-mode="images"]', { state: 'attached' });
      await page.waitForFunction(() => !document.getElementById('sample').disabled, null, { timeout: 240_000 });
      await page.click('#sample');
      await page.waitForFunction(() => Number(document.body.dataset.imageStep ?? 0) >= 2, null, { timeout: 300_000 });
      await idle();
    });
    await phase(page, rows, backend, 'drawing pad and SDEdit', 'sdeditStep', async () => {
      const pad = await page.locator('#pad-canvas').boundingBox();
      await page.mouse.move(pad.x + pad.width * 0.5, pad.y + pad.height * 0.2);
      await page.mouse.down();
      for (let i = 0; i <= 20; i++) await page.mouse.move(pad.x + pad.width * 0.5, pad.y + pad.height * (0.2 + 0.03 * i), { steps: 2 });
      await page.mouse.up();
      await page.waitForFunction(() => !document.getElementById('sd-run').disabled, null, { timeout: 60_000 });
      await page.click('#sd-run');
      await page.waitForFunction(() => Number(document.body.dataset.sdeditStep ?? 0) >= 2, null, { timeout: 300_000 });
      await idle();
    });
    // The instrument: an 80 ms task of the page's must be caught.
    await phase(page, rows, backend, 'calibration (an 80 ms busy task)', null, async () => {
      await page.evaluate(() => setTimeout(() => { const t = performance.now(); while (performance.now() - t < 80); }));
      await page.waitForTimeout(500);
    });
    const cal = rows.at(-1);
    if (cal.over !== 1 || cal.task < 80) throw new Error(`the observer missed the 80 ms calibration task: ${JSON.stringify(cal)}`);
    rows.pop();
    const info = await page.evaluate(() => ({ adapter: document.getElementById('adapter').textContent, backend: document.body.dataset.backend }));
    for (const r of rows) r.adapter = info.adapter || 'CPU';
  } finally {
    await ctx.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

const server = await serve(path.join(ROOT, 'www'), 0);
const base = `http://127.0.0.1:${server.address().port}/`;
const rows = [];
try {
  for (const backend of ['webgpu', 'flex']) rows.push(...(await run(backend)));
} finally {
  server.close();
}

const ms = (v) => (v ? v.toFixed(0) : '0');
console.log(`\nmain-thread responsiveness (bound ${BOUND_MS} ms per task; ${os.cpus().length} logical cores, headless Chromium, ${PHASE_MS / 1000} s phases)`);
console.log('| backend | phase | tasks > 50 ms | longest task ms | longest frame ms | its blocking ms | its page scripts ms | its style+layout ms | its rendering ms | longest page script |');
console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
for (const r of rows) {
  const f = r.frame;
  console.log(`| ${r.backend} | ${r.name} | ${r.over} | ${ms(r.task)} | ${ms(f?.ms)} | ${ms(f?.blocking)} | ${ms(f?.scripts)} | ${ms(f?.layout)} | ${ms(f?.render)} | ${f?.top || '–'} |`);
}
const over = rows.reduce((a, r) => a + r.over, 0);
console.log(over ? `\n${over} main-thread task(s) over ${BOUND_MS} ms` : `\nno main-thread task over ${BOUND_MS} ms`);
