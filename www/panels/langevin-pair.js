// Score panel, below the field: plain and annealed Langevin side by side on the exact score of the
// mixture, from one seed, animated together, then the mixture weights each recovered beside the
// true ones (Song & Ermon 2019, §3.2.2). Their settings are the reverse panel's Langevin and
// annealed Langevin options; the walks run in the worker (src/web/compare.rs).
import { COLORS, drawPoints } from '../draw.js';
import { samplerSpec } from './reverse.js';
import { fillWeights } from './weights-table.js';

const $ = (id) => document.getElementById(id);
// Both walks keep pace with the clock and end together after about this long, whatever their
// step counts and whatever else the worker is doing (the reverse panel shares it: on a slow
// adapter its frames come seconds apart, and each of ours catches up with the clock).
const DURATION_MS = 3000;

export class LangevinPair {
  constructor({ state, call, onError }) {
    this.state = state;
    this.call = call;
    this.onError = onError;
    this.weights = null; // the true mixture weights; null where the data is not a mixture
    this.x = null; // the data, drawn faintly behind the samples
    this.run = 0; // the walk in progress; a newer one (or a stop) makes older frames stale
    this.running = false;
  }

  init() {
    $('pair-run').addEventListener('click', () => this.start().catch(this.onError));
    $('pair-stop').addEventListener('click', () => this.stop());
  }

  // New data (or a new draw of it): the comparison needs a mixture's exact score.
  setData(x, info) {
    this.stop();
    this.x = x;
    this.weights = info?.weights ?? null;
    $('pair-weights').hidden = true;
    for (const id of ['pair-plain', 'pair-annealed']) drawPoints($(id), [{ points: x, color: COLORS.data, size: 2 }]);
    this.message(this.weights ? null : 'The comparison runs on the exact score, which only the Gaussian mixtures have: choose one in the Data panel.');
    this.buttons();
  }

  message(text) {
    $('pair-message').textContent = text ?? '';
    $('pair-message').hidden = !text;
  }

  buttons() {
    $('pair-run').disabled = !this.weights || this.running;
    $('pair-stop').disabled = !this.running;
    document.body.dataset.pairRunning = this.running ? '1' : '0';
  }

  stop() {
    this.run++;
    this.running = false;
    this.buttons();
  }

  async start() {
    const run = ++this.run;
    this.running = true;
    this.buttons();
    this.message(null);
    $('pair-weights').hidden = true;
    delete document.body.dataset.pairWeights;
    const specs = ['langevin', 'annealed_langevin'].map((sampler) => samplerSpec({ ...this.state, sampler }));
    try {
      const { totals } = await this.call('startComparison', { specs, n: this.state.n, seed: this.state.seed });
      const t0 = performance.now();
      let f;
      do {
        if (f) await new Promise(requestAnimationFrame);
        if (run !== this.run) return;
        const due = Math.min(1, (performance.now() - t0) / DURATION_MS);
        const taken = totals.map((t, i) => (f ? t - f.remaining[i] : 0));
        const ks = totals.map((t, i) => Math.max(1, Math.ceil(t * due) - taken[i]));
        f = await this.call('comparisonSteps', { ks });
        if (run !== this.run) return;
        this.draw(f, totals);
      } while (f.remaining.some((r) => r > 0));
      this.showWeights(f.weights);
    } catch (e) {
      if (run !== this.run || e.lost) return;
      this.message(e.message);
    } finally {
      if (run === this.run) {
        this.running = false;
        this.buttons();
      }
    }
  }

  // The two samples, each half of `f.x` ([2, n, 2]).
  halves(f) {
    const half = f.x.length / 2;
    return [f.x.slice(0, half), f.x.slice(half)];
  }

  draw(f, totals) {
    const [plain, annealed] = this.halves(f);
    const steps = (i) => `${totals[i] - f.remaining[i]}/${totals[i]} steps`;
    const data = { points: this.x, color: COLORS.data, size: 2 };
    drawPoints($('pair-plain'), [data, { points: plain, color: COLORS.xt, size: 2 }]);
    drawPoints($('pair-annealed'), [data, { points: annealed, color: COLORS.xt, size: 2 }]);
    $('pair-plain-caption').textContent = `Langevin · ${steps(0)}`;
    $('pair-annealed-caption').textContent = `annealed Langevin · ${steps(1)}`;
  }

  // `weights`: [2, K], the plain walk's then the annealed one's.
  showWeights(weights) {
    const K = this.weights.length;
    const got = [weights.slice(0, K), weights.slice(K)];
    fillWeights($('pair-weights'), this.weights, ...got);
    document.body.dataset.pairWeights = JSON.stringify(got.map((w) => Array.from(w)));
  }
}
