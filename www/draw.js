// Canvas drawing in data coordinates: the square [-view, view]² fills the canvas.

export const COLORS = {
  data: 'rgba(120,120,120,0.35)',
  xt: 'rgba(21,101,192,0.55)',
  x0: 'rgba(230,81,0,0.55)',
  learned: '#0d47a1',
  true: '#b71c1c',
};

export const view = { half: 6 };

export function toPx(canvas, x, y) {
  const s = canvas.width / (2 * view.half);
  return [(x + view.half) * s, canvas.height - (y + view.half) * s];
}

export function clear(canvas, axes = true) {
  const ctx = canvas.getContext('2d');
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (axes) {
    ctx.strokeStyle = '#eee';
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(canvas.width / 2, 0); ctx.lineTo(canvas.width / 2, canvas.height);
    ctx.moveTo(0, canvas.height / 2); ctx.lineTo(canvas.width, canvas.height / 2);
    ctx.stroke();
  }
  return ctx;
}

// layers: [{ points: Float32Array [n,2], color, size }]
export function drawPoints(canvas, layers, { keep = false } = {}) {
  const ctx = keep ? canvas.getContext('2d') : clear(canvas);
  for (const { points, color, size } of layers) {
    if (!points) continue;
    ctx.fillStyle = color;
    for (let i = 0; i + 1 < points.length; i += 2) {
      const [px, py] = toPx(canvas, points[i], points[i + 1]);
      ctx.fillRect(px - size / 2, py - size / 2, size, size);
    }
  }
}

// Trajectories: a colour for each point's time, from noise (t = T, u = 0) to data (t = 0, u = 1):
// plasma from indigo to orange (its yellow end is left out: it vanishes on the white canvas).
const TRAJ_RAMP = [[13, 8, 135], [84, 2, 163], [139, 10, 165], [185, 50, 137], [219, 92, 104], [244, 136, 73], [252, 166, 54]];
export function trajColor(u, alpha = 1) {
  const x = (u > 0 ? Math.min(u, 1) : 0) * (TRAJ_RAMP.length - 1);
  const i = Math.min(Math.floor(x), TRAJ_RAMP.length - 2);
  const f = x - i;
  const [r, g, b] = TRAJ_RAMP[i].map((c, j) => Math.round(c + f * (TRAJ_RAMP[i + 1][j] - c)));
  return alpha >= 1 ? `rgb(${r},${g},${b})` : `rgba(${r},${g},${b},${alpha.toFixed(3)})`;
}

// The legend of trajColor: a bar from t = T (left) to t = 0 (right). Drawn once.
export function drawTrajLegend(canvas) {
  const ctx = canvas.getContext('2d');
  const g = ctx.createLinearGradient(0, 0, canvas.width, 0);
  for (let k = 0; k < TRAJ_RAMP.length; k++) g.addColorStop(k / (TRAJ_RAMP.length - 1), trajColor(k / (TRAJ_RAMP.length - 1)));
  ctx.fillStyle = g;
  ctx.fillRect(0, 0, canvas.width, canvas.height);
}

// Bands each trajectory is drawn in: one stroke per band for all trajectories together, so a frame
// costs TRAJ_BANDS strokes however long the walk.
const TRAJ_BANDS = 24;

// Polylines, one per trajectory: paths[j] = [x0, y0, x1, y1, ...], one point per frame from x_T.
// Coloured by t (trajColor, from t = T at the start to the current t at the head) and fading with
// age: the newest steps are opaque, the oldest faint. `progress` is the fraction of the walk done
// at the paths' last point (1: finished); a point's t is taken as linear in its frame. The heads
// are dots in their current colour, ringed in `color`.
export function drawPaths(canvas, paths, color = '#212121', { progress = 1 } = {}) {
  let n = 0;
  for (const p of paths) n = Math.max(n, p.length >> 1);
  if (n < 2) return;
  const done = Number.isFinite(progress) ? Math.min(Math.max(progress, 0), 1) : 1;
  const ctx = canvas.getContext('2d');
  ctx.save();
  ctx.lineWidth = 1.5;
  ctx.lineJoin = 'round';
  ctx.lineCap = 'round';
  const s = canvas.width / (2 * view.half);
  const h = view.half;
  const H = canvas.height;
  const segments = n - 1;
  const bands = Math.min(TRAJ_BANDS, segments);
  for (let b = 0; b < bands; b++) {
    const i0 = Math.floor((b * segments) / bands);
    const i1 = Math.floor(((b + 1) * segments) / bands);
    const recent = (i0 + i1) / 2 / segments; // 0: the oldest step, 1: the newest
    ctx.strokeStyle = trajColor(recent * done, 0.12 + 0.88 * recent ** 1.5);
    ctx.beginPath();
    for (const p of paths) {
      const last = Math.min(i1, (p.length >> 1) - 1);
      if (last <= i0) continue;
      ctx.moveTo((p[2 * i0] + h) * s, H - (p[2 * i0 + 1] + h) * s);
      for (let i = i0 + 1; i <= last; i++) ctx.lineTo((p[2 * i] + h) * s, H - (p[2 * i + 1] + h) * s);
    }
    ctx.stroke();
  }
  ctx.fillStyle = trajColor(done);
  ctx.strokeStyle = color;
  ctx.lineWidth = 1;
  for (const p of paths) {
    if (p.length < 4) continue;
    const [xe, ye] = toPx(canvas, p[p.length - 2], p[p.length - 1]);
    ctx.beginPath();
    ctx.arc(xe, ye, 3, 0, 2 * Math.PI);
    ctx.fill();
    ctx.stroke();
  }
  ctx.restore();
}

// A perceptually ordered ramp (viridis, 5 stops) for u in [0, 1].
const RAMP = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
export function ramp(u) {
  const x = Math.min(Math.max(u, 0), 1) * (RAMP.length - 1);
  const i = Math.min(Math.floor(x), RAMP.length - 2);
  const f = x - i;
  return RAMP[i].map((c, j) => Math.round(c + f * (RAMP[i + 1][j] - c)));
}

// A size×size field (row 0 at the bottom) painted as cells of `ramp(values[i])`, values in [0,1].
export function drawHeatmap(canvas, values, size) {
  const ctx = canvas.getContext('2d');
  const img = ctx.createImageData(size, size);
  for (let r = 0; r < size; r++) {
    for (let c = 0; c < size; c++) {
      const [R, G, B] = ramp(values[r * size + c]);
      const o = ((size - 1 - r) * size + c) * 4;
      img.data[o] = R; img.data[o + 1] = G; img.data[o + 2] = B; img.data[o + 3] = 255;
    }
  }
  // Upscale the size×size image onto the canvas; each cell is centred on its grid point.
  const tmp = new OffscreenCanvas(size, size);
  tmp.getContext('2d').putImageData(img, 0, 0);
  const cell = canvas.width / (size - 1);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(tmp, -cell / 2, -cell / 2, canvas.width + cell, canvas.height + cell);
}

// Arrows at grid points: vec [size²,2]; length ∝ log(1+|s|), capped at one cell.
export function drawArrows(canvas, points, vec, color, cellPx) {
  const ctx = canvas.getContext('2d');
  ctx.strokeStyle = color;
  ctx.fillStyle = color;
  ctx.lineWidth = 1.2;
  let maxLen = 0;
  for (let i = 0; i < vec.length; i += 2) maxLen = Math.max(maxLen, Math.log1p(Math.hypot(vec[i], vec[i + 1])));
  if (maxLen === 0) return;
  for (let i = 0; i + 1 < points.length; i += 2) {
    const sx = vec[i];
    const sy = vec[i + 1];
    const norm = Math.hypot(sx, sy);
    if (!(norm > 0)) continue;
    const len = (0.9 * cellPx * Math.log1p(norm)) / maxLen;
    const [px, py] = toPx(canvas, points[i], points[i + 1]);
    const ux = sx / norm;
    const uy = -sy / norm;
    const ex = px + ux * len;
    const ey = py + uy * len;
    ctx.beginPath();
    ctx.moveTo(px, py);
    ctx.lineTo(ex, ey);
    ctx.stroke();
    const h = Math.min(4, len / 2);
    ctx.beginPath();
    ctx.moveTo(ex, ey);
    ctx.lineTo(ex - h * (ux - 0.5 * uy), ey - h * (uy + 0.5 * ux));
    ctx.lineTo(ex - h * (ux + 0.5 * uy), ey - h * (uy - 0.5 * ux));
    ctx.closePath();
    ctx.fill();
  }
}
