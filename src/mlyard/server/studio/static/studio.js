// The studio's behaviour: metric charts (uPlot), the live log tail (server-sent events), the
// pipeline graph (dagre) and the CSRF header on htmx requests. No inline script: pages pass data in
// data-* attributes and <script type="application/json"> blocks (the CSP forbids anything else).
"use strict";

const PALETTE = ["#2563eb", "#dc2626", "#16a34a", "#d97706", "#9333ea", "#0891b2", "#db2777", "#65a30d"];

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

// --- CSRF on every htmx request -------------------------------------------------------------
document.addEventListener("htmx:configRequest", (event) => {
  event.detail.headers["X-CSRF-Token"] = document.body.dataset.csrf;
});

// --- the runs table's column chooser ---------------------------------------------------------
// A ticked box shows its column; the form sends the unticked ones as `hide`, so the URL stays
// short and columns of another experiment show unless they were hidden. Delegated from document:
// htmx swaps the table and its chooser.
document.addEventListener("change", (event) => {
  const box = event.target;
  const chooser = box.closest && box.closest(".column-chooser");
  if (!chooser || !box.dataset.column) return;
  const offered = new Set([...chooser.querySelectorAll("input[data-column]")].map((b) => b.dataset.column));
  for (const kept of chooser.querySelectorAll("input[name=hide]")) if (offered.has(kept.value)) kept.remove();
  for (const choice of chooser.querySelectorAll("input[data-column]")) {
    if (choice.checked) continue;
    const hidden = document.createElement("input");
    hidden.type = "hidden";
    hidden.name = "hide";
    hidden.value = choice.dataset.column;
    chooser.appendChild(hidden);
  }
});

// --- charts ---------------------------------------------------------------------------------
function smooth(values, weight) {
  if (!weight) return values;
  let last = 0, count = 0;
  return values.map((v) => {
    if (v === null || !isFinite(v)) return v;
    last = last * weight + (1 - weight) * v;
    count += 1;
    return last / (1 - Math.pow(weight, count));  // debiased, as TensorBoard does
  });
}

class ChartGroup {
  constructor(container) {
    this.container = container;
    this.runs = JSON.parse(container.dataset.runs);
    this.labels = JSON.parse(container.dataset.labels || "[]");
    this.base = container.dataset.base;
    this.cache = new Map();
    this.plots = new Map();
    this.options = { x: "step", log: false, smooth: 0 };
    for (const control of document.querySelectorAll("[data-chart-control]")) {
      control.addEventListener("input", () => this.onControl(control));
      control.addEventListener("change", () => this.onControl(control));
    }
    this.drawAll();
  }

  onControl(control) {
    const name = control.dataset.chartControl;
    this.options[name] = control.type === "checkbox" ? control.checked : (name === "smooth" ? Number(control.value) : control.value);
    this.drawAll();
  }

  async series(run, key) {
    const url = `${this.base}${encodeURIComponent(run)}/series?key=${encodeURIComponent(key)}&x=${this.options.x}`;
    if (!this.cache.has(url)) {
      this.cache.set(url, fetch(url, { headers: { accept: "application/json" } }).then((r) => (r.ok ? r.json() : { x: [], y: [] })));
    }
    return this.cache.get(url);
  }

  drawAll() {
    for (const figure of this.container.querySelectorAll("figure.chart")) this.draw(figure);
  }

  async draw(figure) {
    const key = figure.dataset.key;
    const found = await Promise.all(this.runs.map((run) => this.series(run, key)));
    const tables = found.map((s) => [s.x, smooth(s.y, this.options.smooth)]);
    const data = tables.length === 1 ? tables[0] : uPlot.join(tables);
    const positive = data.slice(1).every((ys) => ys.every((v) => v === null || v === undefined || v > 0));
    const log = this.options.log && positive;
    const target = figure.querySelector(".plot");
    const old = this.plots.get(figure);
    if (old) old.destroy();
    const axis = { stroke: cssVar("--fg"), grid: { stroke: cssVar("--grid") }, ticks: { stroke: cssVar("--grid") } };
    const options = {
      width: Math.max(280, target.clientWidth || 480),
      height: 220,
      scales: { x: { time: this.options.x === "time" }, y: { distr: log ? 3 : 1 } },
      axes: [axis, Object.assign({ size: 70 }, axis)],  // room for labels like 12,500
      legend: { live: true },
      series: [{ label: this.options.x }].concat(
        this.runs.map((run, i) => ({ label: this.labels[i] || run, stroke: PALETTE[i % PALETTE.length], width: 1.5, spanGaps: true }))
      ),
    };
    figure.dataset.points = String(data[0].length);
    figure.dataset.scale = log ? "log" : "linear";
    this.plots.set(figure, new uPlot(options, data, target));
    figure.classList.add("drawn");
  }
}

// --- live log tail --------------------------------------------------------------------------
function followLog(pre) {
  const source = new EventSource(pre.dataset.stream);
  source.addEventListener("log", (event) => {
    const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
    pre.appendChild(document.createTextNode(JSON.parse(event.data)));  // text, never HTML
    if (atBottom) pre.scrollTop = pre.scrollHeight;
  });
  source.addEventListener("status", (event) => {
    const badge = document.querySelector("#job-status .status");
    if (badge) {
      const value = JSON.parse(event.data);
      badge.textContent = value;
      badge.className = `status status-${value.toLowerCase()}`;
    }
  });
  source.addEventListener("end", () => {
    source.close();
    pre.dataset.ended = "true";
  });
}

// --- pipeline graph -------------------------------------------------------------------------
const SVG = "http://www.w3.org/2000/svg";

function svg(name, attributes, parent) {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, value);
  if (parent) parent.appendChild(element);
  return element;
}

function seconds(node) {
  if (!node.start || !node.end) return "";
  const s = (new Date(node.end) - new Date(node.start)) / 1000;
  return s < 60 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

// A left-to-right dagre layout of the graph in the JSON block `dataId`, its edges drawn in a new
// SVG inside `target`; the caller draws the nodes (the pipeline's steps, a model's lineage).
function layOutGraph(target, dataId, spacing, nodeSize) {
  const graph = JSON.parse(document.getElementById(dataId).textContent);
  const layout = new dagre.graphlib.Graph();
  layout.setGraph({ rankdir: "LR", marginx: 8, marginy: 8, ...spacing });
  layout.setDefaultEdgeLabel(() => ({}));
  for (const node of graph.nodes) layout.setNode(node.id, { ...nodeSize, node });
  for (const [from, to] of graph.edges) layout.setEdge(from, to);
  dagre.layout(layout);
  const size = layout.graph();
  const root = svg("svg", { width: size.width, height: size.height, viewBox: `0 0 ${size.width} ${size.height}` }, target);
  for (const edge of layout.edges()) {
    const points = layout.edge(edge).points.map((p) => `${p.x},${p.y}`).join(" ");
    svg("polyline", { points, class: "edge" }, root);
  }
  return { layout, root };
}

function drawPipeline(target) {
  const { layout, root } = layOutGraph(
    target, "pipeline-data", { nodesep: 24, ranksep: 48 }, { width: 170, height: 58 });
  for (const id of layout.nodes()) {
    const { x, y, width, height, node } = layout.node(id);
    const group = node.job_id ? svg("a", { href: `${target.dataset.base}${encodeURIComponent(node.job_id)}` }, root) : root;
    svg("rect", { x: x - width / 2, y: y - height / 2, width, height, rx: 6, class: `node status-${node.status.toLowerCase()}` }, group);
    const title = svg("text", { x: x - width / 2 + 10, y: y - 8, class: "node-title" }, group);
    title.textContent = node.id;
    const detail = svg("text", { x: x - width / 2 + 10, y: y + 10, class: "node-detail" }, group);
    detail.textContent = `${node.status} ${seconds(node)}`;
    if (node.reused_from) {
      const mark = svg("text", { x: x - width / 2 + 10, y: y + 24, class: "node-detail" }, group);
      mark.textContent = `reused from ${node.reused_from.slice(0, 12)}…`;
    }
  }
}

// --- a model's lineage ----------------------------------------------------------------------
// data → run → version → deployment, left to right; each node links to its page.
function drawLineage(target) {
  const { layout, root } = layOutGraph(
    target, "lineage-data", { nodesep: 16, ranksep: 56 }, { width: 190, height: 46 });
  for (const id of layout.nodes()) {
    const { x, y, width, height, node } = layout.node(id);
    const group = node.href ? svg("a", { href: node.href }, root) : svg("g", {}, root);
    group.setAttribute("data-kind", node.kind);
    svg("rect", { x: x - width / 2, y: y - height / 2, width, height, rx: 6, class: `node kind-${node.kind}` }, group);
    const title = svg("text", { x: x - width / 2 + 10, y: y - 4, class: "node-title" }, group);
    title.textContent = `${node.kind === "job" ? "run" : node.kind} ${node.label}`.slice(0, 30);
    const detail = svg("text", { x: x - width / 2 + 10, y: y + 13, class: "node-detail" }, group);
    detail.textContent = String(node.detail || "").slice(0, 32);
  }
  target.dataset.nodes = String(layout.nodeCount());
}

// --- a sweep's trials ------------------------------------------------------------------------
function drawSweep(container) {
  const data = JSON.parse(document.getElementById("sweep-data").textContent);
  drawObjective(container.querySelector("#sweep-objective"), data);
  drawParallel(container.querySelector("#sweep-parallel"), data, container.dataset.base);
}

function isBetter(goal, a, b) {
  return goal === "maximize" ? a > b : a < b;
}

// The objective of each trial as points, and the best value so far as a step line.
function drawObjective(figure, data) {
  const xs = [], values = [], best = [];
  let soFar = null;
  for (const trial of data.trials) {
    xs.push(trial.number);
    values.push(trial.value);
    if (trial.value !== null && (soFar === null || isBetter(data.goal, trial.value, soFar))) soFar = trial.value;
    best.push(soFar);
  }
  const target = figure.querySelector(".plot");
  const axis = { stroke: cssVar("--fg"), grid: { stroke: cssVar("--grid") }, ticks: { stroke: cssVar("--grid") } };
  const options = {
    width: Math.max(280, target.clientWidth || 480),
    height: 240,
    scales: { x: { time: false } },
    axes: [Object.assign({ label: "trial", incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000] }, axis), Object.assign({ size: 70 }, axis)],  // whole trial numbers
    series: [
      { label: "trial" },
      { label: data.metric, stroke: PALETTE[0], paths: () => null, points: { show: true, size: 8, fill: PALETTE[0] } },
      { label: "best so far", stroke: PALETTE[2], width: 1.5, paths: uPlot.paths.stepped({ align: 1 }), spanGaps: true },
    ],
  };
  new uPlot(options, [xs, values, best], target);
  figure.dataset.trials = String(xs.length);
  figure.classList.add("drawn");
}

// One vertical axis per searched parameter and one for the objective; a numeric axis spans its
// values' range, any other lists its values evenly. Each trial is a line across them, linked to it.
function sweepAxes(data) {
  const names = data.params.concat([data.metric]);
  return names.map((name, index) => {
    const objective = index === names.length - 1;
    const values = data.trials.map((t) => (objective ? t.value : t.params[name]));
    const present = values.filter((v) => v !== null && v !== undefined && v !== "");
    const numeric = present.length > 0 && present.every((v) => isFinite(Number(v)));
    if (numeric) {
      const numbers = present.map(Number);
      const low = Math.min(...numbers), high = Math.max(...numbers);
      const position = (v) => (high === low ? 0.5 : (Number(v) - low) / (high - low));
      return { name, values, position, labels: [[0, low], [1, high]] };
    }
    const categories = [...new Set(present.map(String))].sort();
    const position = (v) => (categories.length === 1 ? 0.5 : categories.indexOf(String(v)) / (categories.length - 1));
    return { name, values, position, labels: categories.map((c) => [position(c), c]) };
  });
}

function drawParallel(figure, data, base) {
  const target = figure.querySelector(".plot");
  const axes = sweepAxes(data);
  const width = Math.max(360, target.clientWidth || 480), height = 240;
  const left = 50, right = 50, top = 24, bottom = 24;
  const x = (i) => (axes.length === 1 ? width / 2 : left + (i * (width - left - right)) / (axes.length - 1));
  const y = (p) => top + (1 - p) * (height - top - bottom);
  const root = svg("svg", { width, height, viewBox: `0 0 ${width} ${height}`, class: "parallel" }, target);
  const objective = axes[axes.length - 1];
  axes.forEach((axis, i) => {
    svg("line", { x1: x(i), x2: x(i), y1: top, y2: height - bottom, class: "axis" }, root);
    const title = svg("text", { x: x(i), y: 14, class: "axis-title", "text-anchor": "middle" }, root);
    title.textContent = axis.name;
    for (const [p, label] of axis.labels) {
      const tick = svg("text", { x: x(i) + 4, y: y(p) + 4, class: "axis-label" }, root);
      tick.textContent = typeof label === "number" ? Number(label.toPrecision(4)).toString() : label;
    }
  });
  data.trials.forEach((trial, t) => {
    const points = axes
      .map((axis, i) => (axis.values[t] === null || axis.values[t] === undefined ? null : `${x(i)},${y(axis.position(axis.values[t]))}`))
      .filter((p) => p !== null);
    const link = svg("a", { href: `${base}${encodeURIComponent(trial.id)}` }, root);
    // Colour from red (worst) to green (best) by the objective; grey without a value.
    let score = trial.value === null ? null : objective.position(trial.value);
    if (score !== null && data.goal !== "maximize") score = 1 - score;
    const stroke = score === null ? cssVar("--muted") : `hsl(${Math.round(score * 120)}, 65%, 45%)`;
    const line = svg("polyline", { points: points.join(" "), class: "trial", stroke }, link);
    const tip = svg("title", {}, line);
    tip.textContent = `trial ${trial.number}: ${data.metric} ${trial.value === null ? "none" : trial.value}`;
  });
  figure.dataset.trials = String(data.trials.length);
  figure.classList.add("drawn");
}

// --- monitors: each signal's metric per run against its threshold ----------------------------
// One JSON block per group of charts (see _monitor.html); x is each run's time (epoch seconds),
// a series per feature and metric, thresholds dashed.
function drawMonitorCharts(container) {
  const charts = JSON.parse(document.getElementById(container.dataset.charts).textContent);
  for (const figure of container.querySelectorAll("figure.monitor-chart")) {
    const chart = charts[Number(figure.dataset.index)];
    const target = figure.querySelector(".plot");
    const axis = { stroke: cssVar("--fg"), grid: { stroke: cssVar("--grid") }, ticks: { stroke: cssVar("--grid") } };
    let colour = 0;
    const series = chart.series.map((s) => {
      if (s.threshold) return { label: s.label, stroke: cssVar("--bad"), width: 1, dash: [6, 4], spanGaps: true, points: { show: false } };
      return { label: s.label, stroke: PALETTE[colour++ % PALETTE.length], width: 1.5, spanGaps: true, points: { show: true, size: 6 } };
    });
    const options = {
      width: Math.max(280, target.clientWidth || 480),
      height: 220,
      scales: { x: { time: true } },
      axes: [axis, Object.assign({ size: 60 }, axis)],
      legend: { live: false },  // a few runs, each a marked point: the legend names the lines only
      series: [{ label: "run" }].concat(series),
    };
    new uPlot(options, [chart.x].concat(chart.series.map((s) => s.values)), target);
    figure.dataset.series = String(chart.series.length);
    figure.dataset.runs = String(chart.x.length);
    figure.classList.add("drawn");
  }
}

function start() {
  for (const container of document.querySelectorAll(".charts")) new ChartGroup(container);
  const log = document.querySelector("#job-log[data-stream]");
  if (log) followLog(log);
  const graph = document.getElementById("pipeline-graph");
  if (graph) drawPipeline(graph);
  const lineage = document.getElementById("lineage-graph");
  if (lineage) drawLineage(lineage);
  const sweep = document.querySelector(".sweep-charts");
  if (sweep) drawSweep(sweep);
  for (const container of document.querySelectorAll(".monitor-charts[data-charts]")) drawMonitorCharts(container);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
