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

// Polylines, one per trajectory: paths[j] = [x0, y0, x1, y1, ...].
export function drawPaths(canvas, paths, color) {
  const ctx = canvas.getContext('2d');
  ctx.strokeStyle = color;
  ctx.lineWidth = 1.5;
  for (const p of paths) {
    if (p.length < 4) continue;
    ctx.beginPath();
    const [x0, y0] = toPx(canvas, p[0], p[1]);
    ctx.moveTo(x0, y0);
    for (let i = 2; i + 1 < p.length; i += 2) {
      const [x, y] = toPx(canvas, p[i], p[i + 1]);
      ctx.lineTo(x, y);
    }
    ctx.stroke();
    const [xe, ye] = toPx(canvas, p[p.length - 2], p[p.length - 1]);
    ctx.fillStyle = color;
    ctx.beginPath();
    ctx.arc(xe, ye, 3, 0, 2 * Math.PI);
    ctx.fill();
  }
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
