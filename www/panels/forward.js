// Forward panel: the noised data at the scrubber's t, small multiples at a few t, and the
// process's ᾱ_t, σ_t and SNR_t as line charts (uPlot) with the current t marked. What is noised
// is a view's business: the 2-D cloud (pointsView, on the chosen VP, sub-VP or VE process) or one
// image (image-mode.js, on its model's DDPM schedule).
import uPlot from '../vendor/uPlot.esm.js';
import { COLORS, drawPoints } from '../draw.js';
import { processText } from '../process.js';
import { showEquation } from '../eq.js';

const $ = (id) => document.getElementById(id);

// A uPlot plugin: a vertical line at the current t.
function marker(getT) {
  return {
    hooks: {
      draw: [
        (u) => {
          const t = getT();
          if (t === null) return;
          const x = u.valToPos(t, 'x', true);
          const { ctx } = u;
          ctx.save();
          ctx.strokeStyle = '#e65100';
          ctx.lineWidth = 2 * devicePixelRatio;
          ctx.beginPath();
          ctx.moveTo(x, u.bbox.top);
          ctx.lineTo(x, u.bbox.top + u.bbox.height);
          ctx.stroke();
          ctx.restore();
        },
      ],
    },
  };
}

// The 2-D view: the drawn data's cloud, noised in the worker with one fixed ε per point.
export function pointsView(call) {
  return {
    chain: true,
    process: null, // the page's chosen process
    tables: () => call('forwardTables'),
    async fetch(ts) {
      const xs = await call('forwardMany', { ts });
      return ts.map((t) => xs[`t${t}`]);
    },
    draw(canvas, x, t, size) {
      drawPoints(canvas, [{ points: x, color: t === 0 ? COLORS.data : COLORS.xt, size }]);
    },
  };
}

export class ForwardPanel {
  constructor({ state, call, steps, onError, onChange }) {
    this.state = state;
    this.call = call;
    this.steps = steps;
    this.onError = onError;
    this.onChange = onChange;
    this.charts = [];
    this.busy = false;
    this.wanted = null;
    this.chainRunning = false;
  }

  init() {
    const scrub = $('t-scrub');
    scrub.addEventListener('input', (e) => this.scrubTo(Number(e.target.value)));
    $('chain-play').addEventListener('click', () => this.playChain().catch((e) => this.onError(e)));
    addEventListener('resize', () => this.resizeCharts());
  }

  // Show `view` with its process's T steps: the charts, the scrubber's range, then x₀'s views.
  async setView(view, steps) {
    this.chainRunning = false;
    this.view = view;
    this.steps = steps;
    if (this.state.t > steps) {
      this.state.t = steps;
      this.onChange();
    }
    const scrub = $('t-scrub');
    scrub.max = String(steps);
    this.showProcess();
    await this.buildCharts();
    scrub.disabled = false;
    $('chain-play').disabled = !view.chain;
    await this.reset();
  }

  // The process changed (T steps or levels): the scrubber, equations and charts follow it.
  setProcess(steps) {
    return this.setView(this.view, steps);
  }

  // The view's own process (image models are DDPM), else the page's.
  process() {
    return this.view?.process ?? this.state.process;
  }

  showProcess() {
    const process = this.process();
    const text = processText(process);
    showEquation($('forward-eq'), text.marginal);
    $('chain-play').title = `Run the one-step chain ${text.chain}`;
    $('chart-schedule-caption').textContent = text.exploding ? 'σ_t (log scale)' : `ᾱ_t and ${text.std}`;
    document.body.dataset.process = process;
  }

  // New data (n or seed changed): redraw everything that depends on x₀.
  async reset() {
    await this.drawMultiples();
    await this.scrubTo(this.state.t);
  }

  async buildCharts() {
    for (const c of this.charts) c.destroy();
    this.charts = [];
    const { alphaBar, snr, sigma } = await this.view.tables();
    const t = Float64Array.from({ length: alphaBar.length }, (_, i) => i + 1);
    const width = this.chartWidth();
    const common = (title) => ({
      title,
      width,
      height: 170,
      cursor: { drag: { x: false, y: false } },
      legend: { show: true },
      plugins: [marker(() => (this.state.t > 0 ? this.state.t : null))],
      scales: { x: { time: false } },
    });
    const ve = processText(this.process()).exploding;
    this.charts.push(
      new uPlot(
        ve
          ? {
            ...common('σ_t'),
            axes: [{ label: 't' }, { size: 60 }],
            scales: { x: { time: false }, y: { distr: 3 } },
            series: [{ label: 't' }, { label: 'σ_t', stroke: '#2e7d32', width: 2 }],
          }
          : {
            ...common('ᾱ_t and σ_t'),
            axes: [{ label: 't' }, {}],
            scales: { x: { time: false }, y: { range: [0, 1] } },
            series: [
              { label: 't' },
              { label: 'ᾱ_t', stroke: '#1565c0', width: 2 },
              { label: 'σ_t', stroke: '#2e7d32', width: 2 },
            ],
          },
        ve ? [t, Array.from(sigma)] : [t, Array.from(alphaBar), Array.from(sigma)],
        $('chart-schedule'),
      ),
    );
    this.charts.push(
      new uPlot(
        {
          ...common('SNR_t'),
          axes: [{ label: 't' }, { size: 60, values: (u, splits) => splits.map((v) => (v == null ? "" : v >= 1 && v < 1e4 ? String(v) : Number(v).toExponential(0))) }],
          scales: { x: { time: false }, y: { distr: 3 } },
          series: [{ label: 't' }, { label: 'SNR_t', stroke: '#6a1b9a', width: 2 }],
        },
        [t, Array.from(snr)],
        $('chart-snr'),
      ),
    );
    document.body.dataset.forwardCharts = String(this.charts.length);
  }

  chartWidth() {
    const panel = $('forward-panel');
    const w = panel.clientWidth - 24;
    return Math.max(220, Math.min(w >= 520 ? Math.floor(w / 2) - 8 : w, 520));
  }

  resizeCharts() {
    const width = this.chartWidth();
    for (const c of this.charts) c.setSize({ width, height: 170 });
  }

  async drawMultiples() {
    const T = this.steps;
    const ts = [0, Math.round(T / 10), Math.round(T / 4), Math.round(T / 2), T];
    const xs = await this.view.fetch(ts);
    if (!xs) return;
    const box = $('forward-multiples');
    box.replaceChildren();
    for (const [j, t] of ts.entries()) {
      const fig = document.createElement('figure');
      const c = document.createElement('canvas');
      c.width = 140;
      c.height = 140;
      c.setAttribute('aria-label', `x at t = ${t}`);
      const cap = document.createElement('figcaption');
      cap.textContent = `t = ${t}`;
      fig.append(c, cap);
      box.append(fig);
      this.view.draw(c, xs[j], t, 1.5);
    }
    document.body.dataset.forwardMultiples = String(ts.length);
  }

  async redraw(t) {
    const xs = await this.view.fetch([t]);
    if (xs) this.view.draw($('forward-canvas'), xs[0], t, 2);
    this.showT(t);
    document.body.dataset.forwardT = String(t);
  }

  showT(t) {
    $('t-value').textContent = String(t);
    $('t-scrub').value = String(t);
    for (const c of this.charts) c.redraw(false, false);
  }

  // At most one request in flight; the latest position wins.
  async scrubTo(t) {
    this.state.t = t;
    this.onChange();
    this.wanted = t;
    if (this.busy) return;
    this.busy = true;
    try {
      while (this.wanted !== null) {
        const want = this.wanted;
        this.wanted = null;
        await this.redraw(want);
      }
    } catch (e) {
      this.onError(e);
    } finally {
      this.busy = false;
    }
  }

  async playChain() {
    if (this.chainRunning) {
      this.chainRunning = false;
      return;
    }
    this.chainRunning = true;
    $('chain-play').textContent = '❚❚ chain';
    await this.call('drawData', { n: this.state.n, seed: this.state.seed });
    let t = 0;
    while (this.chainRunning && t < this.steps) {
      const r = await this.call('chainSteps', { k: this.state.speed, seed: this.state.seed + 1 });
      t = r.t;
      drawPoints($('forward-canvas'), [{ points: r.x, color: COLORS.xt, size: 2 }]);
      this.state.t = t;
      this.showT(t);
      await new Promise(requestAnimationFrame);
    }
    this.onChange();
    this.chainRunning = false;
    $('chain-play').textContent = '▶ chain';
  }
}
