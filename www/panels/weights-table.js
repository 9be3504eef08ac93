// The mixture-weights tables (reverse panel, training panel, Langevin pair): a row per component
// with its true weight and the weight each sample recovered, to three decimals; shows the table.
export function fillWeights(table, truth, ...recovered) {
  const rows = truth.map((w, k) => {
    const tr = document.createElement('tr');
    for (const v of [String(k + 1), ...[w, ...recovered.map((r) => r[k])].map((v) => v.toFixed(3))]) {
      const td = document.createElement('td');
      td.textContent = v;
      tr.append(td);
    }
    return tr;
  });
  table.querySelector('tbody').replaceChildren(...rows);
  table.hidden = false;
}
