// The console: a hash router and its pages.

import { call, csrfToken, signOut, stream } from "./api.js";
import { h, clear, badge, codeBlock, errorBox, formatDate, formatDuration, pretty, statusLabel } from "./dom.js";
import { buildGraph, drawGraph, legend } from "./graph.js";
import { HistoryTable } from "./history.js";
import { Timeline } from "./timeline.js";
import { Trace } from "./trace.js";

const STATUSES = ["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"];
const main = document.getElementById("main");
let leave = null; // cleanup of the current page (open streams)

function link(hash, text, attrs = {}) {
  return h("a", { href: hash, ...attrs }, text);
}

function hashFor(page, params) {
  const query = new URLSearchParams(params).toString();
  return `#/${page}${query ? "?" + query : ""}`;
}

function go(page, params) {
  window.location.hash = hashFor(page, params);
}

function title(text, ...extra) {
  document.title = `${text} · statewright`;
  return h("div", { class: "page-head" }, h("h1", {}, text), ...extra);
}

function crumbs(...parts) {
  return h("nav", { class: "crumbs", "aria-label": "Breadcrumb" },
    ...parts.flatMap((part, i) => [i ? h("span", { "aria-hidden": "true" }, " / ") : null, part]));
}

function countsCell(counts) {
  const cell = h("span", { class: "counts" });
  for (const status of STATUSES) {
    if (counts && counts[status]) cell.append(h("span", { class: `count s-${status.toLowerCase()}`, title: statusLabel(status) }, badge(status), " ", String(counts[status])));
  }
  if (!cell.childNodes.length) cell.append(h("span", { class: "muted" }, "none yet"));
  return cell;
}

function table(headers, rows, label) {
  return h("div", { class: "table-wrap" }, h("table", { "aria-label": label },
    h("thead", {}, h("tr", {}, ...headers.map((x) => h("th", { scope: "col" }, x)))),
    h("tbody", {}, ...rows)));
}

// ------------------------------------------------------------------ state machines

async function machinesPage(params, home) {
  const data = await call("/overview");
  const totals = h("section", { class: "cards", "aria-label": "Executions by status" },
    ...STATUSES.map((s) => h("div", { class: `card s-${s.toLowerCase()}` },
      h("div", { class: "card-num" }, String(data.totals[s] || 0)), badge(s))),
    h("div", { class: "card" }, h("div", { class: "card-num" }, String(data.functionCount)), link("#/functions", "Functions")));
  const rows = data.stateMachines.map((m) => h("tr", {},
    h("td", {}, link(hashFor("state-machine", { arn: m.arn }), m.name)),
    h("td", {}, m.type), h("td", { class: "nowrap" }, formatDate(m.createdAt)), h("td", {}, countsCell(m.counts))));
  return [
    title(home ? "State machines" : "State machines",
      h("a", { class: "button primary", href: "#/create" }, "Create state machine")),
    totals,
    rows.length ? table(["Name", "Type", "Created", "Executions"], rows, "State machines")
      : h("p", { class: "empty" }, "No state machines yet. Create one, or run ", h("code", {}, "statewright demo"), "."),
  ];
}

async function machinePage(params) {
  const machine = await call("/state-machine", { params: { arn: params.arn } });
  const status = params.status || "";
  const name = params.name || "";
  const list = await call("/executions", { params: { stateMachineArn: params.arn, status, name, nextToken: params.next, limit: 25 } });
  const filter = h("form", { class: "filters", role: "search", onsubmit: (e) => {
    e.preventDefault();
    const form = new FormData(e.target);
    go("state-machine", { arn: params.arn, status: form.get("status"), name: form.get("name") });
  } },
  h("label", {}, "Status ", h("select", { name: "status" },
    h("option", { value: "" }, "Any"), ...STATUSES.map((s) => h("option", { value: s, selected: s === status }, statusLabel(s))))),
  h("label", {}, "Name contains ", h("input", { name: "name", type: "search", value: name, placeholder: "execution name" })),
  h("button", { type: "submit" }, "Filter"));
  const rows = list.executions.map((e) => h("tr", {},
    h("td", {}, link(hashFor("execution", { arn: e.arn }), e.name)),
    h("td", {}, badge(e.status)),
    h("td", { class: "nowrap" }, formatDate(e.startDate)),
    h("td", { class: "nowrap" }, e.stopDate ? formatDuration(e.stopDate - e.startDate) : "—")));
  const pager = h("div", { class: "pager" },
    params.next ? link(hashFor("state-machine", { arn: params.arn, status, name }), "← Newest") : null,
    list.nextToken ? link(hashFor("state-machine", { arn: params.arn, status, name, next: list.nextToken }), "Older →") : null);
  const graphBox = h("div", { class: "graph-box", tabindex: "0", "aria-label": "Graph" });
  const del = h("button", { class: "danger", type: "button", onclick: async () => {
    if (!window.confirm(`Delete state machine ${machine.name}? Its executions are kept.`)) return;
    await call("/state-machine", { method: "DELETE", params: { arn: machine.arn } });
    go("", {});
  } }, "Delete");
  const page = [
    crumbs(link("#/", "State machines"), machine.name),
    title(machine.name, h("div", { class: "actions" },
      h("a", { class: "button primary", href: hashFor("start", { arn: machine.arn }) }, "Start execution"), del)),
    h("dl", { class: "facts" },
      h("dt", {}, "ARN"), h("dd", { class: "mono" }, machine.arn),
      h("dt", {}, "Type"), h("dd", {}, machine.type),
      h("dt", {}, "Role"), h("dd", { class: "mono" }, machine.roleArn),
      h("dt", {}, "May invoke"), h("dd", { "data-role-permissions": "" }, rolePermissions(machine.rolePermissions, machine.iamStrict)),
      h("dt", {}, "Created"), h("dd", {}, formatDate(machine.createdAt)),
      h("dt", {}, "Executions"), h("dd", {}, countsCell(machine.counts))),
    h("section", { "aria-label": "Executions" }, h("h2", {}, "Executions"), filter,
      rows.length ? table(["Name", "Status", "Started", "Duration"], rows, "Executions") : h("p", { class: "empty" }, "No executions match."),
      pager),
    h("section", { class: "split", "aria-label": "Definition" },
      h("div", {}, h("h2", {}, "Definition"), codeBlock(machine.definition, "Definition")),
      h("div", {}, h("h2", {}, "Graph"), graphBox)),
  ];
  queueMicrotask(() => {
    try { drawGraph(graphBox, buildGraph(JSON.parse(machine.definition))); } catch (e) { graphBox.append(errorBox(e)); }
  });
  return page;
}

// What the state machine's role may invoke: {function: allowed}, or null (not enforced).
function rolePermissions(permissions, strict) {
  if ((permissions === null || permissions === undefined) && strict) {
    return h("span", { class: "bad-text" }, "Nothing: this role does not exist in statewright's IAM, and the server requires it (serve --iam strict).");
  }
  if (permissions === null || permissions === undefined) {
    return h("span", { class: "muted" }, "Not enforced: this role does not exist in statewright's IAM, so every Task may invoke every function.");
  }
  const names = Object.keys(permissions).sort();
  if (!names.length) return h("span", { class: "muted" }, "No functions are deployed.");
  return h("ul", { class: "role-list", "aria-label": "Functions the role may invoke" }, ...names.map((name) =>
    h("li", { class: permissions[name] ? "ok-text" : "bad-text" },
      permissions[name] ? "✓ " : "✗ ", name, permissions[name] ? " (allowed)" : " (denied)")));
}

// Where in the text a diagnostic's location (/States/Name/Next) points: the line of its last key.
function lineOf(text, location) {
  if (!location) return null;
  let at = 0;
  for (const raw of location.split("/").filter(Boolean)) {
    const part = raw.replace(/\[\d+\]$/, "");
    const found = text.indexOf(JSON.stringify(part), at);
    if (found < 0) break;
    at = found;
  }
  return text.slice(0, at).split("\n").length;
}

function selectLine(textarea, line) {
  const lines = textarea.value.split("\n");
  const start = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0);
  textarea.focus();
  textarea.setSelectionRange(start, start + (lines[line - 1] || "").length);
  textarea.scrollTop = Math.max(0, (line - 5) * 18);
}

function diagnosticsList(diagnostics, textarea) {
  return h("ul", { class: "diagnostics", "aria-label": "Problems" }, ...diagnostics.map((d) => {
    const line = lineOf(textarea.value, d.location);
    return h("li", {},
      h("span", { class: "diag-code" }, d.code), " ",
      h("span", {}, d.message), " ",
      d.location ? h("button", { type: "button", class: "link", onclick: () => line && selectLine(textarea, line) },
        `at ${d.location}${line ? ` (line ${line})` : ""}`) : null);
  }));
}

async function createPage() {
  const sample = JSON.stringify({ Comment: "A new state machine", StartAt: "Hello", States: { Hello: { Type: "Pass", Result: { hello: "world" }, End: true } } }, null, 2);
  const editor = h("textarea", { id: "definition", class: "editor", spellcheck: "false", rows: 22, "aria-label": "Definition (ASL JSON)" });
  editor.value = sample;
  const nameInput = h("input", { id: "sm-name", required: true, pattern: "[A-Za-z0-9_\\-]{1,80}", placeholder: "my-state-machine" });
  const typeSelect = h("select", { id: "sm-type" }, h("option", { value: "STANDARD" }, "Standard"), h("option", { value: "EXPRESS" }, "Express"));
  const problems = h("div", { class: "problems", "aria-live": "polite" });
  const preview = h("div", { class: "graph-box" });
  const upload = h("input", { type: "file", accept: ".json,.asl.json,application/json", "aria-label": "Upload a definition file", onchange: async (e) => {
    const file = e.target.files[0];
    if (file) { editor.value = await file.text(); refresh(); }
  } });
  let timer = 0;
  let generation = 0; // only the latest check or submission shows its problems
  async function refresh() {
    const mine = ++generation;
    clear(problems);
    let parsed;
    try { parsed = JSON.parse(editor.value); } catch (e) {
      problems.append(h("p", { class: "bad-text" }, `Not valid JSON: ${e.message}`));
      return false;
    }
    try { drawGraph(preview, buildGraph(parsed)); } catch (e) { clear(preview); }
    const answer = await call("/validate", { method: "POST", body: { definition: editor.value } });
    if (mine !== generation) return false;
    if (answer.diagnostics.length) problems.append(diagnosticsList(answer.diagnostics, editor));
    else problems.append(h("p", { class: "ok-text" }, "✓ The definition is valid."));
    return !answer.diagnostics.length;
  }
  editor.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(refresh, 400); });
  const form = h("form", { class: "create", onsubmit: async (e) => {
    e.preventDefault();
    clearTimeout(timer);
    const mine = ++generation;
    clear(problems);
    try {
      const made = await call("/state-machine", { method: "POST", body: { name: nameInput.value, definition: editor.value, type: typeSelect.value } });
      go("state-machine", { arn: made.arn });
    } catch (error) {
      if (mine !== generation) return;
      problems.append(errorBox(error));
      if (error.diagnostics.length) problems.append(diagnosticsList(error.diagnostics, editor));
    }
  } },
  h("div", { class: "row" },
    h("label", { for: "sm-name" }, "Name"), nameInput,
    h("label", { for: "sm-type" }, "Type"), typeSelect,
    h("label", { class: "upload" }, "Upload JSON… ", upload)),
  h("div", { class: "split" },
    h("div", {}, h("label", { for: "definition", class: "block" }, "Definition (Amazon States Language)"), editor, problems),
    h("div", {}, h("h2", {}, "Preview"), preview)),
  h("div", { class: "actions" },
    h("button", { type: "button", onclick: refresh }, "Validate"),
    h("button", { type: "submit", class: "primary" }, "Create state machine")));
  queueMicrotask(refresh);
  return [crumbs(link("#/", "State machines"), "Create"), title("Create state machine"), form];
}

async function startPage(params) {
  const machine = await call("/state-machine", { params: { arn: params.arn } });
  const editor = h("textarea", { id: "input", class: "editor", rows: 14, spellcheck: "false", "aria-label": "Execution input (JSON)" });
  editor.value = params.input || "{\n  \"orderId\": \"order-1001\"\n}";
  const nameInput = h("input", { id: "exec-name", placeholder: "(a UUID)" });
  const problem = h("div", { class: "problems", "aria-live": "polite" });
  const submit = h("button", { type: "submit", class: "primary" }, "Start execution");
  function check() {
    clear(problem);
    try { JSON.parse(editor.value); submit.disabled = false; return true; } catch (e) {
      problem.append(h("p", { class: "bad-text", role: "alert" }, `The input is not valid JSON: ${e.message}`));
      submit.disabled = true;
      return false;
    }
  }
  editor.addEventListener("input", check);
  const form = h("form", { onsubmit: async (e) => {
    e.preventDefault();
    if (!check()) return;
    try {
      const started = await call("/executions", { method: "POST", body: { stateMachineArn: machine.arn, input: editor.value, name: nameInput.value || undefined } });
      go("execution", { arn: started.executionArn });
    } catch (error) { problem.append(errorBox(error)); }
  } },
  h("div", { class: "row" }, h("label", { for: "exec-name" }, "Name (optional)"), nameInput),
  h("label", { for: "input", class: "block" }, "Input (JSON)"), editor, problem,
  h("div", { class: "actions" },
    h("button", { type: "button", onclick: () => { if (check()) editor.value = pretty(editor.value); } }, "Format"),
    submit));
  return [crumbs(link("#/", "State machines"), link(hashFor("state-machine", { arn: machine.arn }), machine.name), "Start execution"),
    title(`Start an execution of ${machine.name}`), form];
}

// ------------------------------------------------------------------ one execution

async function executionPage(params) {
  const execution = await call("/execution", { params: { arn: params.arn } });
  const trace = new Trace();
  let invocations = execution.invocations;
  let current = execution;
  let selected = null;
  const definition = JSON.parse(execution.definition);
  const graph = buildGraph(definition);

  const statusSlot = h("span", {});
  const stopButton = h("button", { class: "danger", type: "button", onclick: async () => {
    if (!window.confirm("Stop this execution?")) return;
    stopButton.disabled = true;
    try { await call("/execution/stop", { method: "POST", body: { arn: execution.arn } }); } catch (e) { alert(e.message); }
  } }, "Stop execution");
  const facts = h("dl", { class: "facts" });
  const inputOutput = h("div", { class: "split io" });
  const graphBox = h("div", { class: "graph-box", "aria-label": "Execution graph" });
  const details = h("aside", { class: "node-details", "aria-live": "polite", "aria-label": "Selected state" },
    h("p", { class: "muted" }, "Select a state in the graph to see its input, output and invocations."));
  const history = new HistoryTable(trace);
  history.follow = execution.status === "RUNNING";
  const eventCount = h("span", { class: "muted", "aria-live": "off" });

  function renderHeader() {
    clear(statusSlot).append(badge(current.status));
    stopButton.hidden = current.status !== "RUNNING";
    clear(facts).append(
      h("dt", {}, "Status"), h("dd", {}, badge(current.status)),
      h("dt", {}, "State machine"), h("dd", {}, link(hashFor("state-machine", { arn: current.stateMachineArn }), execution.stateMachineName)),
      h("dt", {}, "Started"), h("dd", {}, formatDate(current.startDate)),
      h("dt", {}, "Stopped"), h("dd", {}, formatDate(current.stopDate)),
      h("dt", {}, "Duration"), h("dd", {}, current.stopDate ? formatDuration(current.stopDate - current.startDate) : "running…"),
      h("dt", {}, "ARN"), h("dd", { class: "mono" }, current.arn),
      ...(current.error ? [h("dt", {}, "Error"), h("dd", { class: "bad-text mono" }, current.error)] : []),
      ...(current.cause ? [h("dt", {}, "Cause"), h("dd", { class: "mono wrap" }, current.cause)] : []));
    clear(inputOutput).append(
      h("div", {}, h("h3", {}, "Input"), codeBlock(execution.input, "Execution input")),
      h("div", {}, h("h3", {}, "Output"), current.output !== null && current.output !== undefined ? codeBlock(current.output, "Execution output") : h("p", { class: "muted" }, current.status === "RUNNING" ? "Not yet: the execution is running." : "No output.")));
  }

  function renderDetails() {
    if (!selected) return;
    const state = trace.states.get(selected.name);
    const visits = state ? state.visits : [];
    const visit = visits[visits.length - 1];
    const status = trace.statusOf(selected.name);
    const body = [h("h3", {}, selected.name), h("p", {}, h("span", { class: "muted" }, selected.type), " ", badge(status))];
    if (!visit) {
      body.push(h("p", { class: "muted" }, "This state was not reached."));
    } else {
      const dl = h("dl", { class: "facts compact" },
        h("dt", {}, "Entered"), h("dd", {}, formatDate(visit.entered)),
        h("dt", {}, "Duration"), h("dd", {}, visit.exited ? formatDuration(visit.exited - visit.entered) : "—"),
        h("dt", {}, "Retries"), h("dd", {}, String(visit.retries)),
        ...(visits.length > 1 ? [h("dt", {}, "Visits"), h("dd", {}, String(visits.length))] : []));
      body.push(dl);
      if (visit.error || visit.cause) {
        body.push(h("div", { class: "alert" }, h("div", {}, h("strong", {}, "Error: "), h("span", { class: "mono error-name" }, visit.error || "—")),
          visit.cause ? h("div", {}, h("strong", {}, "Cause: "), h("span", { class: "mono wrap" }, visit.cause)) : null));
      }
      body.push(h("h4", {}, "Input"), codeBlock(visit.input, "State input"));
      body.push(h("h4", {}, "Output"), visit.output !== null ? codeBlock(visit.output, "State output") : h("p", { class: "muted" }, "—"));
      const calls = invocations.filter((i) => i.eventId === visit.enteredId);
      if (selected.type === "Task" || calls.length) {
        body.push(h("h4", {}, `Function invocations (${calls.length})`));
        for (const c of calls) {
          body.push(h("div", { class: "invocation" },
            h("div", {}, h("strong", {}, c.functionName), " ",
              badge(c.status === "Succeeded" ? "SUCCEEDED" : c.status === "TimedOut" ? "TIMED_OUT" : "FAILED"), " ",
              h("span", { class: "muted" }, `${c.durationMs.toFixed(1)} ms`),
              c.errorType ? h("span", { class: "mono bad-text" }, " " + c.errorType) : null),
            h("pre", { class: "code logs", "aria-label": "Function log" }, c.logs || "(no output)")));
        }
      }
    }
    clear(details).append(...body);
  }

  const drawn = drawGraph(graphBox, graph, { live: true, onSelect: (node) => {
    selected = node;
    drawn.select(node.name);
    renderDetails();
  } });
  const timeline = new Timeline(trace, { onSelect: (name) => {
    const node = graph.nodes.find((n) => n.name === name && n.type !== "Join");
    if (!node) return;
    selected = node;
    drawn.select(name);
    renderDetails();
    details.scrollIntoView({ block: "nearest" });
  } });

  function refresh() {
    drawn.setStatus((name) => trace.statusOf(name));
    drawn.setTaken((from, to) => trace.took(from, to), (name) => trace.statusOf(name));
    history.update();
    timeline.update(current.stopDate || Math.max(Date.now() / 1000, trace.events.length ? trace.events[trace.events.length - 1].timestamp : 0));
    eventCount.textContent = `${trace.events.length.toLocaleString()} events`;
    renderDetails();
  }

  // The history so far, page by page, then the live stream from the last event.
  let more = true;
  while (more) {
    const page = await call("/execution/history", { params: { arn: execution.arn, after: trace.lastId } });
    trace.add(page.events);
    more = page.more;
  }
  const controller = new AbortController();
  leave = () => controller.abort();
  if (current.status === "RUNNING") {
    stream("/execution/stream", {
      params: { arn: execution.arn }, signal: controller.signal,
      resume: () => ({ after: trace.lastId }),
      onEvent: (kind, data) => {
        if (kind === "events") { trace.add(data); refresh(); }
        else if (kind === "execution") { current = { ...current, ...data }; invocations = data.invocations; renderHeader(); refresh(); }
        else if (kind === "invocations") { invocations = data; renderDetails(); }
      },
    });
  }
  renderHeader();
  const page = [
    crumbs(link("#/", "State machines"), link(hashFor("state-machine", { arn: execution.stateMachineArn }), execution.stateMachineName), execution.name),
    title(execution.name, statusSlot, h("div", { class: "actions" }, stopButton)),
    facts,
    h("section", { class: "graph-section", "aria-label": "Graph" },
      h("div", { class: "graph-pane" }, h("div", { class: "section-head" }, h("h2", {}, "Graph"), legend()), graphBox),
      details),
    h("section", { "aria-label": "Input and output" }, inputOutput),
    h("section", { "aria-label": "Timeline" }, h("h2", {}, "Timeline"), timeline.element),
    h("section", { "aria-label": "Event history" }, h("div", { class: "section-head" }, h("h2", {}, "Event history"), eventCount), history.element),
  ];
  requestAnimationFrame(refresh);
  return page;
}

// ------------------------------------------------------------------ functions

async function functionsPage() {
  const data = await call("/functions");
  const rows = data.functions.map((f) => h("tr", {},
    h("td", {}, link(hashFor("function", { name: f.name }), f.name)),
    h("td", {}, f.runtime), h("td", { class: "mono" }, f.handler), h("td", {}, `${f.timeout} s`),
    h("td", { class: "nowrap" }, formatDate(f.lastModified))));
  return [title("Functions"),
    rows.length ? table(["Name", "Runtime", "Handler", "Timeout", "Last modified"], rows, "Functions")
      : h("p", { class: "empty" }, "No functions deployed. ", h("code", {}, "statewright serve --functions DIR"), " deploys a folder of handlers.")];
}

async function functionPage(params) {
  const f = await call("/function", { params: { name: params.name } });
  const rows = f.invocations.map((i) => h("tr", {},
    h("td", { class: "nowrap" }, formatDate(i.startedAt)),
    h("td", {}, badge(i.status === "Succeeded" ? "SUCCEEDED" : i.status === "TimedOut" ? "TIMED_OUT" : "FAILED"), i.errorType ? h("span", { class: "mono bad-text" }, " " + i.errorType) : null),
    h("td", { class: "nowrap" }, `${i.durationMs.toFixed(1)} ms`),
    h("td", {}, link(hashFor("execution", { arn: i.executionArn }), i.executionArn.split(":").pop()), h("span", { class: "muted" }, ` · ${i.stateName}`)),
    h("td", {}, h("details", {}, h("summary", {}, "Log"), h("pre", { class: "code logs" }, i.logs || "(no output)")))));
  return [crumbs(link("#/functions", "Functions"), f.name), title(f.name),
    h("dl", { class: "facts" },
      h("dt", {}, "Runtime"), h("dd", {}, f.runtime), h("dt", {}, "Handler"), h("dd", { class: "mono" }, f.handler),
      h("dt", {}, "Timeout"), h("dd", {}, `${f.timeout} s`), h("dt", {}, "Memory"), h("dd", {}, `${f.memorySize} MB`),
      h("dt", {}, "Code size"), h("dd", {}, `${f.codeSize.toLocaleString()} bytes`), h("dt", {}, "Code SHA-256"), h("dd", { class: "mono" }, f.codeSha256),
      h("dt", {}, "Last modified"), h("dd", {}, formatDate(f.lastModified)),
      ...(f.description ? [h("dt", {}, "Description"), h("dd", {}, f.description)] : [])),
    h("h2", {}, "Environment"), codeBlock(JSON.stringify(f.environment), "Environment variables"),
    h("h2", {}, "Recent invocations"),
    rows.length ? table(["Started", "Result", "Duration", "Execution", "Log"], rows, "Recent invocations") : h("p", { class: "empty" }, "Not invoked yet.")];
}

// ------------------------------------------------------------------ router

const PAGES = {
  "": (p) => machinesPage(p, true), "state-machines": machinesPage, "state-machine": machinePage,
  create: createPage, start: startPage, execution: executionPage,
  functions: functionsPage, function: functionPage,
};

async function route() {
  if (leave) { leave(); leave = null; }
  const hash = window.location.hash.replace(/^#\/?/, "");
  const [name, query] = hash.split("?");
  const params = Object.fromEntries(new URLSearchParams(query || ""));
  const page = PAGES[name];
  for (const a of document.querySelectorAll("[data-nav]")) {
    const active = (a.dataset.nav === "functions") === name.startsWith("function");
    if (active) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  }
  const token = {};
  route.current = token;
  try {
    const content = page ? await page(params) : [title("Not found"), h("p", {}, link("#/", "Back to the console"))];
    if (route.current !== token) return;
    clear(main).append(...content);
    main.dataset.page = name || "home";
  } catch (error) {
    if (route.current !== token) return;
    clear(main).append(title("Something went wrong"), errorBox(error), h("p", {}, link("#/", "Back to the console")));
  }
}

window.addEventListener("hashchange", route);
if (csrfToken()) { // signed in: offer to sign out
  document.querySelector("header.top").append(
    h("button", { class: "signout", type: "button", onclick: () => signOut() }, "Sign out"));
}
route();
