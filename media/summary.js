// Capture summary webview script. Reads the numbers from the inline JSON block (computed in the
// extension host by src/views/summary.ts) and builds the DOM with createElement/textContent only
// (no innerHTML with data, no remote content). Runs under a nonce CSP.
// @ts-check
/* global acquireVsCodeApi, document */
(function () {
  const vscode = acquireVsCodeApi();
  const dataEl = document.getElementById('summary-data');
  /** @type {any} */
  const d = JSON.parse((dataEl && dataEl.textContent) || '{}');
  const root = /** @type {HTMLElement} */ (document.getElementById('root'));
  root.textContent = '';

  /** @param {string} tag @param {string} [cls] @param {string} [text] */
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  /** @param {number} n */
  function bytes(n) {
    const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let v = n;
    let i = 0;
    while (v >= 1024 && i < u.length - 1) {
      v /= 1024;
      i++;
    }
    return i === 0 ? v + ' B' : v.toFixed(v >= 100 ? 0 : 1) + ' ' + u[i];
  }
  /** @param {number} n */
  const num = (n) => n.toLocaleString('en-US');
  /** @param {HTMLElement} parent @param {string} title */
  function section(parent, title) {
    parent.appendChild(el('h2', undefined, title));
  }
  /**
   * @param {HTMLElement} parent
   * @param {string[]} heads
   * @param {(string|number)[][]} rows
   * @param {number[]} [barOf] relative bar widths (0..1) per row
   */
  function table(parent, heads, rows, barOf) {
    if (rows.length === 0) {
      parent.appendChild(el('p', 'muted', 'None.'));
      return;
    }
    const t = el('table');
    const hr = el('tr');
    heads.forEach((h) => hr.appendChild(el('th', /^(Packets|Bytes|Dropped|If dropped)$/.test(h) ? 'n' : undefined, h)));
    if (barOf) hr.appendChild(el('th', undefined, ''));
    t.appendChild(hr);
    rows.forEach((r, i) => {
      const tr = el('tr');
      r.forEach((c) =>
        tr.appendChild(el('td', typeof c === 'number' ? 'n' : undefined, typeof c === 'number' ? num(c) : c)),
      );
      if (barOf) {
        const td = el('td', 'bar');
        const f = el('div', 'barfill');
        f.style.width = Math.max(1, Math.round((barOf[i] || 0) * 100)) + '%';
        td.appendChild(f);
        tr.appendChild(td);
      }
      t.appendChild(tr);
    });
    parent.appendChild(t);
  }
  /** @param {{bytes:number}[]} xs */
  const rel = (xs) => {
    const max = Math.max(1, ...xs.map((x) => x.bytes));
    return xs.map((x) => x.bytes / max);
  };

  const span = d.first !== undefined && d.last !== undefined ? (d.last - d.first) / 1000 : 0;
  const tiles = el('div', 'totals');
  /** @type {[string,string][]} */
  const tv = [
    [num(d.packets || 0), 'packets'],
    [bytes(d.bytes || 0), 'on the wire'],
    [String((d.nodes || []).length), 'nodes'],
    [String((d.interfaces || []).length), 'interfaces'],
    [span.toFixed(1) + ' s', 'first → last packet'],
    [
      num((d.drops || []).reduce((/** @type {number} */ a, /** @type {any} */ x) => a + x.dropped + x.ifDropped, 0)),
      'dropped',
    ],
  ];
  tv.forEach(([v, k]) => {
    const t = el('div', 'tile');
    t.appendChild(el('div', 'v', v));
    t.appendChild(el('div', 'k', k));
    tiles.appendChild(t);
  });
  root.appendChild(el('p', 'muted', d.file || ''));
  root.appendChild(tiles);

  // Timeline: packets per bucket as an SVG bar chart built with DOM calls.
  section(root, 'Timeline (packets per ' + ((d.timeline && d.timeline.bucketMs) / 1000).toFixed(1) + ' s)');
  const tl = (d.timeline && d.timeline.packets) || [];
  const NS = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('class', 'timeline');
  svg.setAttribute('viewBox', '0 0 600 170');
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', 'packets over time');
  const maxP = Math.max(1, ...tl);
  const w = 580 / Math.max(1, tl.length);
  const axis = document.createElementNS(NS, 'line');
  axis.setAttribute('x1', '20');
  axis.setAttribute('x2', '600');
  axis.setAttribute('y1', '150');
  axis.setAttribute('y2', '150');
  svg.appendChild(axis);
  tl.forEach((/** @type {number} */ p, /** @type {number} */ i) => {
    const h = (p / maxP) * 140;
    const r = document.createElementNS(NS, 'rect');
    r.setAttribute('class', 'bar');
    r.setAttribute('x', String(20 + i * w + 0.5));
    r.setAttribute('y', String(150 - h));
    r.setAttribute('width', String(Math.max(0.5, w - 1)));
    r.setAttribute('height', String(h));
    const tip = document.createElementNS(NS, 'title');
    tip.textContent = num(p) + ' packets';
    r.appendChild(tip);
    svg.appendChild(r);
  });
  const lbl = (/** @type {string} */ t, /** @type {number} */ x, /** @type {number} */ y) => {
    const e = document.createElementNS(NS, 'text');
    e.setAttribute('x', String(x));
    e.setAttribute('y', String(y));
    e.textContent = t;
    svg.appendChild(e);
  };
  lbl(num(maxP), 0, 12);
  lbl('0 s', 20, 165);
  lbl(span.toFixed(1) + ' s', 560, 165);
  root.appendChild(svg);

  const grid = el('div', 'grid');
  root.appendChild(grid);
  const col = () => {
    const c = el('div');
    grid.appendChild(c);
    return c;
  };
  let c = col();
  section(c, 'Per node');
  table(
    c,
    ['Node', 'Packets', 'Bytes'],
    d.nodes.map((/** @type {any} */ n) => [n.node, n.packets, bytes(n.bytes)]),
    rel(d.nodes),
  );
  c = col();
  section(c, 'Per interface');
  table(
    c,
    ['Node', 'Interface', 'Pod', 'Packets', 'Bytes'],
    d.interfaces.map((/** @type {any} */ n) => [n.node, n.name, n.pod || '', n.packets, bytes(n.bytes)]),
  );
  if (d.pods.length) {
    c = col();
    section(c, 'Per pod');
    table(
      c,
      ['Pod', 'Packets', 'Bytes'],
      d.pods.map((/** @type {any} */ n) => [n.pod, n.packets, bytes(n.bytes)]),
      rel(d.pods),
    );
  }
  c = col();
  section(c, 'Protocols');
  table(
    c,
    ['Protocol', 'Packets', 'Bytes'],
    d.protocols.map((/** @type {any} */ p) => [p.name, p.packets, bytes(p.bytes)]),
    rel(d.protocols),
  );
  c = col();
  section(c, 'Top conversations');
  table(
    c,
    ['Protocol', 'A', 'B', 'Packets', 'Bytes'],
    d.conversations.map((/** @type {any} */ x) => [x.protocol, x.a, x.b, x.packets, bytes(x.bytes)]),
  );
  c = col();
  section(c, 'Drops (from the nodes’ manifests)');
  table(
    c,
    ['Node', 'Interface', 'Dropped', 'If dropped'],
    d.drops.map((/** @type {any} */ x) => [
      x.node,
      x.interface + (x.pod ? ' (' + x.pod + ')' : ''),
      x.dropped,
      x.ifDropped,
    ]),
  );
  section(root, 'Warnings');
  if (d.warnings.length === 0) root.appendChild(el('p', 'muted', 'None.'));
  else {
    const ul = el('ul');
    d.warnings.forEach((/** @type {string} */ w) => ul.appendChild(el('li', 'warn', w)));
    root.appendChild(ul);
  }
  vscode.postMessage({ type: 'rendered', nodes: d.nodes.length, packets: d.packets });
})();
