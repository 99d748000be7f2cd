// Where the time went: every state visit as a bar on the execution's time axis, with its
// duration and retries, so nobody has to subtract timestamps.

import { h, clear, formatDuration, statusIcon, statusLabel } from "./dom.js";

const MAX_ROWS = 200;

export class Timeline {
  constructor(trace, { onSelect } = {}) {
    this.trace = trace;
    this.onSelect = onSelect;
    this.element = h("div", { class: "timeline", role: "list", "aria-label": "Timeline of states" });
  }

  /** Redraws from the trace; `end` is the execution's stop time (or now while it runs). */
  update(end) {
    const start = this.trace.start;
    clear(this.element);
    if (start === null) return;
    const visits = [];
    for (const state of this.trace.states.values()) {
      state.visits.forEach((visit, index) => visits.push({ state, visit, index }));
    }
    visits.sort((a, b) => a.visit.enteredId - b.visit.enteredId);
    const total = Math.max(end - start, 0.001);
    for (const { state, visit, index } of visits.slice(0, MAX_ROWS)) {
      const stop = visit.exited ?? end;
      const last = index === state.visits.length - 1;
      const status = last ? state.status : visit.error ? "CAUGHT" : "SUCCEEDED";
      const bar = h("span", { class: `bar s-${status.toLowerCase()}`, "aria-hidden": "true" });
      bar.style.left = `${((visit.entered - start) / total) * 100}%`;
      bar.style.width = `max(3px, ${((stop - visit.entered) / total) * 100}%)`;
      const label = `${formatDuration(stop - visit.entered)}${visit.retries ? ` · ${visit.retries} ${visit.retries === 1 ? "retry" : "retries"}` : ""}`;
      this.element.append(h("button", {
        type: "button", class: "timeline-row", role: "listitem",
        "aria-label": `${state.name}: ${statusLabel(status).toLowerCase()}, ${label}, from +${formatDuration(visit.entered - start)}`,
        onclick: () => this.onSelect && this.onSelect(state.name),
      },
      h("span", { class: "timeline-name" }, h("span", { class: `icon s-${status.toLowerCase()}`, "aria-hidden": "true" }, statusIcon(status)), " ", state.name),
      h("span", { class: "timeline-track" }, bar),
      h("span", { class: "timeline-time" }, label)));
    }
    if (visits.length > MAX_ROWS) {
      this.element.append(h("p", { class: "muted" }, `The first ${MAX_ROWS} of ${visits.length.toLocaleString()} state visits.`));
    }
  }
}
