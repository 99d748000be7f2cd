// DOM helpers. Text is always set with text nodes / textContent: nothing user-provided is
// ever parsed as HTML.

const SVG_NS = "http://www.w3.org/2000/svg";

function build(element, attrs, children) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      element.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key === "class") {
      element.setAttribute("class", value);
    } else if (key === "text") {
      element.textContent = String(value);
    } else if (key === "value") {
      element.value = value;
    } else {
      element.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(element, children);
  return element;
}

export function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** h("div", {class: "x"}, "text", child...) */
export function h(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

export function svg(tag, attrs, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

export function clear(element) {
  while (element.firstChild) element.firstChild.remove();
  return element;
}

const STATUS_ICONS = {
  RUNNING: "◐", SUCCEEDED: "✓", FAILED: "✕", TIMED_OUT: "◔", ABORTED: "■",
  NOT_REACHED: "○", IN_PROGRESS: "◐", CAUGHT: "⚠",
};
const STATUS_LABELS = {
  RUNNING: "Running", SUCCEEDED: "Succeeded", FAILED: "Failed", TIMED_OUT: "Timed out",
  ABORTED: "Aborted", NOT_REACHED: "Not reached", IN_PROGRESS: "In progress", CAUGHT: "Caught",
};

export function statusIcon(status) {
  return STATUS_ICONS[status] || "•";
}

export function statusLabel(status) {
  return STATUS_LABELS[status] || status;
}

/** A status badge: colour, icon and label (never colour alone). */
export function badge(status) {
  return h("span", { class: `badge s-${status.toLowerCase()}` },
    h("span", { "aria-hidden": "true" }, statusIcon(status)), " ", statusLabel(status));
}

export function formatDate(epoch) {
  if (epoch === null || epoch === undefined) return "—";
  const d = new Date(epoch * 1000);
  const pad = (n, w = 2) => String(n).padStart(w, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "—";
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds.toFixed(2)} s`;
  const m = Math.floor(seconds / 60);
  return `${m} min ${Math.round(seconds - m * 60)} s`;
}

/** JSON text pretty-printed, or the text itself when it is not JSON. */
export function pretty(text) {
  if (text === null || text === undefined) return "";
  if (typeof text !== "string") return JSON.stringify(text, null, 2);
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch (e) {
    return text;
  }
}

export function codeBlock(text, label) {
  return h("pre", { class: "code", tabindex: "0", "aria-label": label || "JSON" }, pretty(text));
}

export function errorBox(error) {
  return h("div", { class: "alert", role: "alert" },
    h("strong", {}, error.code || "Error"), ": ", error.message || String(error));
}
