// Browser benchmark: the bench page on flex and on WebGPU in headless Chromium, printed in one
// table beside the native figures of `dplay bench --json FILE` (the first argument, optional).
// Not a test. BENCH_N, BENCH_STEPS, BENCH_TRAIN (objectives), BENCH_BATCH, BENCH_TRAIN_STEPS.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve } from './serve.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const n = Number(process.env.BENCH_N ?? 10000);
const steps = Number(process.env.BENCH_STEPS ?? 20);
const objectives = (process.env.BENCH_TRAIN ?? 'ddpm,ncsn,dsm,ssm,ism,esm').split(',');
const batch = Number(process.env.BENCH_BATCH ?? 256);
const trainSteps = Number(process.env.BENCH_TRAIN_STEPS ?? 10);
const native = process.argv[2] && fs.existsSync(process.argv[2]) ? JSON.parse(fs.readFileSync(process.argv[2], 'utf8')) : null;

const server = await serve(path.join(ROOT, 'www'), 0);
const base = `http://127.0.0.1:${server.address().port}/bench.html`;
const rows = []; // [where, backend, adapter, sampling steps/s, {objective: train steps/s}]
for (const backend of ['flex', 'webgpu']) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dplay-bench-'));
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--enable-unsafe-webgpu', '--no-sandbox', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  const hash = `backend=${backend}&n=${n}&steps=${steps}&train=${objectives.join(',')}&batch=${batch}&trainSteps=${trainSteps}`;
  await page.goto(`${base}#${hash}`);
  await page.waitForFunction(() => window.benchResult, null, { timeout: 3_600_000 });
  const r = await page.evaluate(() => window.benchResult);
  if (r.error) console.log(`wasm ${backend}: error ${r.error}`);
  else {
    if (!rows.length) console.log(`browser: ${r.userAgent}, ${r.machine.cores} logical cores`);
    rows.push(['Chromium, wasm in a worker', r.backend, r.adapter ?? 'CPU', r.stepsPerSec,
      Object.fromEntries(r.training.map((t) => [t.objective, t.stepsPerSec]))]);
  }
  await ctx.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
server.close();

if (native) {
  console.log(`native: ${native.machine}`);
  rows.unshift(...[...new Set(native.rows.map((r) => r.device))].map((device) => {
    const of = native.rows.filter((r) => r.device === device);
    const sampling = of.find((r) => r.kind === 'sample' && r.name === 'ancestral' && r.score === 'mlp');
    return ['native (dplay bench)', device, of[0].adapter, sampling?.steps_per_sec ?? NaN,
      Object.fromEntries(of.filter((r) => r.kind === 'train').map((r) => [r.name, r.steps_per_sec]))];
  }));
}
const fmt = (v) => (v === undefined || Number.isNaN(v) ? '–' : v >= 100 ? v.toFixed(0) : v.toPrecision(3));
console.log(`\nsteps/s: DDPM ancestral sampling of ${n} points with the MLP; MLP training at batch ${batch} (VP, T = 1000)`);
console.log(`| where | backend | adapter | sampling | ${objectives.map((o) => `train ${o}`).join(' | ')} |`);
console.log(`| --- | --- | --- | ---: | ${objectives.map(() => '---:').join(' | ')} |`);
for (const [where, backend, adapter, sampling, train] of rows) {
  console.log(`| ${where} | ${backend} | ${adapter} | ${fmt(sampling)} | ${objectives.map((o) => fmt(train[o])).join(' | ')} |`);
}
