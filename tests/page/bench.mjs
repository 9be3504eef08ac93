// Browser benchmark: the bench page on WebGPU and on flex in headless Chromium. Not a test.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve } from './serve.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const n = Number(process.env.BENCH_N ?? 10000);
const steps = Number(process.env.BENCH_STEPS ?? 20);
const server = await serve(path.join(ROOT, 'www'), 0);
const base = `http://127.0.0.1:${server.address().port}/bench.html`;
for (const backend of ['flex', 'webgpu']) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dplay-bench-'));
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--enable-unsafe-webgpu', '--no-sandbox', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  await page.goto(`${base}#backend=${backend}&n=${n}&steps=${steps}`);
  await page.waitForFunction(() => window.benchResult, null, { timeout: 600_000 });
  const r = await page.evaluate(() => window.benchResult);
  if (r.error) console.log(`wasm ${backend}: error ${r.error}`);
  else console.log(`wasm ${r.backend}${r.adapter ? ` (${r.adapter})` : ''}: ${r.stepsPerSec.toFixed(1)} steps/s for ${r.n} points`);
  await ctx.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
server.close();
