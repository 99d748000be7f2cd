// What happened to each state, read from the history events as they arrive.

function detailsOf(event) {
  return event.details || {};
}

const FAILURE = /(Failed|TimedOut|Aborted)$/;

export class Trace {
  constructor() {
    this.events = [];
    this.byId = new Map();
    this.stepOf = new Map();   // event id -> state name ("" when none)
    this.states = new Map();   // state name -> {status, visits: [...]}
    this.start = null;
    this.executionStatus = "RUNNING";
    this.transitions = new Set(); // "from\u0000to" for each transition the execution made
  }

  get lastId() {
    return this.events.length ? this.events[this.events.length - 1].id : 0;
  }

  add(events) {
    for (const event of events) {
      if (this.byId.has(event.id)) continue;
      this.events.push(event);
      this.byId.set(event.id, event);
      if (this.start === null) this.start = event.timestamp;
      this._apply(event);
    }
  }

  _state(name) {
    let state = this.states.get(name);
    if (!state) {
      state = { name, status: "NOT_REACHED", visits: [] };
      this.states.set(name, state);
    }
    return state;
  }

  _apply(event) {
    const details = detailsOf(event);
    const type = event.type;
    let step = "";
    if (type.endsWith("StateEntered")) {
      step = details.name;
      const previous = this.byId.get(event.previousEventId);
      if (previous && previous.type.endsWith("StateExited")) {
        this.transitions.add(`${previous.details.name}\u0000${step}`);
      } else if (!previous || previous.type === "ExecutionStarted") {
        // The first state (AWS gives its Entered event previousEventId 0).
        this.transitions.add(`\u0000${step}`);
      } else if (previous && this.stepOf.get(previous.id)) {
        // The first state of a Parallel branch or a Map iteration.
        this.transitions.add(`${this.stepOf.get(previous.id)}\u0000${step}`);
      }
      const state = this._state(step);
      state.visits.push({ enteredId: event.id, entered: event.timestamp, input: details.input, output: null, exited: null, error: null, cause: null, retries: 0, pendingError: null });
      state.status = type === "FailStateEntered" ? "FAILED" : "IN_PROGRESS";
      if (type === "FailStateEntered") {
        this.failState = step;
      }
    } else if (type.endsWith("StateExited")) {
      step = details.name;
      const state = this._state(step);
      const visit = state.visits[state.visits.length - 1];
      if (visit) {
        visit.exited = event.timestamp;
        visit.output = details.output;
        state.status = visit.pendingError ? "CAUGHT" : "SUCCEEDED";
        if (visit.pendingError) { visit.error = visit.pendingError.error; visit.cause = visit.pendingError.cause; }
      } else {
        state.status = "SUCCEEDED";
      }
    } else {
      const previous = this.byId.get(event.previousEventId);
      step = previous && !previous.type.endsWith("StateExited") ? this.stepOf.get(previous.id) || "" : "";
      if (type.startsWith("Execution")) step = "";
      if (step) {
        const state = this._state(step);
        const visit = state.visits[state.visits.length - 1];
        if (visit) {
          if (FAILURE.test(type)) {
            visit.pendingError = { error: details.error, cause: details.cause };
            visit.error = details.error;
            visit.cause = details.cause;
          } else if (type.endsWith("Scheduled") && visit.pendingError) {
            visit.retries += 1;
            visit.pendingError = null;
          } else if (type.endsWith("Succeeded")) {
            visit.pendingError = null;
            visit.error = null;
            visit.cause = null;
          }
        }
      }
      if (type === "ExecutionFailed" || type === "ExecutionTimedOut" || type === "ExecutionAborted") {
        this.executionStatus = { ExecutionFailed: "FAILED", ExecutionTimedOut: "TIMED_OUT", ExecutionAborted: "ABORTED" }[type];
        for (const state of this.states.values()) {
          if (state.status === "IN_PROGRESS") {
            state.status = "FAILED";
            const visit = state.visits[state.visits.length - 1];
            if (visit && !visit.error) { visit.error = details.error || type; visit.cause = details.cause; }
          }
        }
        if (this.failState) {
          const visit = this._state(this.failState).visits.slice(-1)[0];
          if (visit) { visit.error = details.error; visit.cause = details.cause; }
        }
      } else if (type === "ExecutionSucceeded") {
        this.executionStatus = "SUCCEEDED";
        if (previous && previous.type.endsWith("StateExited")) this.transitions.add(`${previous.details.name}\u0000`);
      }
    }
    this.stepOf.set(event.id, step || "");
  }

  /** Whether the execution went from state `from` to state `to` ("" for start and end). */
  took(from, to) {
    return this.transitions.has(`${from}\u0000${to}`);
  }

  statusOf(name) {
    const state = this.states.get(name);
    return state ? state.status : "NOT_REACHED";
  }
}
