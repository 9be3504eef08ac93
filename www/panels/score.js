// Score panel: the chosen source's score (the network trained here, the pretrained one, or the
// exact score) and the exact score as arrows over a heatmap of p_t or of the error
// ‖s_θ − ∇log p_t‖ on a grid of the page's process at level t, all computed in the worker (one
// batched evaluation per redraw).
import { COLORS, clear, drawArrows, drawHeatmap, view } from '../draw.js';

const $ = (id) => document.getElementById(id);
// The density heatmap shows log p_t over this many nats below its maximum.
const LOG_RANGE = 12;

export class ScorePanel {
  constructor({ state, call, steps, onError }) {
    this.state = state;
    this.call = call;
    this.steps = steps;
    this.onError = onError;
    this.field = null;
    this.busy = false;
    this.again = false;
  }

  // The process changed: T steps (levels) on the slider.
  setSteps(steps) {
    this.steps = steps;
    $('score-t').max = String(steps);
  }

  async init() {
    const s = $('score-t');
    s.max = String(this.steps);
    s.disabled = false;
    s.addEventListener('input', (e) => {
      this.state.st = Number(e.target.value);
      $('score-t-value').textContent = e.target.value;
      this.onChange?.();
      this.refresh();
    });
    await this.refresh();
  }

  // Fetch the field for the current state and draw it; one request in flight, the latest wins.
  async refresh() {
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = true;
    try {
      do {
        this.again = false;
        const { st, grid, source } = this.state;
        const t = Math.min(st, this.steps);
        this.field = { ...(await this.call('scoreField', { t, size: grid, halfWidth: view.half, source })), t, size: grid };
        this.draw();
      } while (this.again);
    } catch (e) {
      this.onError(e);
    } finally {
      this.busy = false;
    }
  }

  draw() {
    const f = this.field;
    if (!f) return;
    const { heat, arrows } = this.state;
    const canvas = $('score-canvas');
    clear(canvas, false);
    const n = f.size * f.size;
    const exact = f.logP.length === n; // only a mixture has an exact score
    const model = f.learnedScore.length === 2 * n; // the chosen source's field, where it has one
    const u = new Float32Array(n);
    let label;
    if (!exact) {
      label = model ? 'no exact score for this data set: the model\'s field only' : 'no exact score for this data set';
    } else if (heat === 'density' || !model) {
      let max = -Infinity;
      for (let i = 0; i < n; i++) max = Math.max(max, f.logP[i]);
      for (let i = 0; i < n; i++) u[i] = 1 + (f.logP[i] - max) / LOG_RANGE;
      label = `heatmap: log p_t over ${LOG_RANGE} nats below its peak`;
    } else {
      let max = 0;
      for (let i = 0; i < n; i++) max = Math.max(max, f.error[i]);
      for (let i = 0; i < n; i++) u[i] = max > 0 ? Math.log1p(f.error[i]) / Math.log1p(max) : 0;
      label = `heatmap: ‖s_θ − ∇log p_t‖ from 0 to ${max.toPrecision(3)} (log scale)`;
    }
    if (exact) drawHeatmap(canvas, u, f.size);
    const cell = canvas.width / (f.size - 1);
    const showTrue = exact && (arrows === 'true' || arrows === 'both' || !model);
    const showModel = model && (!exact || arrows === 'learned' || arrows === 'both');
    if (showTrue) drawArrows(canvas, f.points, f.trueScore, COLORS.true, cell);
    if (showModel) drawArrows(canvas, f.points, f.learnedScore, COLORS.learned, cell);
    $('score-t-value').textContent = String(f.t);
    $('score-t').value = String(f.t);
    const shown = [showModel && `${this.state.source} (blue)`, showTrue && 'true (red)'].filter(Boolean).join(' and ');
    $('score-caption').textContent = [
      `t = ${f.t}`,
      label,
      `arrows: ${shown || 'none'}, length ∝ log(1+‖s‖)`,
      f.note && `no ${this.state.source} field: ${f.note}`,
    ].filter(Boolean).join(' · ');
    document.body.dataset.scoreT = String(f.t);
    document.body.dataset.scoreHeat = heat;
    document.body.dataset.scoreExact = exact ? '1' : '0';
    document.body.dataset.scoreModel = model ? '1' : '0';
  }
}
