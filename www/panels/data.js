// Data panel: a named data set, your own points drawn with pointer events (mouse, pen, touch) or
// the keyboard, or a CSV file parsed in Rust. Bad input gets a message here and the previous data
// stays in use. Drawn points live in the hash (points.js); a CSV file does not.
import { LIMIT, decodePoints, encodePoints, snap } from '../points.js';

const $ = (id) => document.getElementById(id);
const DRAW_HALF = 4; // the drawing canvas shows [-4, 4]²
const SPACING = 0.12; // data units between points laid along a stroke
const KEY_STEP = 0.25;

export class DataPanel {
  constructor({ state, call, onChange, onData, onBefore, onKept }) {
    this.state = state;
    this.call = call;
    this.onChange = onChange;
    this.onData = onData; // (info) => redraw the other panels with the new data
    // Before the worker changes the data (it drops the running sampler), and when it refused it.
    this.onBefore = onBefore ?? (async () => {});
    this.onKept = onKept ?? (() => {});
    this.points = []; // drawn points, snapped: [x, y, x, y, ...]
    this.strokes = []; // start index (in points) of each stroke, for undo
    this.drawing = false;
    this.cursor = [0, 0];
    this.csv = null; // { text, name } of the last file chosen
    this.info = null;
  }

  init() {
    this.points = Array.from(decodePoints(this.state.pts));
    const c = $('draw-canvas');
    c.addEventListener('pointerdown', (e) => this.pointerDown(e));
    c.addEventListener('pointermove', (e) => this.pointerMove(e));
    for (const t of ['pointerup', 'pointercancel']) c.addEventListener(t, (e) => this.pointerUp(e));
    c.addEventListener('keydown', (e) => this.key(e));
    c.addEventListener('focus', () => this.drawCanvas());
    c.addEventListener('blur', () => this.drawCanvas());
    $('draw-clear').addEventListener('click', () => { this.points = []; this.strokes = []; this.commit(); });
    $('draw-undo').addEventListener('click', () => {
      const start = this.strokes.pop() ?? 0;
      this.points.length = 2 * start;
      this.commit();
    });
    $('csv-file').addEventListener('change', () => this.loadCsv());
    this.drawCanvas();
    if (this.info) this.show(this.info);
  }

  message(text, kind = 'error') {
    const m = $('data-message');
    m.textContent = text ?? '';
    m.dataset.kind = kind;
    m.hidden = !text;
    document.body.dataset.dataMessage = text ? kind : '';
  }

  // Make the worker use the data set in the state; on failure keep the previous one. One change
  // at a time; the latest wins.
  async apply() {
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = true;
    try {
      do {
        this.again = false;
        await this.applyOnce();
      } while (this.again);
    } finally {
      this.busy = false;
    }
  }

  async applyOnce() {
    const { data } = this.state;
    $('draw-area').hidden = data !== 'draw';
    $('csv-area').hidden = data !== 'csv';
    this.message(null);
    try {
      if (data === 'draw') {
        this.drawCanvas();
        await this.use('setPoints', { points: Float32Array.from(this.points) });
      } else if (data === 'csv') {
        if (!this.csv) {
          this.message('Choose a CSV file (a file is not part of the link)'
            + (this.info ? `; the panels keep ${this.info.label}.` : '.'), 'info');
          return;
        }
        await this.use('setCsv', this.csv);
      } else {
        await this.use('setDataset', { name: data });
      }
    } catch (e) {
      if (e.lost) return;
      this.message(`${e.message}${this.info ? ` — the panels keep ${this.info.label}.` : ''}`);
    }
  }

  async use(cmd, args) {
    await this.onBefore();
    let data;
    try {
      ({ data } = await this.call(cmd, args));
    } catch (e) {
      this.onKept();
      throw e;
    }
    this.show(data);
    await this.onData(data);
  }

  // The data set in use (info from the worker's dataInfo).
  show(info) {
    this.info = info;
    $('data-caption').textContent = `in use: ${info.label}`;
    document.body.dataset.dataKind = info.kind;
    document.body.dataset.dataPoints = String(info.points ?? '');
  }

  async loadCsv() {
    const file = $('csv-file').files[0];
    if (!file) return;
    const text = await file.text();
    const csv = { text, name: file.name };
    this.message(null);
    try {
      await this.use('setCsv', csv);
      this.csv = csv;
      if (this.state.data !== 'csv') {
        this.state.data = 'csv';
        $('data-select').value = 'csv';
        this.onChange();
      }
      this.message(`${file.name}: ${this.info.points} points.`, 'ok');
    } catch (e) {
      if (!e.lost) this.message(`${e.message}${this.info ? ` — the panels keep ${this.info.label}.` : ''}`);
    }
  }

  // Drawing: canvas pixels <-> data coordinates in [-4, 4]².
  toData(e) {
    const r = e.currentTarget.getBoundingClientRect();
    const x = ((e.clientX - r.left) / r.width) * 2 - 1;
    const y = 1 - ((e.clientY - r.top) / r.height) * 2;
    return [x * DRAW_HALF, y * DRAW_HALF];
  }

  add([x, y]) {
    if (this.points.length >= 2 * LIMIT) {
      this.message(`A drawing holds at most ${LIMIT} points (so that a link can carry it).`, 'info');
      return;
    }
    this.points.push(snap(x), snap(y));
  }

  pointerDown(e) {
    e.preventDefault();
    e.currentTarget.setPointerCapture(e.pointerId);
    this.drawing = true;
    this.strokes.push(this.points.length / 2);
    this.add(this.toData(e));
    this.drawCanvas();
  }

  pointerMove(e) {
    if (!this.drawing) return;
    const [x, y] = this.toData(e);
    const n = this.points.length;
    if (n >= 2 && Math.hypot(x - this.points[n - 2], y - this.points[n - 1]) < SPACING) return;
    this.add([x, y]);
    this.drawCanvas();
  }

  pointerUp() {
    if (!this.drawing) return;
    this.drawing = false;
    this.commit();
  }

  key(e) {
    const step = e.shiftKey ? 1 : KEY_STEP;
    const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, step], ArrowDown: [0, -step] };
    if (moves[e.key]) {
      const [dx, dy] = moves[e.key];
      this.cursor = this.cursor.map((v, i) => Math.min(DRAW_HALF, Math.max(-DRAW_HALF, v + [dx, dy][i])));
    } else if (e.key === 'Enter' || e.key === ' ') {
      this.strokes.push(this.points.length / 2);
      this.add(this.cursor);
      this.commit();
    } else {
      return;
    }
    e.preventDefault();
    this.drawCanvas();
  }

  // The drawing changed: into the hash, then to the worker.
  commit() {
    this.state.pts = encodePoints(this.points);
    this.onChange();
    this.drawCanvas();
    if (this.state.data === 'draw') this.apply();
  }

  drawCanvas() {
    const c = $('draw-canvas');
    const ctx = c.getContext('2d');
    const s = c.width / (2 * DRAW_HALF);
    const px = (x, y) => [(x + DRAW_HALF) * s, c.height - (y + DRAW_HALF) * s];
    ctx.clearRect(0, 0, c.width, c.height);
    ctx.strokeStyle = '#eee';
    ctx.beginPath();
    for (let g = -DRAW_HALF; g <= DRAW_HALF; g++) {
      const [gx] = px(g, 0);
      const [, gy] = px(0, g);
      ctx.moveTo(gx, 0); ctx.lineTo(gx, c.height);
      ctx.moveTo(0, gy); ctx.lineTo(c.width, gy);
    }
    ctx.stroke();
    ctx.fillStyle = '#1565c0';
    for (let i = 0; i + 1 < this.points.length; i += 2) {
      const [x, y] = px(this.points[i], this.points[i + 1]);
      ctx.beginPath();
      ctx.arc(x, y, 3, 0, 2 * Math.PI);
      ctx.fill();
    }
    if (document.activeElement === c) {
      const [x, y] = px(...this.cursor);
      ctx.strokeStyle = '#e65100';
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.moveTo(x - 8, y); ctx.lineTo(x + 8, y);
      ctx.moveTo(x, y - 8); ctx.lineTo(x, y + 8);
      ctx.stroke();
      ctx.lineWidth = 1;
    }
    const n = this.points.length / 2;
    $('draw-count').textContent = `${n} point${n === 1 ? '' : 's'}`;
  }
}
