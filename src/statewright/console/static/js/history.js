// The event history table, virtualised: only the rows in view exist in the DOM, so 25,000
// events scroll as smoothly as 25. A row expands to show the event's details as JSON.

import { h } from "./dom.js";

const ROW = 34;
const DETAIL = 260;
const OVERSCAN = 12;
const VIEW = 520;

export class HistoryTable {
  constructor(trace) {
    this.trace = trace;
    this.expanded = new Set();
    this.offsets = [0];
    this.element = h("div", { class: "history" });
    this.header = h("div", { class: "history-row history-head", role: "row" },
      h("span", { role: "columnheader", class: "c-id" }, "ID"),
      h("span", { role: "columnheader", class: "c-type" }, "Type"),
      h("span", { role: "columnheader", class: "c-step" }, "Step"),
      h("span", { role: "columnheader", class: "c-time" }, "Since start"),
      h("span", { role: "columnheader", class: "c-when" }, "Timestamp"));
    this.spacer = h("div", { class: "history-spacer", role: "presentation" });
    this.viewport = h("div", { class: "history-viewport", tabindex: "0", role: "table", "aria-label": "Event history", "aria-rowcount": "0" }, this.header, this.spacer);
    this.count = h("span", { class: "muted" });
    this.element.append(this.viewport);
    this.viewport.addEventListener("scroll", () => this._schedule());
    this.frame = 0;
    this.rendered = "";
    this.version = "0";
  }

  _layout() {
    this.version = String((Number(this.version) || 0) + 1);
    const n = this.trace.events.length;
    const offsets = new Array(n + 1);
    offsets[0] = 0;
    for (let i = 0; i < n; i++) {
      offsets[i + 1] = offsets[i] + ROW + (this.expanded.has(this.trace.events[i].id) ? DETAIL : 0);
    }
    this.offsets = offsets;
    this.spacer.style.height = `${offsets[n]}px`;
    // Short histories take the room they need; long ones scroll inside a fixed height.
    this.viewport.style.height = `${Math.min(VIEW, offsets[n] + ROW + 2)}px`;
    this.viewport.setAttribute("aria-rowcount", String(n + 1));
  }

  /** New events arrived (or rows toggled). Keeps the view at the bottom when it was there. */
  update() {
    const atBottom = this.viewport.scrollTop + this.viewport.clientHeight >= this.viewport.scrollHeight - ROW;
    this._layout();
    this.rendered = "";
    if (atBottom && this.follow && this.trace.events.length > 1) this.viewport.scrollTop = this.viewport.scrollHeight;
    this._render();
  }

  _schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => { this.frame = 0; this._render(); });
  }

  _index(y) {
    let lo = 0, hi = this.trace.events.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.offsets[mid + 1] <= y) lo = mid + 1; else hi = mid;
    }
    return lo;
  }

  _render() {
    const events = this.trace.events;
    const top = Math.max(0, this.viewport.scrollTop - ROW);
    const first = Math.max(0, this._index(top) - OVERSCAN);
    const last = Math.min(events.length, this._index(top + this.viewport.clientHeight) + OVERSCAN);
    const key = `${first}:${last}`;
    if (key === this.rendered) return;
    this.rendered = key;
    // Rows already on screen stay; only those scrolled in are built, those scrolled out go.
    const rows = this.rows || new Map();
    for (const [index, row] of rows) {
      if (index < first || index >= last || row.dataset.version !== this.version) {
        row.remove();
        rows.delete(index);
      }
    }
    for (let i = first; i < last; i++) {
      if (!rows.has(i)) {
        const row = this._row(events[i], i);
        rows.set(i, row);
        this.spacer.append(row);
      }
    }
    this.rows = rows;
  }

  _row(event, i) {
    const start = this.trace.start || 0;
    const open = this.expanded.has(event.id);
    const row = h("div", {
      class: `history-row${open ? " open" : ""}${/Failed|TimedOut|Aborted/.test(event.type) ? " bad" : ""}`,
      role: "row", tabindex: "0", "aria-expanded": open ? "true" : "false",
      "aria-rowindex": String(i + 2), "data-event-id": String(event.id),
      "data-version": this.version,
      onclick: () => this.toggle(event.id),
      onkeydown: (e) => this._key(e, event.id, i),
    },
    h("span", { role: "cell", class: "c-id" }, h("span", { class: "chevron", "aria-hidden": "true" }, open ? "▾" : "▸"), String(event.id)),
    h("span", { role: "cell", class: "c-type" }, event.type),
    h("span", { role: "cell", class: "c-step" }, this.trace.stepOf.get(event.id) || ""),
    h("span", { role: "cell", class: "c-time" }, `+${((event.timestamp - start) * 1000).toFixed(0)} ms`),
    h("span", { role: "cell", class: "c-when" }, new Date(event.timestamp * 1000).toISOString().replace("T", " ").slice(0, 23)));
    row.style.top = `${this.offsets[i]}px`;
    if (open) {
      row.append(h("pre", { class: "code history-details", role: "cell" },
        JSON.stringify({ id: event.id, previousEventId: event.previousEventId, type: event.type, details: expand(event.details) }, null, 2)));
    }
    return row;
  }

  _key(event, id, index) {
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      this.toggle(id);
    } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const next = index + (event.key === "ArrowDown" ? 1 : -1);
      const target = this.trace.events[next];
      if (!target) return;
      if (this.offsets[next] < this.viewport.scrollTop + ROW) this.viewport.scrollTop = this.offsets[next] - ROW;
      if (this.offsets[next + 1] > this.viewport.scrollTop + this.viewport.clientHeight) this.viewport.scrollTop = this.offsets[next + 1] - this.viewport.clientHeight;
      this.rendered = "";
      this._render();
      const row = this.spacer.querySelector(`[data-event-id="${target.id}"]`);
      if (row) row.focus({ preventScroll: true });
    }
  }

  toggle(id) {
    if (this.expanded.has(id)) this.expanded.delete(id); else this.expanded.add(id);
    this.update();
    const row = this.spacer.querySelector(`[data-event-id="${id}"]`);
    if (row) row.focus({ preventScroll: true });
  }

  scrollToEvent(id) {
    const index = this.trace.events.findIndex((e) => e.id === id);
    if (index >= 0) { this.viewport.scrollTop = this.offsets[index] - ROW; this._render(); }
  }
}

/** Event details with their JSON-text payloads parsed, for reading. */
function expand(details) {
  if (!details) return null;
  const out = {};
  for (const [key, value] of Object.entries(details)) {
    if (typeof value === "string" && /^(input|output|result|parameters|cause)$/.test(key)) {
      try { out[key] = JSON.parse(value); continue; } catch (e) { /* text */ }
    }
    out[key] = value;
  }
  return out;
}
