// The state machine as a graph: every state a node, edges for Next, Choice rules, Default and
// Catch; Parallel branches and Map item processors as nested groups. Laid out with dagre and
// drawn as SVG; setStatus() recolours nodes as an execution runs.

import * as dagre from "../vendor/dagre/dagre.esm.js";
import { h, svg, clear, statusIcon, statusLabel } from "./dom.js";

const COMPARATORS = [
  ["StringEquals", "=="], ["NumericEquals", "=="], ["BooleanEquals", "=="],
  ["TimestampEquals", "=="], ["StringLessThanEquals", "<="], ["NumericLessThanEquals", "<="],
  ["TimestampLessThanEquals", "<="], ["StringGreaterThanEquals", ">="],
  ["NumericGreaterThanEquals", ">="], ["TimestampGreaterThanEquals", ">="],
  ["StringLessThan", "<"], ["NumericLessThan", "<"], ["TimestampLessThan", "<"],
  ["StringGreaterThan", ">"], ["NumericGreaterThan", ">"], ["TimestampGreaterThan", ">"],
  ["StringMatches", "matches"], ["IsPresent", "is present"], ["IsNull", "is null"],
  ["IsBoolean", "is boolean"], ["IsNumeric", "is numeric"], ["IsString", "is string"],
  ["IsTimestamp", "is timestamp"],
];

function shorten(text, max = 36) {
  return text.length > max ? text.slice(0, max - 1) + "…" : text;
}

/** A short form of a Choice rule: `$.inStock == true`, `a and b`, a JSONata condition. */
export function ruleLabel(rule) {
  if (!rule || typeof rule !== "object") return "";
  if (typeof rule.Condition === "string") return rule.Condition.replace(/^\{%\s*|\s*%\}$/g, "");
  if (Array.isArray(rule.And)) return rule.And.map(ruleLabel).join(" and ");
  if (Array.isArray(rule.Or)) return rule.Or.map(ruleLabel).join(" or ");
  if (rule.Not) return "not (" + ruleLabel(rule.Not) + ")";
  for (const [key, op] of COMPARATORS) {
    for (const suffix of ["", "Path"]) {
      if (key + suffix in rule) {
        const value = rule[key + suffix];
        const shown = key.startsWith("Is") ? "" : " " + (suffix ? value : JSON.stringify(value));
        if (key.startsWith("Is") && value === false) return `${rule.Variable} is not ${op.slice(3)}`;
        return `${rule.Variable} ${op}${shown}`;
      }
    }
  }
  return "rule";
}

function isTerminal(state) {
  return state.End === true || state.Type === "Succeed" || state.Type === "Fail";
}

/**
 * The graph of a definition: {nodes, edges, groups, byName}. Node ids are paths (a state in a
 * Parallel branch: "Parallel/0/Name"); byName maps a state name to its node id.
 */
export function buildGraph(definition) {
  const nodes = [];
  const edges = [];
  const groups = [];
  const byName = new Map();

  function scope(states, startAt, prefix, parent) {
    const idOf = (name) => prefix + name;
    const terminals = [];
    for (const [name, state] of Object.entries(states || {})) {
      const id = idOf(name);
      const type = state.Type || "?";
      nodes.push({ id, name, type, parent });
      if (!byName.has(name)) byName.set(name, id);
      let exitId = id;
      if (type === "Parallel" || type === "Map") {
        const joinId = id + "/end";
        const subs = type === "Parallel"
          ? (state.Branches || []).map((b, i) => [b, `${id}/${i}/`, `Branch ${i + 1}`])
          : [[state.ItemProcessor || state.Iterator || {}, `${id}/items/`, "Item processor"]];
        for (const [sub, subPrefix, label] of subs) {
          const groupId = subPrefix + "#group";
          groups.push({ id: groupId, label: `${name} · ${label}`, parent });
          const subTerminals = scope(sub.States, sub.StartAt, subPrefix, groupId);
          if (sub.StartAt) edges.push({ from: id, to: subPrefix + sub.StartAt, kind: "next" });
          for (const t of subTerminals) edges.push({ from: t, to: joinId, kind: "next" });
        }
        nodes.push({ id: joinId, name: "", type: "Join", parent, joinOf: id });
        exitId = joinId;
      }
      if (typeof state.Next === "string") edges.push({ from: exitId, to: idOf(state.Next), kind: "next" });
      if (type === "Choice") {
        (state.Choices || []).forEach((rule, i) => {
          if (typeof rule.Next === "string") {
            edges.push({ from: id, to: idOf(rule.Next), kind: "choice", label: shorten(ruleLabel(rule)), title: ruleLabel(rule), index: i });
          }
        });
        if (typeof state.Default === "string") edges.push({ from: id, to: idOf(state.Default), kind: "default", label: "Default" });
      }
      for (const handler of state.Catch || []) {
        if (typeof handler.Next === "string") {
          edges.push({ from: exitId, to: idOf(handler.Next), kind: "catch", label: "Catch " + shorten((handler.ErrorEquals || []).join(", "), 28) });
        }
      }
      if (isTerminal(state)) terminals.push(exitId);
    }
    if (startAt && parent === null) {
      nodes.unshift({ id: "#start", name: "Start", type: "Start", parent: null });
      edges.unshift({ from: "#start", to: idOf(startAt), kind: "next" });
      nodes.push({ id: "#end", name: "End", type: "End", parent: null });
      for (const t of terminals) edges.push({ from: t, to: "#end", kind: "next" });
    }
    return terminals;
  }

  scope(definition.States, definition.StartAt, "", null);
  const known = new Set(nodes.map((n) => n.id));
  return { nodes, edges: edges.filter((e) => known.has(e.from) && known.has(e.to)), groups, byName };
}

function nodeSize(node) {
  if (node.type === "Start" || node.type === "End") return [70, 30];
  if (node.type === "Join") return [24, 24];
  const width = Math.max(150, Math.min(280, 48 + node.name.length * 7.9));
  return [width, 50];
}

/** Lays out and draws `graph` into `container`; returns {setStatus, select, element}. */
export function drawGraph(container, graph, { onSelect, live = false } = {}) {
  const started = performance.now();
  const g = new dagre.graphlib.Graph({ compound: true, multigraph: true });
  g.setGraph({ rankdir: "TB", nodesep: 28, ranksep: 44, edgesep: 12, marginx: 16, marginy: 16 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const group of graph.groups) g.setNode(group.id, { label: group.label, paddingTop: 26, paddingLeft: 12, paddingRight: 12, paddingBottom: 12 });
  for (const node of graph.nodes) {
    const [width, height] = nodeSize(node);
    g.setNode(node.id, { width, height });
  }
  for (const group of graph.groups) if (group.parent) g.setParent(group.id, group.parent);
  for (const node of graph.nodes) if (node.parent) g.setParent(node.id, node.parent);
  graph.edges.forEach((edge, i) => {
    const label = edge.label ? { width: Math.min(240, 12 + edge.label.length * 6.2), height: 18, labelpos: "c" } : {};
    g.setEdge(edge.from, edge.to, { ...label, edge }, `e${i}`);
  });
  dagre.layout(g);
  const size = g.graph();
  const width = Math.ceil(size.width || 200);
  const height = Math.ceil(size.height || 100);

  const root = svg("svg", {
    class: "graph", viewBox: `0 0 ${width} ${height}`, width, height,
    role: "group", "aria-label": "State machine graph",
  });
  root.append(svg("defs", {},
    ...["next", "choice", "default", "catch", "taken"].map((kind) => svg("marker", {
      id: `arrow-${kind}`, viewBox: "0 0 10 10", refX: "9", refY: "5", markerWidth: "9",
      markerHeight: "9", markerUnits: "userSpaceOnUse", orient: "auto-start-reverse",
      class: `arrow arrow-${kind}`,
    }, svg("path", { d: "M 0 0 L 10 5 L 0 10 z" })))));

  const groupLayer = svg("g", { class: "groups" });
  for (const group of graph.groups) {
    const box = g.node(group.id);
    if (!box || box.width === undefined) continue;
    groupLayer.append(svg("g", { class: "group" },
      svg("rect", { x: box.x - box.width / 2, y: box.y - box.height / 2, width: box.width, height: box.height, rx: 8 }),
      svg("text", { x: box.x - box.width / 2 + 10, y: box.y - box.height / 2 + 16, class: "group-label" }, group.label)));
  }
  const edgeLayer = svg("g", { class: "edges" });
  const edgeElements = [];
  for (const key of g.edges()) {
    const data = g.edge(key);
    const points = data.points || [];
    if (!points.length) continue;
    const d = points.map((p, i) => `${i ? "L" : "M"}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(" ");
    const kind = data.edge.kind;
    const path = svg("path", { d, class: `edge edge-${kind}`, "marker-end": `url(#arrow-${kind})` });
    const wrap = svg("g", { class: "edge-wrap" }, path);
    if (data.edge.label) {
      const tw = Math.min(240, 12 + data.edge.label.length * 6.2);
      wrap.append(svg("g", { class: `edge-label edge-label-${kind}`, transform: `translate(${data.x},${data.y})` },
        svg("title", {}, data.edge.title || data.edge.label),
        svg("rect", { x: -tw / 2, y: -9, width: tw, height: 18, rx: 4 }),
        svg("text", { x: 0, y: 4, "text-anchor": "middle" }, data.edge.label)));
    }
    edgeElements.push({ edge: data.edge, element: wrap });
    edgeLayer.append(wrap);
  }
  const nodeLayer = svg("g", { class: "nodes" });
  const nodeElements = new Map();
  for (const node of graph.nodes) {
    const box = g.node(node.id);
    const x = box.x - box.width / 2;
    const y = box.y - box.height / 2;
    let element;
    if (node.type === "Start" || node.type === "End") {
      element = svg("g", { class: "node terminal", transform: `translate(${x},${y})` },
        svg("rect", { width: box.width, height: box.height, rx: box.height / 2 }),
        svg("text", { x: box.width / 2, y: box.height / 2 + 4, "text-anchor": "middle" }, node.name));
    } else if (node.type === "Join") {
      element = svg("g", { class: "node join s-not_reached", transform: `translate(${x},${y})` },
        svg("circle", { cx: box.width / 2, cy: box.height / 2, r: box.width / 2 - 2 }));
      if (!live) element.setAttribute("class", "node join plain");
    } else {
      const label = `${node.name} (${node.type})`;
      element = svg("g", {
        class: `node state ${live ? "s-not_reached" : "plain"}`, transform: `translate(${x},${y})`,
        tabindex: live ? "0" : null, role: live ? "button" : "img",
        "aria-label": live ? `${label}: not reached` : label, "data-state": node.name,
      },
        svg("title", {}, label),
        svg("rect", { width: box.width, height: box.height, rx: 6 }),
        svg("text", { x: 12, y: 21, class: "node-name" }, shorten(node.name, Math.floor((box.width - (live ? 44 : 24)) / 7.8))),
        svg("text", { x: 12, y: 38, class: "node-type" }, node.type),
        live ? svg("text", { x: box.width - 12, y: 21, class: "node-icon", "text-anchor": "end", "aria-hidden": "true" }, statusIcon("NOT_REACHED")) : null);
      if (!live) { nodeElements.set(node.id, { node, element }); nodeLayer.append(element); continue; }
      const choose = () => onSelect && onSelect(node);
      element.addEventListener("click", choose);
      element.addEventListener("keydown", (event) => {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); choose(); }
      });
    }
    nodeElements.set(node.id, { node, element });
    nodeLayer.append(element);
  }
  root.append(groupLayer, edgeLayer, nodeLayer);
  clear(container).append(root);
  // Layout and drawing time, for the browser tests' measurements (performance entries).
  performance.measure("statewright:graph-draw", { start: started, detail: { nodes: graph.nodes.length } });

  function setStatus(statusOf) {
    for (const { node, element } of nodeElements.values()) {
      if (node.type === "Start" || node.type === "End") continue;
      const name = node.type === "Join" ? nodeElements.get(node.joinOf).node.name : node.name;
      const status = statusOf(name) || "NOT_REACHED";
      const cls = `s-${status.toLowerCase()}`;
      if (element.dataset.status === status) continue;
      element.dataset.status = status;
      element.setAttribute("class", `node ${node.type === "Join" ? "join" : "state"} ${cls}${element.classList.contains("selected") ? " selected" : ""}`);
      if (node.type !== "Join") {
        element.setAttribute("aria-label", `${node.name} (${node.type}): ${statusLabel(status).toLowerCase()}`);
        element.querySelector(".node-icon").textContent = statusIcon(status);
      }
    }
  }

  /** Marks the edges the execution took: took(fromName, toName), "" for Start and End. */
  function setTaken(took, statusOf) {
    const nameOf = (id) => {
      const entry = nodeElements.get(id);
      if (!entry || entry.node.type === "Start" || entry.node.type === "End") return "";
      return entry.node.type === "Join" ? nodeElements.get(entry.node.joinOf).node.name : entry.node.name;
    };
    for (const { edge, element } of edgeElements) {
      const from = nameOf(edge.from);
      const to = nameOf(edge.to);
      const intoJoin = nodeElements.get(edge.to).node.type === "Join";
      const taken = intoJoin ? statusOf(from) === "SUCCEEDED" : took(from, to);
      if (taken !== element.classList.contains("taken")) {
        element.classList.toggle("taken", taken);
        element.querySelector("path").setAttribute("marker-end", `url(#arrow-${taken ? "taken" : edge.kind})`);
      }
    }
  }

  function select(name) {
    for (const { node, element } of nodeElements.values()) {
      element.classList.toggle("selected", node.name === name && node.type !== "Join");
    }
  }

  // Zoom: "fit" shrinks a large graph to the box's width; the buttons step the scale.
  let scale = 1;
  function zoom(next) {
    const fit = Math.min(1, (container.clientWidth - 20) / width);
    scale = next === "fit" ? fit : Math.max(0.1, Math.min(2, next));
    root.setAttribute("width", String(Math.round(width * scale)));
    root.setAttribute("height", String(Math.round(height * scale)));
  }
  const controls = h("div", { class: "zoom", role: "group", "aria-label": "Zoom" },
    h("button", { type: "button", "aria-label": "Zoom out", onclick: () => zoom(scale / 1.25) }, "−"),
    h("button", { type: "button", "aria-label": "Zoom in", onclick: () => zoom(scale * 1.25) }, "+"),
    h("button", { type: "button", onclick: () => zoom("fit") }, "Fit"),
    h("button", { type: "button", onclick: () => zoom(1) }, "100%"));
  container.prepend(controls);

  return { setStatus, setTaken, select, zoom, element: root, width, height };
}

export function legend() {
  return h("ul", { class: "legend", "aria-label": "Legend" },
    ...["NOT_REACHED", "IN_PROGRESS", "SUCCEEDED", "FAILED", "CAUGHT"].map((s) =>
      h("li", { class: `s-${s.toLowerCase()}` }, h("span", { class: "swatch", "aria-hidden": "true" }, statusIcon(s)), statusLabel(s))),
    h("li", { class: "edge-key" }, h("span", { class: "line taken", "aria-hidden": "true" }), "Path taken"),
    h("li", { class: "edge-key" }, h("span", { class: "line catch", "aria-hidden": "true" }), "Catch"));
}
