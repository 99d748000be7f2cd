// The Node.js worker: one warm function instance, serving one invocation at a time.
//
// ProcessFunctions starts it as `node node_runner.mjs REQUEST_FD RESPONSE_FD` with the
// function's environment (_HANDLER, LAMBDA_TASK_ROOT, AWS_LAMBDA_FUNCTION_NAME...). The protocol
// is python_runner.py's: frames of a 4-byte big-endian length and that many bytes; `{"ready":
// true}` once the handler module is loaded; per invocation a JSON header {requestId,
// deadlineMs, invokedFunctionArn} and the event's JSON in, a header {ok, retire} and the payload
// out. Stdout and stderr are the worker's log file; the pipes stay private to the protocol.
//
// Errors take the shape of Lambda's Node.js runtime: {errorType: err.name, errorMessage:
// err.message, trace: err.stack split into lines}, and for a thrown non-Error value
// {errorType: typeof value, errorMessage: String(value), trace: []}.

import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import util from "node:util";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

const [requestFd, responseFd] = process.argv.slice(2, 4).map(Number);
const env = process.env;
const taskRoot = env.LAMBDA_TASK_ROOT;
// Where Lambda mounts the code: traces show paths under it, whatever the local folder.
const SHOWN_TASK_ROOT = "/var/task/";
const localRoots = [...new Set([taskRoot, fs.realpathSync(taskRoot)])].map((r) => r + "/");

process.chdir(taskRoot);

// The invocation under way, so that a crash outside its promise chain can still answer it.
let current = null;

process.on("uncaughtException", (error) => crash(error, error));
process.on("unhandledRejection", (reason) => {
  const error = {
    errorType: "Runtime.UnhandledPromiseRejection",
    errorMessage: String(reason),
    trace: toRuntimeError(reason).trace ?? [],
  };
  crash(reason, error);
});

const requests = new net.Socket({ fd: requestFd, readable: true, writable: false });
let received = Buffer.alloc(0);
let loaded = null; // {handler} or {initError}

loaded = await loadHandler(env._HANDLER ?? "");
writeFrames(Buffer.from('{"ready": true}'));
requests.on("data", (chunk) => {
  received = received.length ? Buffer.concat([received, chunk]) : chunk;
  serveNext();
});
requests.on("end", () => process.exit(0));

// While an invocation runs, our pipe must not keep the event loop alive: "beforeExit" then
// means what Lambda calls an empty event loop, the moment a handler that never answers is done.
process.on("beforeExit", () => {
  if (current !== null) current.emptied();
});

function serveNext() {
  if (current !== null) return;
  const header = frameAt(0);
  if (header === null) return;
  const event = frameAt(4 + header.length);
  if (event === null) return;
  received = received.subarray(8 + header.length + event.length);
  invoke(JSON.parse(header.toString("utf8")), event);
}

function frameAt(offset) {
  if (received.length < offset + 4) return null;
  const size = received.readUInt32BE(offset);
  if (received.length < offset + 4 + size) return null;
  return received.subarray(offset + 4, offset + 4 + size);
}

function invoke(header, eventBytes) {
  const requestId = header.requestId;
  let settled = false;
  const settle = (ok, body, retire = false) => {
    if (settled) return;
    settled = true;
    current = null;
    requests.ref();
    writeFrames(Buffer.from(JSON.stringify({ ok, retire })), Buffer.from(body));
    if (retire) process.exit(0);
    serveNext();
  };
  const fail = (error, retire = false) => {
    const body = JSON.stringify(toRuntimeError(error));
    fs.writeSync(2, `${new Date().toISOString()}\t${requestId}\tERROR\tInvoke Error \t${body}\n`);
    settle(false, body, retire);
  };
  const succeed = (result) => {
    let body;
    try {
      body = JSON.stringify(result) ?? "null";
    } catch (error) {
      return fail({ name: "Runtime.MarshalError", message: String(error), stack: "" });
    }
    settle(true, body);
  };
  current = {
    crash: (errorBody) => settle(false, JSON.stringify(errorBody), true),
    emptied: () => succeed(null),
  };
  requests.unref();
  if ("initError" in loaded) return settle(false, JSON.stringify(loaded.initError), true);
  let event;
  try {
    event = JSON.parse(eventBytes.toString("utf8"));
  } catch (error) {
    return fail({ name: "Runtime.UnmarshalError", message: String(error), stack: "" });
  }
  const callback = (error, result) => {
    if (error !== undefined && error !== null) fail(error);
    else succeed(result);
  };
  try {
    const returned = loaded.handler(event, makeContext(header, callback), callback);
    if (returned && typeof returned.then === "function") returned.then(succeed, fail);
  } catch (error) {
    fail(error);
  }
}

function crash(thrown, errorBody) {
  fs.writeSync(2, `${util.inspect(thrown)}\n`);
  if (current !== null) current.crash(toRuntimeError(errorBody));
  process.exit(129);
}

function makeContext(header, callback) {
  const deadline = header.deadlineMs;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: header.invokedFunctionArn,
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE, // a string, as on Lambda
    awsRequestId: header.requestId,
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    // The legacy completion methods older handlers still call.
    done: (error, result) => callback(error, result),
    succeed: (result) => callback(null, result),
    fail: (error) => callback(error ?? "handled"),
  };
}

function toRuntimeError(error) {
  if (error && typeof error === "object" && "errorType" in error && !(error instanceof Error)) {
    return error; // already in the runtime's shape
  }
  try {
    if (util.types.isNativeError(error) || looksLikeError(error)) {
      return {
        errorType: error.name,
        errorMessage: error.message,
        trace: shownPaths(error.stack ?? "").split("\n").filter((line) => line !== ""),
      };
    }
    return { errorType: typeof error, errorMessage: String(error), trace: [] };
  } catch {
    return {
      errorType: "handled",
      errorMessage:
        "callback called with Error argument, but there was a problem while retrieving one or " +
        "more of its message, name, and stack",
    };
  }
}

function looksLikeError(value) {
  return (
    value !== null &&
    typeof value === "object" &&
    typeof value.name === "string" &&
    typeof value.message === "string" &&
    typeof value.stack === "string"
  );
}

function shownPaths(text) {
  for (const root of localRoots) text = text.split(root).join(SHOWN_TASK_ROOT);
  return text;
}

// Handler "dir/file.export" (or "file.a.b" for a nested export) names a file in the task root
// by its base name; as Lambda's runtime does, try it bare, then .js, .mjs and .cjs.
async function loadHandler(spec) {
  const slash = spec.lastIndexOf("/");
  const base = spec.slice(slash + 1);
  const dot = base.indexOf(".");
  if (dot <= 0 || dot === base.length - 1) {
    return initError("Runtime.MalformedHandlerName", `Bad handler ${spec}`);
  }
  const moduleName = spec.slice(0, slash + 1) + base.slice(0, dot);
  let module;
  try {
    module = await importModule(path.resolve(taskRoot, moduleName));
  } catch (error) {
    fs.writeSync(2, `${util.inspect(error)}\n`);
    if (error instanceof SyntaxError) {
      return initError("Runtime.UserCodeSyntaxError", `${error.name}: ${error.message}`, error);
    }
    if (error?.code === "MODULE_NOT_FOUND" || error?.code === "ERR_MODULE_NOT_FOUND") {
      return initError("Runtime.ImportModuleError", `Error: ${error.message}`, error);
    }
    return { initError: toRuntimeError(error) };
  }
  if (module === null) {
    return initError("Runtime.ImportModuleError", `Error: Cannot find module '${moduleName}'`);
  }
  let handler = module;
  for (const key of base.slice(dot + 1).split(".")) handler = handler?.[key];
  if (typeof handler !== "function") {
    return initError("Runtime.HandlerNotFound", `${base} is undefined or not exported`);
  }
  return { handler };
}

function initError(errorType, errorMessage, cause) {
  const trace = cause ? toRuntimeError(cause).trace ?? [] : [];
  return { initError: { errorType, errorMessage, trace } };
}

async function importModule(base) {
  const require = createRequire(path.join(taskRoot, "index.js"));
  if (isFile(base)) return require(base); // extensionless files are CommonJS
  if (isFile(`${base}.js`)) {
    return isModuleScope(base) ? import(pathToFileURL(`${base}.js`).href) : require(`${base}.js`);
  }
  if (isFile(`${base}.mjs`)) return import(pathToFileURL(`${base}.mjs`).href);
  if (isFile(`${base}.cjs`)) return require(`${base}.cjs`);
  return null;
}

function isFile(file) {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

// A .js file is an ES module when the nearest package.json above it says "type": "module".
function isModuleScope(file) {
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, "package.json");
    if (isFile(manifest)) {
      try {
        return JSON.parse(fs.readFileSync(manifest, "utf8")).type === "module";
      } catch {
        return false;
      }
    }
    if (path.dirname(dir) === dir) return false;
  }
}

function writeFrames(...frames) {
  const parts = [];
  for (const frame of frames) {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(frame.length);
    parts.push(length, frame);
  }
  const data = Buffer.concat(parts);
  for (let offset = 0; offset < data.length; ) {
    offset += fs.writeSync(responseFd, data, offset);
  }
}
