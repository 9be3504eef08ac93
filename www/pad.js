// A 28×28 drawing pad for image mode: white ink on black, as the digits are. Pointer events draw
// with a soft round brush (mouse, pen, finger); with the keyboard, arrows move the cursor, Enter or
// Space paints at it, Shift+arrow paints along the way. Strokes can be undone.
//
// In the URL hash (`pad=`): 16 ink levels per pixel (4 bits), two pixels a byte, base64url: 523
// characters; the page snaps the ink to these levels as it draws, so a link reproduces it exactly.

export const SIZE = 28;
const LEVELS = 15;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
export const ENCODED_LENGTH = Math.ceil((SIZE * SIZE) / 2 * 4 / 3); // 523
const BRUSH = 1.6; // radius in pixels of the soft brush

export function encodePad(ink) {
  if (ink.every((v) => v === 0)) return '';
  const bytes = new Uint8Array((SIZE * SIZE) / 2);
  for (let i = 0; i < bytes.length; i++) {
    bytes[i] = (Math.round(ink[2 * i] * LEVELS) << 4) | Math.round(ink[2 * i + 1] * LEVELS);
  }
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    const chars = Math.min(4, Math.ceil(((bytes.length - i) * 8) / 6));
    for (let c = 0; c < chars; c++) out += ALPHABET[(n >> (18 - 6 * c)) & 63];
  }
  return out;
}

// The ink of an encoded pad (validated by state.js's pattern); '' is an empty pad.
export function decodePad(text) {
  const ink = new Float32Array(SIZE * SIZE);
  if (!text) return ink;
  const bytes = [];
  for (let i = 0; i < text.length; i += 4) {
    const chunk = text.slice(i, i + 4);
    let n = 0;
    for (let c = 0; c < 4; c++) n = (n << 6) | (c < chunk.length ? ALPHABET.indexOf(chunk[c]) : 0);
    bytes.push((n >> 16) & 255, (n >> 8) & 255, n & 255);
  }
  for (let i = 0; i < ink.length / 2; i++) {
    ink[2 * i] = (bytes[i] >> 4) / LEVELS;
    ink[2 * i + 1] = (bytes[i] & 15) / LEVELS;
  }
  return ink;
}

export class Pad {
  constructor(canvas, { onCommit }) {
    this.canvas = canvas;
    this.onCommit = onCommit; // (ink) => the drawing changed (a stroke ended)
    this.ink = new Float32Array(SIZE * SIZE);
    this.undo = [];
    this.drawing = false;
    this.last = null;
    this.cursor = [SIZE / 2, SIZE / 2];
    canvas.addEventListener('pointerdown', (e) => this.down(e));
    canvas.addEventListener('pointermove', (e) => this.move(e));
    for (const t of ['pointerup', 'pointercancel']) canvas.addEventListener(t, () => this.up());
    canvas.addEventListener('keydown', (e) => this.key(e));
    canvas.addEventListener('focus', () => this.draw());
    canvas.addEventListener('blur', () => this.draw());
  }

  set(ink) {
    this.ink = Float32Array.from(ink);
    this.undo = [];
    this.draw();
  }

  isEmpty() {
    return this.ink.every((v) => v === 0);
  }

  // The drawing as a model input in [-1, 1] (ink 0 → -1, full ink → 1).
  image() {
    return this.ink.map((v) => 2 * v - 1);
  }

  clear() {
    this.undo.push(this.ink.slice());
    this.ink.fill(0);
    this.commit();
  }

  undoStroke() {
    if (!this.undo.length) return;
    this.ink = this.undo.pop();
    this.commit();
  }

  commit() {
    this.draw();
    this.onCommit(this.ink);
  }

  // A soft dab at (x, y) in pixel units: ink = max(ink, 1 - (d/BRUSH)²), snapped to the hash's
  // 16 levels.
  dab(x, y) {
    const r = Math.ceil(BRUSH);
    for (let j = Math.floor(y) - r; j <= Math.floor(y) + r; j++) {
      for (let i = Math.floor(x) - r; i <= Math.floor(x) + r; i++) {
        if (i < 0 || j < 0 || i >= SIZE || j >= SIZE) continue;
        const d = Math.hypot(i + 0.5 - x, j + 0.5 - y) / BRUSH;
        if (d >= 1) continue;
        const k = j * SIZE + i;
        this.ink[k] = Math.max(this.ink[k], Math.round((1 - d * d) * LEVELS) / LEVELS);
      }
    }
  }

  // Dabs every half pixel from the last point to (x, y).
  line(x, y) {
    const [x0, y0] = this.last ?? [x, y];
    const steps = Math.max(1, Math.ceil(Math.hypot(x - x0, y - y0) * 2));
    for (let s = 1; s <= steps; s++) this.dab(x0 + ((x - x0) * s) / steps, y0 + ((y - y0) * s) / steps);
    this.last = [x, y];
  }

  toPad(e) {
    const r = this.canvas.getBoundingClientRect();
    return [((e.clientX - r.left) / r.width) * SIZE, ((e.clientY - r.top) / r.height) * SIZE];
  }

  down(e) {
    e.preventDefault();
    this.canvas.setPointerCapture(e.pointerId);
    this.undo.push(this.ink.slice());
    this.drawing = true;
    const [x, y] = this.toPad(e);
    this.last = null;
    this.line(x, y);
    this.draw();
  }

  move(e) {
    if (!this.drawing) return;
    this.line(...this.toPad(e));
    this.draw();
  }

  up() {
    if (!this.drawing) return;
    this.drawing = false;
    this.last = null;
    this.commit();
  }

  key(e) {
    const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    if (moves[e.key]) {
      const from = this.cursor;
      this.cursor = this.cursor.map((v, i) => Math.min(SIZE - 0.5, Math.max(0.5, v + moves[e.key][i])));
      if (e.shiftKey) {
        this.undo.push(this.ink.slice());
        this.last = from;
        this.line(...this.cursor);
        this.last = null;
        this.commit();
      }
    } else if (e.key === 'Enter' || e.key === ' ') {
      this.undo.push(this.ink.slice());
      this.dab(...this.cursor);
      this.commit();
    } else {
      return;
    }
    e.preventDefault();
    this.draw();
  }

  draw() {
    const c = this.canvas;
    const ctx = c.getContext('2d');
    const img = new ImageData(SIZE, SIZE);
    for (let i = 0; i < SIZE * SIZE; i++) {
      const v = Math.round(this.ink[i] * 255);
      img.data[4 * i] = v; img.data[4 * i + 1] = v; img.data[4 * i + 2] = v; img.data[4 * i + 3] = 255;
    }
    const tmp = new OffscreenCanvas(SIZE, SIZE);
    tmp.getContext('2d').putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(tmp, 0, 0, c.width, c.height);
    if (document.activeElement === c) {
      const s = c.width / SIZE;
      const [x, y] = this.cursor.map((v) => v * s);
      ctx.strokeStyle = '#ff9800';
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.moveTo(x - s, y); ctx.lineTo(x + s, y);
      ctx.moveTo(x, y - s); ctx.lineTo(x, y + s);
      ctx.stroke();
    }
  }
}
