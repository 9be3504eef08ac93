// Drawn points in the URL hash: each coordinate quantised to a 0.01 grid on [-20.48, 20.47]
// (12 bits), a point's two coordinates packed in 3 bytes, written as 4 base64url characters.
// The page snaps drawn points to this grid as they are drawn, so a link reproduces them exactly.
const STEP = 0.01;
const OFFSET = 2048; // grid index of 0
const MAX = 4095;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

export const LIMIT = 2000; // points a link can hold
export const RANGE = (MAX - OFFSET) * STEP; // 20.47

function index(v) {
  return Math.min(MAX, Math.max(0, Math.round(v / STEP) + OFFSET));
}

// The value a coordinate takes on the grid.
export function snap(v) {
  return (index(v) - OFFSET) * STEP;
}

export function encodePoints(xy) {
  let out = '';
  for (let i = 0; i + 1 < xy.length; i += 2) {
    const a = index(xy[i]);
    const b = index(xy[i + 1]);
    const bits = (a << 12) | b; // 24 bits
    for (let s = 18; s >= 0; s -= 6) out += ALPHABET[(bits >> s) & 63];
  }
  return out;
}

// The points of an encoded string (validated by state.js's pattern), `[n, 2]` row-major.
export function decodePoints(text) {
  const n = Math.floor(text.length / 4);
  const xy = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    let bits = 0;
    for (let c = 0; c < 4; c++) bits = (bits << 6) | ALPHABET.indexOf(text[4 * i + c]);
    xy[2 * i] = ((bits >> 12) - OFFSET) * STEP;
    xy[2 * i + 1] = ((bits & MAX) - OFFSET) * STEP;
  }
  return xy;
}
