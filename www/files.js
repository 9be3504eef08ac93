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
export async function dropped(dt) {
  const entries = [...(dt.items ?? [])].map((i) => i.webkitGetAsEntry?.()).filter(Boolean);
  if (entries.length) {
    const files = (await Promise.all(entries.map((e) => walk(e)))).flat();
    const dir = entries.length === 1 && entries[0].isDirectory ? entries[0].name : null;
    return { files, origin: dir ? `the folder ${dir}` : 'the dropped files' };
  }
  const files = [...dt.files].map((file) => ({ file, path: file.name }));
  return { files, origin: 'the dropped files' };
}

// A picked folder's files (an <input webkitdirectory>), each with its path, and the folder's name.
export function picked(input, what) {
  const files = [...input.files].map((file) => ({ file, path: file.webkitRelativePath || file.name }));
  const top = files[0]?.path.includes('/') ? files[0].path.split('/')[0] : null;
  return { files, origin: top ? `the folder ${top}` : what };
}
