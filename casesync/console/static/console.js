// The casesync console page: polls /api/state and redraws; read-only.
"use strict";

const COLOURS = { OK: "#2e9d57", WARN: "#d9a400", STALL: "#e8730c", STOP: "#d0342c", ERR: "#8e1b8e" };
const SVG = "http://www.w3.org/2000/svg";
const charts = {};  // region code -> {applied, latency, lag} uPlot instances

function el(tag, attrs = {}, ...children) {
  const node = tag.startsWith("svg:") ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) node.setAttribute(k, v);
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

function fmt(x, digits = 1) { return x === null || x === undefined ? "–" : Number(x).toFixed(digits); }
function verdict(v) { return el("span", { class: "verdict", "data-verdict": v }, v); }

// --- the map: a plain equirectangular projection fitted to the watched regions, over the seats
// of every mainland division (from /api/places) as dots: the country's shape, with no boundary drawn.
let places = { seats: [], provinces: [] };
const placesLoaded = fetch("/api/places").then(r => r.json()).then(p => { places = p; }).catch(() => {});

// Regions closer than a few pixels (districts of one city, a zone drawn at its city's seat) are
// spread on a small ring around their centre, each with a thin line to its true position.
function spread(points, minGap = 14) {
  const groups = [];
  for (const p of points) {
    const g = groups.find(g => Math.hypot(g.x - p.x, g.y - p.y) < minGap);
    if (g) { g.members.push(p); g.x = g.members.reduce((s, m) => s + m.x, 0) / g.members.length;
             g.y = g.members.reduce((s, m) => s + m.y, 0) / g.members.length; }
    else groups.push({ x: p.x, y: p.y, members: [p] });
  }
  for (const g of groups) {
    if (g.members.length === 1) { Object.assign(g.members[0], { dx: g.x, dy: g.y }); continue; }
    const ring = 6 + 4 * g.members.length;
    g.members.forEach((m, i) => {
      const a = -Math.PI / 2 + 2 * Math.PI * i / g.members.length;
      Object.assign(m, { dx: g.x + ring * Math.cos(a), dy: g.y + ring * Math.sin(a) });
    });
  }
  return points;
}

function drawMap(state) {
  const svg = document.getElementById("map");
  svg.replaceChildren();
  const placed = state.regions.filter(r => r.lon !== null);
  if (!placed.length) return;
  const W = 640, H = 440, pad = 60;
  let [x0, x1] = [Math.min(...placed.map(r => r.lon)), Math.max(...placed.map(r => r.lon))];
  let [y0, y1] = [Math.min(...placed.map(r => r.lat)), Math.max(...placed.map(r => r.lat))];
  const span = Math.max(x1 - x0, y1 - y0, 4);
  const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2, k = Math.cos(cy * Math.PI / 180);
  const scale = Math.min((W - 2 * pad) / (span * k), (H - 2 * pad) / span);
  const px = lon => W / 2 + (lon - cx) * k * scale, py = lat => H / 2 - (lat - cy) * scale;
  const inside = (x, y) => x >= 0 && x <= W && y >= 0 && y <= H;
  const step = span > 20 ? 5 : span > 8 ? 2 : 1;
  for (let lon = Math.ceil((cx - W / 2 / k / scale) / step) * step; px(lon) < W; lon += step) {
    svg.append(el("svg:line", { class: "grid", x1: px(lon), x2: px(lon), y1: 0, y2: H }),
               el("svg:text", { class: "grid-label", x: px(lon) + 2, y: H - 4 }, `${lon}°E`));
  }
  for (let lat = Math.ceil((cy - H / 2 / scale) / step) * step; py(lat) > 0; lat += step) {
    svg.append(el("svg:line", { class: "grid", x1: 0, x2: W, y1: py(lat), y2: py(lat) }),
               el("svg:text", { class: "grid-label", x: 2, y: py(lat) - 2 }, `${lat}°N`));
  }
  const dots = places.seats.map(([lon, lat]) => [px(lon), py(lat)]).filter(([x, y]) => inside(x, y));
  svg.append(el("svg:path", { class: "seats", d: dots.map(([x, y]) => `M${x.toFixed(1)},${y.toFixed(1)}h0`).join("") }));
  for (const p of places.provinces) {
    const [x, y] = [px(p.lon), py(p.lat)];
    if (inside(x, y)) svg.append(el("svg:text", { class: "province-label", x, y: y - 4, "text-anchor": "middle" }, p.name));
  }
  const marks = spread(placed.map(r => ({ r, x: px(r.lon), y: py(r.lat) })));
  const at = Object.fromEntries(marks.map(m => [m.r.code, [m.dx, m.dy]]));
  for (const f of state.flows) {
    if (!at[f.a] || !at[f.b]) continue;
    const [ax, ay] = at[f.a], [bx, by] = at[f.b];
    const mx = (ax + bx) / 2 - (by - ay) * 0.15, my = (ay + by) / 2 + (bx - ax) * 0.15;
    const rate = f.a_to_b_per_second + f.b_to_a_per_second;
    svg.append(el("svg:path", {
      class: "flow", "data-flow": `${f.a}-${f.b}`, "data-verdict": f.verdict, "data-rate": rate,
      d: `M${ax},${ay} Q${mx},${my} ${bx},${by}`, fill: "none", stroke: COLOURS[f.verdict],
      "stroke-width": 2 + Math.min(8, Math.log2(1 + rate)), "stroke-dasharray": f.agreement ? null : "6 4",
    }));
    svg.append(el("svg:text", { class: "flow-label", x: mx, y: my, "text-anchor": "middle" },
      `${fmt(f.a_to_b_per_second)} ⇄ ${fmt(f.b_to_a_per_second)} /s`,
      el("svg:title", {}, `${f.a}→${f.b} ${fmt(f.a_to_b_per_second)}/s, ${f.b}→${f.a} ${fmt(f.b_to_a_per_second)}/s, ${f.verdict}`)));
  }
  for (const { r, x, y, dx, dy } of marks) {
    if (dx !== x || dy !== y) svg.append(el("svg:line", { class: "tether", x1: x, y1: y, x2: dx, y2: dy }));
    svg.append(el("svg:circle", { cx: dx, cy: dy, r: 7, fill: COLOURS[r.verdict], stroke: "#fff", "stroke-width": 2,
                                   "data-region": r.code, "data-verdict": r.verdict }));
    svg.append(el("svg:text", { class: "place-label", x: dx + 10, y: dy + 4 }, `${r.name} ${r.code}`));
  }
}

function drawFlows(state) {
  const name = Object.fromEntries(state.regions.map(r => [r.code, `${r.name} ${r.code}`]));
  document.getElementById("flows").replaceChildren(...state.flows.map(f => el("tr", { "data-flow-row": `${f.a}-${f.b}` },
    el("td", {}, `${name[f.a]} → ${name[f.b]}`), el("td", {}, `${fmt(f.a_to_b_per_second)}/s`),
    el("td", {}, `${name[f.b]} → ${name[f.a]}`), el("td", {}, `${fmt(f.b_to_a_per_second)}/s`),
    el("td", {}, f.agreement ? "agreement" : "national list"), el("td", {}, verdict(f.verdict)))));
}

// --- a region's card ---
function card(r) {
  const rows = [];
  const row = (label, ...cells) => rows.push(el("tr", {}, el("th", {}, label), el("td", {}, ...cells)));
  row("inbox lag", `${r.inbox.lag} records, ${fmt(r.inbox.lag_seconds)} s `, verdict(r.inbox.verdict));
  for (const reason of r.inbox.reasons) row("", el("span", { class: "reason" }, reason));
  if (r.outbox) {
    row("outbox", `${r.outbox.backlog} waiting, oldest ${fmt(r.outbox.oldest_age_seconds)} s `, verdict(r.outbox.verdict));
    if (r.outbox.verdict !== "OK") row("", el("span", { class: "reason" }, r.outbox.reason));
  }
  row("applied", `${fmt(r.applied.per_second)} events/s, sync p50 ${fmt(ms(r.applied.latency_p50_s), 0)} ms, p99 ${fmt(ms(r.applied.latency_p99_s), 0)} ms`);
  if (r.overdue) row("overdue", `${r.overdue.owned} own, ${r.overdue.mirror} mirrored (working days late: ` +
    `${r.overdue.cases.map(c => c.working_days_overdue).join(", ") || "none"})`);
  const dead = r.dead_letters;
  const deadTable = el("table", { class: "dead" });
  if (dead) {
    for (const c of dead.by_class) {
      deadTable.append(el("tr", { "data-stage": c.stage, "data-class": c.error_class },
        el("td", { class: "count" }, c.count), el("td", {}, `${c.stage} / ${c.error_class}`),
        el("td", { class: "reason" }, c.latest_reason)));
    }
  }
  const node = el("div", { class: "card", "data-region": r.code, "data-verdict": r.verdict },
    el("h3", {}, `${r.name} ${r.code}`, verdict(r.verdict)),
    ...r.errors.map(e => el("div", { class: "errors" }, e)),
    el("table", {}, ...rows),
    el("div", {}, `dead letters open: ${dead ? dead.open : "–"}`), deadTable,
    el("div", { class: "charts", id: `charts-${r.code}` }));
  return node;
}

function ms(seconds) { return seconds === null || seconds === undefined ? null : seconds * 1000; }

function chart(title, series, width = 200) {
  return new uPlot({
    title, width, height: 110, legend: { show: false }, cursor: { show: false },
    axes: [{ size: 24, font: "9px sans-serif" }, { size: 46, font: "9px sans-serif" }],
    series: [{}, ...series.map(([label, stroke]) => ({ label, stroke, width: 1.5, spanGaps: true }))],
  }, [[], ...series.map(() => [])]);
}

function drawCharts(state) {
  for (const r of state.regions) {
    const h = state.history[r.code];
    const box = document.getElementById(`charts-${r.code}`);
    if (!charts[r.code]) {
      charts[r.code] = {
        applied: chart("applied/s", [["applied/s", "#2b6cb0"]]),
        latency: chart("sync latency ms p50/p99", [["p50", "#2e9d57"], ["p99", "#d0342c"]]),
        lag: chart("inbox lag records", [["lag", "#e8730c"]]),
      };
    }
    const c = charts[r.code];
    box.replaceChildren(c.applied.root, c.latency.root, c.lag.root);
    c.applied.setData([h.t, h.applied_per_second]);
    c.latency.setData([h.t, h.latency_p50_s.map(ms), h.latency_p99_s.map(ms)]);
    c.lag.setData([h.t, h.lag]);
  }
}

function drawWorkflows(state) {
  const box = document.getElementById("workflows");
  const items = [];
  for (const r of state.regions) {
    for (const w of r.workflows) {
      const steps = w.events.map((e, i) => {
        const took = i ? (Date.parse(e.at) - Date.parse(w.events[i - 1].at)) / 1000 : null;
        return el("li", {}, `${e.event_type} ${new Date(e.at).toLocaleTimeString()}` + (took === null ? "" : ` (+${took.toFixed(2)} s)`));
      });
      items.push(el("div", { class: "workflow", "data-case": w.case_id },
        el("strong", {}, `${w.case_id} `), `${r.name} · ${w.state}`, el("ol", {}, ...steps)));
    }
  }
  box.replaceChildren(...(items.length ? items : [el("p", { class: "note" }, "none open or finished in the last hour")]));
}

async function refresh() {
  try {
    await placesLoaded;
    const response = await fetch("/api/state", { cache: "no-store" });
    const state = await response.json();
    if (!state.generated_at) return;
    const overall = document.getElementById("overall");
    overall.textContent = state.verdict;
    overall.dataset.verdict = state.verdict;
    document.getElementById("updated").textContent = `sampled ${new Date(state.generated_at).toLocaleTimeString()}, every ${state.interval_seconds} s`;
    drawMap(state);
    drawFlows(state);
    const regions = document.getElementById("regions");
    regions.replaceChildren(...state.regions.map(card));
    drawCharts(state);
    drawWorkflows(state);
  } catch (e) {
    document.getElementById("updated").textContent = `console unreachable (${e})`;
  }
}

refresh();
setInterval(refresh, 2000);
