// Training panel, a Player in TF Playground's manner: ▶ loops oneStep() -> updateUI() (a few
// optimiser steps per worker message, so the page never waits on a long job), ❚❚ stops after the
// current message, step takes one message, reset starts a fresh network. Every REPORT_EVERY steps
// (and after step, pause and reset) the worker reports the fixed-batch loss, samples of the
// network being trained and their distance to the data. The objective is trained at every level
// of the page's process; one that the data cannot support (ESM without an exact score) gets a
// message here and trains nothing.
import uPlot from '../vendor/uPlot.esm.js';
import { COLORS, drawPoints } from '../draw.js';
import { processConfig } from '../process.js';
import { showEquation } from '../eq.js';
import { catalogue, entry, showOptionRows, trainingOptions, valueOf } from '../catalogue.js';
import { fillWeights } from './weights-table.js';

const $ = (id) => document.getElementById(id);
const REPORT_EVERY = 100;
const EVAL_SEED = 12345; // the fixed evaluation batch
const PREVIEW = { n: 500, steps: 20 };
export class TrainPanel {
  constructor({ state, call, onError, onUse, onTrained }) {
    this.state = state;
    this.call = call;
    this.onError = onError;
    this.onUse = onUse; // () => the score and reverse panels switch to the trained network
    this.onTrained = onTrained; // (fresh) => a new network exists, or the weights changed
    this.playing = false;
    this.loop = null;
    this.run = null; // { step, lastReport } of the current run, null before the first ▶/step
    this.stale = false; // the data or a setting changed since the run started
    this.data = null; // data points for the scatter
    this.trueWeights = null;
    this.series = [[], [], []]; // step, batch loss, fixed-batch loss
  }

  init() {
    this.buildChart('ddpm');
    addEventListener('resize', () => this.chart.setSize({ width: this.chartWidth(), height: 170 }));
    $('train-play').addEventListener('click', () => this.play());
    $('train-pause').addEventListener('click', () => this.pause());
    $('train-step').addEventListener('click', () => this.step());
    $('train-reset').addEventListener('click', () => this.guard(() => this.reset()));
    $('train-use').addEventListener('click', () => this.guard(() => this.use()));
    $('train-download').addEventListener('click', () => this.guard(() => this.download()));
    for (const id of ['train-play', 'train-step', 'train-reset']) $(id).disabled = false;
    this.showState('press ▶ train');
  }

  // The loss curve, on a log axis unless the objective's loss can be negative.
  buildChart(objective) {
    this.chart?.destroy();
    this.chart = new uPlot(
      {
        title: 'loss',
        width: this.chartWidth(),
        height: 170,
        cursor: { drag: { x: false, y: false } },
        // A loss that can go below zero (SSM, ISM) on a linear axis, the others on a log axis.
        scales: { x: { time: false }, y: { distr: entry('objectives', objective).facts.signed_loss ? 1 : 3 } },
        axes: [{ label: 'step' }, { size: 60, values: (u, s) => s.map((v) => (v == null ? '' : Number(v).toPrecision(2))) }],
        series: [
          { label: 'step' },
          { label: 'batch', stroke: '#1565c0', width: 1.5 },
          { label: 'fixed batch', stroke: '#e65100', width: 2, spanGaps: true, points: { show: true, size: 5 } },
        ],
      },
      this.series,
      $('chart-loss'),
    );
  }

  // Whether the chosen objective can train on the data; if not, say why (and keep ▶ from
  // starting). Every objective the data cannot support (ESM without an exact score) is disabled,
  // with the reason as its title.
  async checkObjective() {
    const s = this.state;
    showOptionRows($('objective-options'), s.objective);
    let chosen = null;
    for (const o of catalogue().objectives) {
      const { reason } = await this.call('objectiveSupport', { objective: o.kind });
      const option = $('train-objective').querySelector(`option[value="${o.kind}"]`);
      option.disabled = reason !== null;
      option.title = reason ?? o.help;
      if (o.kind === s.objective) chosen = reason;
    }
    this.message(chosen);
    showEquation($('train-eq'), `L = E ${entry('objectives', s.objective).equation}`);
    return chosen === null;
  }

  message(text) {
    $('train-message').textContent = text ?? '';
    $('train-message').hidden = !text;
    document.body.dataset.trainMessage = text ? '1' : '';
  }

  chartWidth() {
    return Math.max(220, Math.min($('train-results').clientWidth - 24, 560));
  }

  config() {
    const s = this.state;
    return {
      options: trainingOptions(s), objective: s.objective, process: processConfig(s),
      // The loss's own options (SSM's projections), where it has any.
      ...(({ kind, ...options }) => options)(valueOf('objectives', s.objective, s)),
    };
  }

  reportArgs() {
    return { evalSeed: EVAL_SEED, n: PREVIEW.n, steps: PREVIEW.steps, seed: this.state['train.seed'] + 1 };
  }

  showState(text) {
    $('train-state').textContent = text ? `· ${text}` : '';
  }

  async guard(f) {
    try {
      await f();
    } catch (e) {
      if (!e.lost) this.onError(e.message);
    }
  }

  // Data points for the scatter (a redraw of the same data set, or a new one: see markStale).
  setData(x, info) {
    this.data = x;
    this.trueWeights = info.weights;
    this.drawScatter(this.lastSamples ?? null);
  }

  // A setting or the data changed: the next ▶ or step starts a fresh run.
  markStale() {
    this.lastSamples = null;
    if (this.run) {
      this.stale = true;
      this.showState('settings changed: the next ▶ starts afresh');
    }
  }

  // The reset button: stop, then a fresh network.
  async reset() {
    await this.stopLoop();
    await this.startRun();
  }

  // A fresh network, unless the objective cannot train on this data (then false, with the
  // message shown).
  async startRun() {
    if (!(await this.checkObjective())) return false;
    const config = this.config();
    const r = await this.call('startTraining', { config, report: this.reportArgs() });
    this.run = { step: 0, lastReport: 0 };
    this.stale = false;
    this.series = [[], [], []];
    this.buildChart(config.objective);
    $('train-use').disabled = false;
    $('train-download').disabled = false;
    $('train-loss').textContent = '–';
    this.lastSamples = null;
    document.body.dataset.trainEval0 = String(r.evalLoss);
    document.body.dataset.trainObjective = config.objective;
    this.showReport(r);
    this.showState('ready');
    await this.onTrained(true);
    return true;
  }

  // The current run, or a fresh one; false when none can start.
  async ensureRun() {
    if (!this.run || this.stale) return this.startRun();
    return true;
  }

  play() {
    if (this.playing) return;
    this.playing = true;
    $('train-pause').disabled = false;
    $('train-play').disabled = true;
    // `trainPlaying`: 0 once the loop has ended, its last report shown.
    document.body.dataset.trainPlaying = '1';
    this.loop = this.guard(() => this.runLoop()).finally(() => {
      this.playing = false;
      this.loop = null;
      $('train-pause').disabled = true;
      $('train-play').disabled = false;
      document.body.dataset.trainPlaying = '0';
    });
  }

  pause() {
    this.playing = false;
  }

  async stopLoop() {
    this.playing = false;
    while (this.loop) await this.loop;
  }

  async step() {
    if (this.playing || this.stepping) return;
    this.stepping = true;
    document.body.dataset.trainBusy = '1';
    await this.guard(async () => {
      if (!(await this.ensureRun())) return;
      await this.oneStep();
      await this.report();
    });
    this.stepping = false;
    document.body.dataset.trainBusy = '0';
  }

  async runLoop() {
    if (!(await this.ensureRun())) return;
    this.showState('training');
    while (this.playing) {
      try {
        // The data or a setting changed while playing: a fresh run, or none (with a message).
        if (this.stale && !(await this.startRun())) {
          this.showState('stopped');
          return;
        }
        await this.oneStep();
        if (this.run.step - this.run.lastReport >= REPORT_EVERY) await this.report();
      } catch (e) {
        if (!e.lost) throw e; // the worker moved the run to the CPU; go on there
      }
      await new Promise(requestAnimationFrame);
    }
    await this.report();
    this.showState('paused');
  }

  // One worker message: tk optimiser steps.
  async oneStep() {
    const r = await this.call('trainSteps', { k: this.state.tk });
    this.run.step = r.step;
    this.series[0].push(r.step);
    this.series[1].push(r.loss);
    this.series[2].push(null);
    this.chart.setData(this.series);
    $('train-step-count').textContent = String(r.step);
    $('train-loss').textContent = r.loss.toPrecision(4);
    document.body.dataset.trainStep = String(r.step);
  }

  async report() {
    const r = await this.call('trainReport', this.reportArgs());
    this.showReport(r);
    await this.onTrained(false);
  }

  showReport(r) {
    this.run.lastReport = r.step;
    const n = this.series[0].length;
    if (n && this.series[0][n - 1] === r.step) this.series[2][n - 1] = r.evalLoss;
    else {
      this.series[0].push(r.step);
      this.series[1].push(null);
      this.series[2].push(r.evalLoss);
    }
    this.chart.setData(this.series);
    $('train-step-count').textContent = String(r.step);
    $('train-eval').textContent = r.evalLoss.toPrecision(4);
    $('train-energy').textContent = r.energy.toPrecision(3);
    this.lastSamples = r.x;
    this.drawScatter(r.x);
    $('train-weights').hidden = !r.weights;
    if (r.weights) {
      fillWeights($('train-weights'), this.trueWeights, r.weights);
      document.body.dataset.trainWeights = JSON.stringify(Array.from(r.weights));
    }
    document.body.dataset.trainStep = String(r.step);
    document.body.dataset.trainEval = String(r.evalLoss);
    document.body.dataset.trainEnergy = String(r.energy);
    document.body.dataset.trainReports = String(Number(document.body.dataset.trainReports ?? 0) + 1);
  }

  drawScatter(samples) {
    // The data on top, darker than elsewhere: the samples should cover it.
    drawPoints($('train-canvas'), [
      { points: samples, color: COLORS.xt, size: 2.5 },
      { points: this.data, color: 'rgba(60,60,60,0.55)', size: 2 },
    ]);
  }

  // Drive the score and reverse panels with the network being trained.
  // The run as dplay train writes one, in a .zip: the model folder, samples and the loss log.
  async download() {
    if (!(await this.ensureRun())) return;
    const s = this.state;
    const { zip } = await this.call('exportRun', { n: s.n, steps: PREVIEW.steps, seed: s['train.seed'] });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([zip], { type: 'application/zip' }));
    a.download = `dplay-${s.data}-${s.objective}-${s.process}-step${this.run?.step ?? 0}.zip`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 60_000);
    document.body.dataset.trainDownloaded = String(zip.length);
  }

  async use() {
    if (!(await this.ensureRun())) return;
    await this.onUse();
    $('train-use').textContent = 'in use ✓';
  }

  // The worker rebuilt the run on the CPU after a lost GPU device, at `step`.
  recovered(step) {
    if (!this.run) return;
    this.run.step = step;
    $('train-step-count').textContent = String(step);
    document.body.dataset.trainStep = String(step);
  }
}
