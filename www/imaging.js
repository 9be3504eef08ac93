// Images on canvases: values in [-1, 1] (the models' scale) shown as 0..255, one channel as grey,
// three as RGB, anything outside [-1, 1] (noise) clipped. Pixels stay square and sharp.

// One image `values` ([c·h·w], channel-major as the models use) into an ImageData.
function toImageData(values, [c, h, w], offset = 0) {
  const img = new ImageData(w, h);
  const px = h * w;
  for (let i = 0; i < px; i++) {
    for (let k = 0; k < 3; k++) {
      const v = values[offset + (c === 1 ? 0 : k) * px + i];
      img.data[4 * i + k] = Math.round((Math.min(Math.max(v, -1), 1) + 1) * 127.5);
    }
    img.data[4 * i + 3] = 255;
  }
  return img;
}

// Draw image `index` of `values` ([n, c·h·w]) into the square (x, y, size) of `canvas`.
function blit(canvas, values, shape, index, x, y, size) {
  const [c, h, w] = shape;
  const tmp = new OffscreenCanvas(w, h);
  tmp.getContext('2d').putImageData(toImageData(values, shape, index * c * h * w), 0, 0);
  const ctx = canvas.getContext('2d');
  ctx.imageSmoothingEnabled = false;
  const s = size / Math.max(h, w);
  ctx.drawImage(tmp, x + (size - w * s) / 2, y + (size - h * s) / 2, w * s, h * s);
}

// One image filling the canvas.
export function drawImage(canvas, values, shape) {
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  blit(canvas, values, shape, 0, 0, 0, Math.min(canvas.width, canvas.height));
}

// `n` images in a square grid (side ⌈√n⌉) with a 2-pixel gap.
export function drawGrid(canvas, values, shape, n) {
  const side = Math.ceil(Math.sqrt(n));
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  const gap = 2;
  const cell = (Math.min(canvas.width, canvas.height) - gap * (side - 1)) / side;
  for (let i = 0; i < n; i++) {
    const r = Math.floor(i / side);
    const col = i % side;
    blit(canvas, values, shape, i, col * (cell + gap), r * (cell + gap), cell);
  }
}

// A caption in the middle of an empty canvas (no model yet, nothing sampled).
export function drawMessage(canvas, text) {
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#f5f5f5';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.fillStyle = '#555';
  ctx.font = `${Math.round(canvas.width / 24)}px system-ui, sans-serif`;
  ctx.textAlign = 'center';
  const words = text.split(' ');
  const lines = [];
  let line = '';
  for (const w of words) {
    const next = line ? `${line} ${w}` : w;
    if (ctx.measureText(next).width > canvas.width * 0.85 && line) {
      lines.push(line);
      line = w;
    } else line = next;
  }
  if (line) lines.push(line);
  const lh = canvas.width / 16;
  lines.forEach((l, i) => ctx.fillText(l, canvas.width / 2, canvas.height / 2 + (i - (lines.length - 1) / 2) * lh));
}
