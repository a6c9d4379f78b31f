// The interactive timeline: draws SECTIONS (written by html.rs) as SVG,
// one lane per row, and lets the reader zoom, pan and inspect each mark.
// Plain DOM, no libraries, no network.
"use strict";
(function () {
  const NS = "http://www.w3.org/2000/svg";
  const LABEL = 240, LANE = 24, TOP = 8, AXIS = 30;
  const COLORS = { run: "#337ab7", wait: "#999", park: "#d6d6d6", tick: "#f0ad4e",
                   wake: "#d9534f", spawn: "#5cb85c" };
  const views = [];

  function el(name, attrs, parent) {
    const node = document.createElementNS(NS, name);
    for (const key in attrs) node.setAttribute(key, attrs[key]);
    if (parent) parent.appendChild(node);
    return node;
  }

  function ms(seconds) {
    const value = seconds * 1000;
    return (value >= 100 ? value.toFixed(0) : value >= 1 ? value.toFixed(2) : value.toFixed(3)) + " ms";
  }

  function build(section, index) {
    const box = document.createElement("div");
    const title = document.createElement("h2");
    title.textContent = section.title;
    const tools = document.createElement("div");
    tools.className = "tools";
    const svg = el("svg", { height: TOP + LANE * section.lanes.length + AXIS });
    svg.style.width = "100%";
    svg.style.userSelect = "none";
    const detail = document.createElement("div");
    detail.className = "detail";
    detail.textContent = "Hover or click a bar, a wait, a park, a tick or an arrow.";
    box.append(title, tools, svg, detail);
    document.getElementById("sections").appendChild(box);
    const end = Math.max(section.end, 1e-6);
    const view = { section, svg, detail, index, t0: 0, t1: end, end, selected: null };
    for (const [label, action] of [["zoom in", () => zoom(view, 0.5, 0.5)],
                                   ["zoom out", () => zoom(view, 2, 0.5)],
                                   ["reset", () => { view.t0 = 0; view.t1 = end; draw(view); }]]) {
      const button = document.createElement("button");
      button.textContent = label;
      button.onclick = action;
      tools.appendChild(button);
    }
    svg.addEventListener("wheel", (e) => {
      e.preventDefault();
      const where = Math.min(Math.max((e.offsetX - LABEL) / plotWidth(view), 0), 1);
      zoom(view, e.deltaY < 0 ? 0.8 : 1.25, where);
    }, { passive: false });
    let drag = null;
    svg.addEventListener("mousedown", (e) => { drag = { x: e.clientX, t0: view.t0, t1: view.t1 }; });
    window.addEventListener("mouseup", () => { drag = null; });
    window.addEventListener("mousemove", (e) => {
      if (!drag) return;
      const shift = (drag.x - e.clientX) / plotWidth(view) * (drag.t1 - drag.t0);
      view.t0 = drag.t0 + shift;
      view.t1 = drag.t1 + shift;
      draw(view);
    });
    window.addEventListener("resize", () => draw(view));
    views.push(view);
    draw(view);
  }

  function plotWidth(view) {
    return Math.max((view.svg.clientWidth || 1100) - LABEL - 45, 100);
  }

  function zoom(view, factor, where) {
    const span = view.t1 - view.t0;
    const pivot = view.t0 + span * where;
    const next = Math.max(span * factor, 1e-6);
    view.t0 = pivot - next * where;
    view.t1 = view.t0 + next;
    draw(view);
  }

  function show(view, mark, node) {
    view.detail.textContent = mark.d;
    if (view.selected) view.selected.classList.remove("selected");
    view.selected = node;
    if (node) node.classList.add("selected");
  }

  function draw(view) {
    const { section, svg } = view;
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    const width = plotWidth(view);
    const x = (t) => LABEL + (t - view.t0) / (view.t1 - view.t0) * width;
    const mid = (lane) => TOP + LANE * lane + LANE / 2;
    const defs = el("defs", {}, svg);
    const marker = el("marker", { id: "head" + view.index, viewBox: "0 0 6 6", refX: 5, refY: 3,
                                  markerWidth: 6, markerHeight: 6, orient: "auto" }, defs);
    el("path", { d: "M0,0 L6,3 L0,6 z", fill: COLORS.wake }, marker);
    const clip = el("clipPath", { id: "plot" + view.index }, defs);
    el("rect", { x: LABEL, y: 0, width, height: TOP + LANE * section.lanes.length }, clip);
    section.lanes.forEach((name, lane) => {
      el("rect", { x: 0, y: TOP + LANE * lane, width: LABEL + width, height: LANE,
                   fill: lane % 2 ? "#fafafa" : "#fff" }, svg);
      const text = el("text", { x: 6, y: mid(lane) + 4 }, svg);
      text.textContent = name.length > 34 ? name.slice(0, 33) + "…" : name;
      const tip = el("title", {}, text);
      tip.textContent = name;
    });
    const plot = el("g", { "clip-path": "url(#plot" + view.index + ")" }, svg);
    const order = { park: 0, wait: 1, run: 2, tick: 3, spawn: 3, wake: 4 };
    const marks = section.marks.slice().sort((a, b) => order[a.k] - order[b.k]);
    for (const mark of marks) {
      if (mark.e < view.t0 || mark.s > view.t1) continue;
      const x1 = x(mark.s), x2 = x(mark.e), y = TOP + LANE * mark.l;
      let node;
      if (mark.k === "park") {
        node = el("rect", { x: x1, y: y + 1, width: Math.max(x2 - x1, 1), height: LANE - 2, fill: COLORS.park }, plot);
      } else if (mark.k === "run") {
        node = el("rect", { x: x1, y: y + 5, width: Math.max(x2 - x1, 3), height: LANE - 10, fill: COLORS.run }, plot);
      } else if (mark.k === "wait") {
        node = el("g", {}, plot);
        el("rect", { x: x1, y: y + 6, width: Math.max(x2 - x1, 1), height: LANE - 12, fill: "transparent" }, node);
        el("line", { x1, x2, y1: mid(mark.l), y2: mid(mark.l), stroke: COLORS.wait, "stroke-width": 2 }, node);
        if (x2 - x1 > 7 * mark.label.length) {
          const text = el("text", { x: x1 + 3, y: y + 9, fill: "#555", "font-size": 10 }, node);
          text.textContent = mark.label;
        }
      } else if (mark.k === "tick" || mark.k === "spawn") {
        node = el("rect", { x: x1 - 2, y: y + 2, width: 4, height: LANE - 4, fill: COLORS[mark.k] }, plot);
      } else {
        node = el("g", {}, plot);
        el("line", { x1, x2: x1, y1: mid(mark.l), y2: mid(mark.t), stroke: "transparent", "stroke-width": 8,
                     class: "hit" }, node);
        el("line", { x1, x2: x1, y1: mid(mark.l), y2: mid(mark.t) + (mark.t > mark.l ? -4 : 4),
                     stroke: COLORS.wake, "stroke-width": 1.5,
                     "marker-end": "url(#head" + view.index + ")" }, node);
      }
      node.classList.add("mark");
      node.addEventListener("mouseenter", () => show(view, mark, node));
      node.addEventListener("click", () => show(view, mark, node));
      if (mark === view.pick) show(view, mark, node);
    }
    const axisY = TOP + LANE * section.lanes.length + 4;
    el("line", { x1: LABEL, x2: LABEL + width, y1: axisY, y2: axisY, stroke: "#000" }, svg);
    for (let tick = 0; tick <= 6; tick++) {
      const t = view.t0 + (view.t1 - view.t0) * tick / 6;
      el("line", { x1: x(t), x2: x(t), y1: axisY, y2: axisY + 5, stroke: "#000" }, svg);
      const label = el("text", { x: x(t), y: axisY + 18, "text-anchor": "middle" }, svg);
      label.textContent = ms(t);
    }
    const caption = el("text", { x: 6, y: axisY + 18 }, svg);
    caption.textContent = "time since capture start";
  }

  SECTIONS.forEach(build);
  // #select=S:TEXT opens the longest of section S's marks whose details
  // contain TEXT, zoomed in around it.
  const asked = decodeURIComponent(location.hash).match(/^#select=(\d+):(.*)$/);
  if (asked && views[+asked[1]]) {
    const view = views[+asked[1]];
    const mark = view.section.marks.filter((m) => m.d.includes(asked[2]))
      .reduce((best, m) => (!best || m.e - m.s > best.e - best.s ? m : best), null);
    if (mark) {
      const span = Math.max(mark.e - mark.s, view.end / 50);
      view.t0 = Math.max(mark.s - span * 2, 0);
      view.t1 = mark.e + span * 2;
      view.pick = mark;
      draw(view);
      view.svg.scrollIntoView();
    }
  }
})();
