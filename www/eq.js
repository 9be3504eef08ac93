// Equations kept as text with TeX's sub- and superscripts (x_t, x_{t−1}, σ_min, σ^{t/(L−1)}),
// shown with <sub> and <sup>. Builds DOM nodes: no HTML is parsed.

// An unbraced script: a run of letters, digits and primes (x_t, σ_min, x_{t′} braced or t′ bare).
const RUN = /^[\p{L}0-9′]+/u;

export function equationNodes(text) {
  const out = [];
  let plain = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    let body = null;
    let end = i + 1;
    if ((c === '_' || c === '^') && text[i + 1] === '{') {
      let depth = 0;
      for (end = i + 1; end < text.length; end++) {
        if (text[end] === '{') depth++;
        else if (text[end] === '}' && --depth === 0) break;
      }
      body = text.slice(i + 2, end);
      end += 1;
    } else if (c === '_' || c === '^') {
      const m = RUN.exec(text.slice(i + 1));
      if (m) {
        body = m[0];
        end = i + 1 + body.length;
      }
    }
    if (body === null) {
      plain += c;
      i += 1;
      continue;
    }
    if (plain) out.push(document.createTextNode(plain));
    plain = '';
    const el = document.createElement(c === '_' ? 'sub' : 'sup');
    el.append(...equationNodes(body));
    out.push(el);
    i = end;
  }
  if (plain) out.push(document.createTextNode(plain));
  return out;
}

export function showEquation(el, text) {
  el.replaceChildren(...equationNodes(text));
}
