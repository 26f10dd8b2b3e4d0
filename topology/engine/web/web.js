// web.js - rill's live web view: every REFRESH_MS it reads /topology (the
// graph and this instance's tasks), /metrics (Prometheus text, parsed here:
// the same counters Prometheus scrapes, no second endpoint) and /readyz,
// then draws the graph as SVG (topics -> processors -> topics or sinks, a
// feedback topic's edge dashed) and fills the tables: records per second
// from the counters' change since the last refresh, totals, dead letters,
// task states and restore progress, sink health, and the lag of every
// partition. Only this origin is asked; text goes in through textContent.
'use strict';

(function () {
  const REFRESH_MS = 1500;
  const SVG = 'http://www.w3.org/2000/svg';
  let last = null; // { at, sums } of the previous refresh, for rates
  let drawn = ''; // the graph drawn last, as JSON, to redraw only on change
  let refreshes = 0;

  // Prometheus text format: [{ name, labels: {..}, value }].
  function parseMetrics(text) {
    const out = [];
    for (const line of text.split('\n')) {
      if (!line || line[0] === '#') continue;
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
      if (!m) continue;
      const labels = {};
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
      let l;
      while ((l = re.exec(m[3] || '')) !== null)
        labels[l[1]] = l[2].replace(/\\n/g, '\n').replace(/\\(.)/g, '$1');
      out.push({ name: m[1], labels, value: Number(m[4]) });
    }
    return out;
  }

  // The sum of name's samples per value of label.
  function sumBy(samples, name, label) {
    const sums = {};
    for (const s of samples)
      if (s.name === name) sums[s.labels[label]] = (sums[s.labels[label]] || 0) + s.value;
    return sums;
  }

  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = String(text);
    return e;
  }

  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVG, tag);
    for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = String(text);
    return e;
  }

  function fmt(n) {
    if (n === undefined || n === null || Number.isNaN(n)) return '-';
    return n >= 100 || n === Math.round(n) ? Math.round(n).toLocaleString('en') : n.toFixed(1);
  }

  // ---- the graph ----------------------------------------------------------

  // Columns by longest path from the sources; edges into a feedback topic
  // do not count (the pipeline's stock_release loop).
  function layout(topo) {
    const nodes = [], edges = [], index = {};
    const add = (id, kind, label, sub) => {
      if (index[id] === undefined) {
        index[id] = nodes.length;
        nodes.push({ id, kind, label, sub, layer: 0 });
      }
    };
    const topics = {};
    for (const n of topo.nodes) if (n.kind === 'topic') topics[n.name] = n;
    const topic = (name) => {
      add('topic:' + name, 'topic', name, topics[name] && topics[name].partitions !== null
        ? topics[name].partitions + ' partitions' : '');
      return 'topic:' + name;
    };
    for (const n of topo.nodes) {
      if (n.kind === 'processor') {
        add('processor:' + n.name, 'processor', n.name, n.type);
        for (const t of n.inputs) edges.push([topic(t), 'processor:' + n.name]);
        for (const t of n.outputs) edges.push(['processor:' + n.name, topic(t)]);
      } else if (n.kind === 'sink') {
        add('sink:' + n.name, 'sink', n.name, n.type);
        for (const t of n.inputs) edges.push([topic(t), 'sink:' + n.name]);
      }
    }
    const feedback = (to) => topics[to.slice(6)] && topics[to.slice(6)].feedback;
    for (let round = 0; round < nodes.length; round++) {
      let moved = false;
      for (const [a, b] of edges) {
        if (b.startsWith('topic:') && feedback(b)) continue;
        if (nodes[index[b]].layer < nodes[index[a]].layer + 1) {
          nodes[index[b]].layer = nodes[index[a]].layer + 1;
          moved = true;
        }
      }
      if (!moved) break;
    }
    return { nodes, edges, index };
  }

  // A name that does not fit its box keeps its end (topics of one
  // application share their start); the box's title has it whole.
  function clip(name) {
    return name.length > 24 ? '\u2026' + name.slice(-23) : name;
  }

  function drawGraph(topo) {
    const key = JSON.stringify(topo.nodes.map((n) => [n.kind, n.name, n.inputs, n.outputs]));
    if (key === drawn) return;
    drawn = key;
    const g = layout(topo), W = 170, H = 44, GAPX = 60, GAPY = 16, rows = {};
    for (const n of g.nodes) {
      n.row = rows[n.layer] = (rows[n.layer] || 0) + 1;
      n.x = 10 + n.layer * (W + GAPX);
      n.y = 10 + (n.row - 1) * (H + GAPY);
    }
    const root = document.getElementById('graph');
    root.replaceChildren();
    let width = 0, height = 0;
    for (const [a, b] of g.edges) {
      const s = g.nodes[g.index[a]], d = g.nodes[g.index[b]];
      const x1 = s.x + W, y1 = s.y + H / 2, x2 = d.x, y2 = d.y + H / 2, mid = (x1 + x2) / 2;
      const back = x2 <= x1;
      root.appendChild(svg('path', {
        class: back ? 'feedback' : '',
        d: back ? `M${x1},${y1} C${x1 + 40},${y1 - 60} ${x2 - 40},${y2 - 60} ${x2},${y2}`
          : `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`,
      }));
    }
    for (const n of g.nodes) {
      const grp = svg('g', { class: 'node ' + n.kind, 'data-node': n.id });
      grp.appendChild(svg('rect', { x: n.x, y: n.y, width: W, height: H, rx: n.kind === 'topic' ? 16 : 4 }));
      grp.appendChild(svg('title', {}, n.label));
      grp.appendChild(svg('text', { x: n.x + 8, y: n.y + 17 }, clip(n.label)));
      const sub = svg('text', { x: n.x + 8, y: n.y + 34, class: 'sub' }, n.sub || '');
      if (n.kind !== 'topic') sub.setAttribute('data-rate', n.id);
      grp.appendChild(sub);
      root.appendChild(grp);
      width = Math.max(width, n.x + W + 10);
      height = Math.max(height, n.y + H + 10);
    }
    root.setAttribute('width', width);
    root.setAttribute('height', height);
    root.setAttribute('viewBox', `0 0 ${width} ${height}`);
  }

  // ---- the tables ----------------------------------------------------------

  function taskText(tasks) {
    const parts = [];
    for (const t of tasks) {
      let s = t.id + ' ' + t.state;
      if (t.state === 'restoring' && t.restore && t.restore.total > 0)
        s += ' ' + Math.floor((100 * t.restore.done) / t.restore.total) + '%';
      parts.push(s);
    }
    return parts.length ? parts.join(', ') : 'none';
  }

  function fillProcessors(topo, m, rate) {
    const body = document.querySelector('#processors tbody');
    const rows = [];
    const tin = sumBy(m, 'rill_records_in_total', 'processor');
    const tout = sumBy(m, 'rill_records_out_total', 'processor');
    const dlq = sumBy(m, 'rill_dlq_records_total', 'processor');
    for (const n of topo.nodes) {
      if (n.kind !== 'processor') continue;
      const tasks = [].concat(...n.threads.map((th) => th.tasks));
      const tr = el('tr', { 'data-processor': n.name });
      tr.appendChild(el('td', { class: 'name' }, n.name));
      tr.appendChild(el('td', {}, n.type));
      tr.appendChild(el('td', { class: 'num rate-in' }, fmt(rate('in', n.name))));
      tr.appendChild(el('td', { class: 'num rate-out' }, fmt(rate('out', n.name))));
      tr.appendChild(el('td', { class: 'num total-in' }, fmt(tin[n.name])));
      tr.appendChild(el('td', { class: 'num total-out' }, fmt(tout[n.name])));
      tr.appendChild(el('td', { class: 'num dlq' }, fmt(dlq[n.name])));
      const restoring = tasks.some((t) => t.state === 'restoring');
      tr.appendChild(el('td', { class: 'tasks' + (restoring ? ' restoring' : '') }, taskText(tasks)));
      rows.push(tr);
      const sub = document.querySelector(`[data-rate="processor:${CSS.escape(n.name)}"]`);
      if (sub) sub.textContent = `${n.type} · ${fmt(rate('in', n.name))} rec/s`;
    }
    body.replaceChildren(...rows);
  }

  function fillSinks(topo, m, rate) {
    const sinks = topo.nodes.filter((n) => n.kind === 'sink');
    document.getElementById('sinks-section').hidden = sinks.length === 0;
    const recs = sumBy(m, 'rill_sink_records_total', 'sink');
    const batches = sumBy(m, 'rill_sink_batches_total', 'sink');
    const dead = sumBy(m, 'rill_sink_dead_letters_total', 'sink');
    const retries = sumBy(m, 'rill_sink_retries_total', 'sink');
    const open = sumBy(m, 'rill_sink_circuit_open', 'sink');
    const rows = sinks.map((n) => {
      const tr = el('tr', { 'data-sink': n.name });
      tr.appendChild(el('td', { class: 'name' }, n.name));
      tr.appendChild(el('td', {}, n.type));
      tr.appendChild(el('td', { class: 'num rate-in' }, fmt(rate('sink', n.name))));
      tr.appendChild(el('td', { class: 'num total-in' }, fmt(recs[n.name])));
      tr.appendChild(el('td', { class: 'num' }, fmt(batches[n.name])));
      tr.appendChild(el('td', { class: 'num dlq' }, fmt(dead[n.name])));
      tr.appendChild(el('td', { class: 'num' }, fmt(retries[n.name])));
      tr.appendChild(el('td', { class: open[n.name] ? 'open' : '' }, open[n.name] ? 'open' : 'closed'));
      tr.appendChild(el('td', {}, n.partitions.map((p) => `${p.topic}[${p.partition}] ${p.state}`).join(', ') || 'none'));
      const sub = document.querySelector(`[data-rate="sink:${CSS.escape(n.name)}"]`);
      if (sub) sub.textContent = `${n.type} · ${fmt(rate('sink', n.name))} rows/s`;
      return tr;
    });
    document.querySelector('#sinks tbody').replaceChildren(...rows);
  }

  function fillLag(m) {
    const secs = {};
    for (const s of m)
      if (s.name === 'rill_consumer_lag_seconds')
        secs[[s.labels.group, s.labels.topic, s.labels.partition].join('\n')] = s.value;
    const rows = m.filter((s) => s.name === 'rill_consumer_lag_records').map((s) => {
      const l = s.labels, tr = el('tr', { 'data-lag': `${l.group}/${l.topic}/${l.partition}` });
      tr.appendChild(el('td', {}, l.group));
      tr.appendChild(el('td', {}, l.topic));
      tr.appendChild(el('td', { class: 'num' }, l.partition));
      tr.appendChild(el('td', { class: 'num' }, fmt(s.value)));
      tr.appendChild(el('td', { class: 'num' }, fmt(secs[[l.group, l.topic, l.partition].join('\n')])));
      return tr;
    });
    document.querySelector('#lag tbody').replaceChildren(...rows);
  }

  // ---- refreshing ----------------------------------------------------------

  async function get(path, json) {
    const r = await fetch(path, { cache: 'no-store' });
    if (json) return r.json(); // /readyz answers 503 with a body too
    if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
    return r.text();
  }

  async function refresh() {
    try {
      const [topo, text, ready] = await Promise.all([get('/topology', true), get('/metrics'), get('/readyz', true)]);
      const m = parseMetrics(text), now = performance.now();
      const sums = {
        in: sumBy(m, 'rill_records_in_total', 'processor'),
        out: sumBy(m, 'rill_records_out_total', 'processor'),
        sink: sumBy(m, 'rill_sink_records_total', 'sink'),
      };
      const prev = last;
      const rate = (kind, name) => {
        if (!prev || sums[kind][name] === undefined || prev.sums[kind][name] === undefined) return undefined;
        return Math.max(0, sums[kind][name] - prev.sums[kind][name]) / ((now - prev.at) / 1000);
      };
      last = { at: now, sums };
      document.getElementById('app').textContent = topo.application_id;
      document.getElementById('meta').textContent =
        `instance ${topo.instance} · ${topo.guarantee} · rill ${topo.version}`;
      const badge = document.getElementById('ready');
      badge.textContent = ready.ready ? 'ready' : 'not ready';
      badge.className = 'badge ' + (ready.ready ? 'ok' : 'bad');
      drawGraph(topo);
      fillProcessors(topo, m, rate);
      fillSinks(topo, m, rate);
      fillLag(m);
      document.getElementById('error').textContent = '';
      refreshes++;
      document.body.dataset.refreshes = String(refreshes);
    } catch (e) {
      document.getElementById('error').textContent = 'cannot refresh: ' + e.message;
    } finally {
      setTimeout(refresh, REFRESH_MS);
    }
  }

  refresh();
})();
