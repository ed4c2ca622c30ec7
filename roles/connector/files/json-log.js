'use strict';
// json-log.js: makes ilp-connector write one JSON object per line to stdout,
// so that journald (and whatever reads the journal) gets structured logs.
//
// Use (the connector's code is not changed):
//   node --require /path/json-log.js node_modules/ilp-connector/dist/index.js
//
// Each line looks like:
//   {"level":"info","time":1703620800000,"nodeId":"connector-a",
//    "correlationId":null,"component":"app","msg":"connector ready ..."}
//
//   level          error | warn | info | debug | trace. For riverpig loggers
//                  it is the method called (logger.info -> info, its .debug
//                  -> debug). For `debug` instances it is the last segment of
//                  the namespace (`ilp-plugin-btp:warn` -> warn), and `debug`
//                  when the namespace has no such suffix.
//   time           epoch milliseconds.
//   nodeId         env ILP_NODE_ID, else env CONNECTOR_ILP_ADDRESS, else "".
//   correlationId  the value of the first of correlationId=, requestId=,
//                  packetId=, id= found in the message (in that order of
//                  preference), else null.
//   component      the namespace without the `connector:` prefix and without
//                  the level suffix (`connector:ccp` -> ccp,
//                  `ilp-plugin-btp:info` -> ilp-plugin-btp).
//   msg            the arguments formatted like util.format (printf-style
//                  %s %d %j %o ...); an Error keeps its stack there.
//   err            (only when an Error argument's stack is not already in msg)
//                  that Error's stack.
//   traceId        (only while an OpenTelemetry span is active, e.g. the packet
//   spanId          span of ilp-trace.js) its W3C trace id and span id, hex.
//
// Environment read (once, at start):
//   ILP_LOG_LEVEL          error|warn|info|debug|trace, default info. Lines
//                          below it are dropped, including riverpig's info/
//                          warn/error, which are otherwise always on.
//   ILP_NODE_ID            the nodeId field (fallback CONNECTOR_ILP_ADDRESS).
//   CONNECTOR_ILP_ADDRESS  only as that fallback.
// DEBUG is still what switches `debug` instances on (the `debug` package reads
// it itself): e.g. `*:info,*:warn,*:error` for info, `*` for debug/trace.
//
// How: the preload wraps Module._load. When a module asks for `riverpig`, it
// gets a wrapped factory whose loggers' info/warn/error write JSON. When a
// module asks for `debug` (there are several copies in node_modules), that
// copy's formatArgs/log are replaced: debug still applies its own %-formatters
// (%o, %O ...), then our log writes the JSON line. riverpig assigns debug.log
// and debug.formatArgs itself on every logger it makes; those assignments are
// kept aside (used only as a fallback) instead of replacing ours.
//
// The active span: when some module loads @opentelemetry/api (ilp-trace.js, or the
// zero-code instrumentation) after this preload, the same Module._load hook keeps
// that API module, and each line asks it for the span of the active context. Without
// it (or if it throws) lines simply have no traceId/spanId.
//
// Safety: every hook is inside try/catch. If patching fails the module is
// returned untouched; if writing a JSON line fails the original output is used.
// riverpig's setOutputStream/setStringFormatter and the connector's own
// log.setOutputStream still work as calls but are harmless: JSON lines always
// go to process.stdout, which is what the journal reads.
// Plain CommonJS, no dependencies; works on Node 20 and 24.

const Module = require('module');
const util = require('util');

const LEVELS = ['error', 'warn', 'info', 'debug', 'trace'];
const wanted = String(process.env.ILP_LOG_LEVEL || 'info').trim().toLowerCase();
const THRESHOLD = LEVELS.includes(wanted) ? LEVELS.indexOf(wanted) : LEVELS.indexOf('info');
const NODE_ID = process.env.ILP_NODE_ID || process.env.CONNECTOR_ILP_ADDRESS || '';
// Identifiers that tie log lines together, most specific first.
const ID_PATTERNS = ['correlationId', 'requestId', 'packetId', 'id']
  .map((key) => new RegExp('\\b' + key + '=["\']?([^\\s,;"\'()\\[\\]{}]+)'));
const PATCHED = Symbol.for('ilp-observability.json-log');

function enabled(level) {
  return LEVELS.indexOf(level) <= THRESHOLD;
}

// `connector:ccp:trace` -> { level: 'trace', component: 'ccp' }
function splitNamespace(namespace) {
  const parts = String(namespace || '').split(':');
  let level = 'debug';
  if (parts.length > 1 && LEVELS.includes(parts[parts.length - 1])) level = parts.pop();
  if (parts.length > 1 && parts[0] === 'connector') parts.shift();
  return { level, component: parts.join(':') };
}

// @opentelemetry/api, once some module has loaded it (see the Module._load hook).
let otelApi = null;

function keepOtelApi(api) {
  if (!otelApi && api && api.trace && typeof api.trace.getSpan === 'function'
      && api.context && typeof api.context.active === 'function') otelApi = api;
}

// { traceId, spanId } of the active span, or null.
function activeSpanIds() {
  if (!otelApi) return null;
  try {
    const span = otelApi.trace.getSpan(otelApi.context.active());
    const ids = span && span.spanContext();
    if (ids && otelApi.trace.isSpanContextValid(ids)) return { traceId: ids.traceId, spanId: ids.spanId };
  } catch (e) { /* no ids */ }
  return null;
}

function correlationIdOf(msg) {
  for (const re of ID_PATTERNS) {
    const m = re.exec(msg);
    if (m) return m[1];
  }
  return null;
}

// Builds and writes one JSON line. Throws on failure so callers can fall back.
function emit(level, component, args) {
  const msg = util.format(...args);
  const entry = {
    level,
    time: Date.now(),
    nodeId: NODE_ID,
    correlationId: correlationIdOf(msg),
    component,
    msg,
  };
  const error = args.find((a) => a instanceof Error);
  if (error && error.stack && !msg.includes(error.stack)) entry.err = String(error.stack);
  const ids = activeSpanIds();
  if (ids) {
    entry.traceId = ids.traceId;
    entry.spanId = ids.spanId;
  }
  process.stdout.write(JSON.stringify(entry) + '\n');
}

// One copy of the `debug` package: keep its %-formatters, replace its output.
function patchDebug(debugModule) {
  if (typeof debugModule !== 'function' || debugModule[PATCHED]) return;
  if (typeof debugModule.log !== 'function' || typeof debugModule.formatArgs !== 'function') return;
  // What would have run without us (riverpig later overwrites these; we keep
  // its versions here too), used only if writing JSON fails.
  let fallbackFormatArgs = debugModule.formatArgs;
  let fallbackLog = debugModule.log;
  // debug calls formatArgs (prefix, colours) and then log, with `this` being
  // the debug instance. We add no prefix; log does all the work.
  function formatArgs() {}
  function log(...args) {
    const { level, component } = splitNamespace(this && this.namespace);
    if (!enabled(level)) return undefined;
    try {
      return emit(level, component, args);
    } catch (e) {
      try {
        fallbackFormatArgs.call(this, args);
        return fallbackLog.apply(this, args);
      } catch (e2) {
        return undefined;
      }
    }
  }
  Object.defineProperty(debugModule, 'formatArgs', {
    configurable: true, enumerable: true,
    get: () => formatArgs,
    set: (fn) => { if (typeof fn === 'function') fallbackFormatArgs = fn; },
  });
  Object.defineProperty(debugModule, 'log', {
    configurable: true, enumerable: true,
    get: () => log,
    set: (fn) => { if (typeof fn === 'function') fallbackLog = fn; },
  });
  // No ANSI colours inside JSON (debug's %o uses them when stderr is a TTY).
  debugModule.useColors = () => false;
  debugModule[PATCHED] = true;
}

// riverpig(namespace, config) -> logger with info/warn/error (always written)
// and .debug (a `debug` instance, handled by patchDebug).
function wrapRiverpig(createLogger) {
  if (typeof createLogger !== 'function') return createLogger;
  if (createLogger[PATCHED]) return createLogger[PATCHED];
  const wrapped = function riverpigJson(namespace, ...rest) {
    const logger = createLogger.call(this, namespace, ...rest);
    try {
      const { component } = splitNamespace(namespace);
      for (const level of ['info', 'warn', 'error']) {
        const original = logger[level];
        if (typeof original !== 'function') continue;
        logger[level] = function (...args) {
          if (!enabled(level)) return undefined;
          try {
            return emit(level, component, args);
          } catch (e) {
            return original.apply(this, args);
          }
        };
      }
    } catch (e) { /* keep riverpig's own output */ }
    return logger;
  };
  Object.assign(wrapped, createLogger);
  Object.defineProperty(createLogger, PATCHED, { value: wrapped });
  Object.defineProperty(wrapped, PATCHED, { value: wrapped });
  return wrapped;
}

try {
  const originalLoad = Module._load;
  if (typeof originalLoad === 'function' && !originalLoad[PATCHED]) {
    const load = function (request, ...rest) {
      const exported = originalLoad.call(this, request, ...rest);
      try {
        if (request === 'debug') patchDebug(exported);
        else if (request === 'riverpig') return wrapRiverpig(exported);
        else if (request === '@opentelemetry/api') keepOtelApi(exported);
      } catch (e) { /* never break require */ }
      return exported;
    };
    load[PATCHED] = true;
    Module._load = load;
  }
} catch (e) { /* leave logging as it was */ }

// What Node itself would print to stderr as plain text: an uncaught exception (logged as one
// JSON line, then exit 1 as Node does) and process warnings (the unit runs node with
// --no-warnings, so they appear once, as JSON).
try {
  process.on('uncaughtException', (err, origin) => {
    try {
      emit('error', 'process', [origin === 'unhandledRejection' ? 'unhandled rejection:' : 'uncaught exception:', err]);
    } catch (e) {
      process.stderr.write(String(err && err.stack ? err.stack : err) + '\n');
    }
    process.exit(1);
  });
  process.on('warning', (warning) => {
    try {
      if (enabled('warn')) emit('warn', 'process', [String(warning && warning.stack ? warning.stack : warning)]);
    } catch (e) { /* a warning is not worth a crash */ }
  });
} catch (e) { /* leave Node's defaults */ }
