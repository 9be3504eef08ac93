// Files the user drops or picks: a dropped folder walked to its files, each with its path.

// Every file under a dropped directory entry, with its path ("folder/unet/config.json").
async function walk(entry, prefix = '') {
  if (entry.isFile) {
    const file = await new Promise((res, rej) => entry.file(res, rej));
    return [{ file, path: prefix + entry.name }];
  }
  const reader = entry.createReader();
  const out = [];
  for (;;) {
    const batch = await new Promise((res, rej) => reader.readEntries(res, rej));
    if (!batch.length) break;
    for (const e of batch) out.push(...(await walk(e, `${prefix}${entry.name}/`)));
  }
  return out;
}

// The files of a drop: directories walked, loose files as they are.
async function dropped(dt) {
  const entries = [...(dt.items ?? [])].map((i) => i.webkitGetAsEntry?.()).filter(Boolean);
  if (entries.length) {
    const files = (await Promise.all(entries.map((e) => walk(e)))).flat();
    const dir = entries.length === 1 && entries[0].isDirectory ? entries[0].name : null;
    return { files, origin: dir ? `the folder ${dir}` : 'the dropped files' };
  }
  const files = [...dt.files].map((file) => ({ file, path: file.name }));
  return { files, origin: 'the dropped files' };
}

// A drop zone with its two pickers (a folder, loose files): `load(files, origin)` gets the files
// `[{ file, path }]` of whichever the user used, and a phrase naming them for messages.
export function bindDrop({ zone, dir, files, load }) {
  zone.addEventListener('dragover', (e) => {
    e.preventDefault();
    zone.dataset.over = '1';
  });
  zone.addEventListener('dragleave', () => { zone.dataset.over = '0'; });
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.dataset.over = '0';
    dropped(e.dataTransfer).then((d) => load(d.files, d.origin));
  });
  zone.addEventListener('click', () => dir.click());
  zone.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      dir.click();
    }
  });
  dir.addEventListener('change', () => {
    const picked = [...dir.files].map((file) => ({ file, path: file.webkitRelativePath || file.name }));
    const top = picked[0]?.path.split('/')[0];
    load(picked, top ? `the folder ${top}` : 'the chosen folder');
    dir.value = '';
  });
  files.addEventListener('change', () => {
    load([...files.files].map((file) => ({ file, path: file.name })), 'the chosen files');
    files.value = '';
  });
}
