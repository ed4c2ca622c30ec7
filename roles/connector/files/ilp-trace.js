'use strict';
// ilp-trace.js: one OpenTelemetry span per ILP packet ilp-connector 23 handles, with the trace
// context carried to the next connector inside the BTP message that carries the packet.
//
// Use (the connector's code is not changed; load it after json-log.js, whose log lines then
// carry traceId and spanId):
//   node --require /path/json-log.js --require /path/ilp-trace.js node_modules/ilp-connector/dist/index.js
//
// The span, named `packet.process` (kind SERVER), starts when a Prepare reaches the connector
// (the data handler ilp-connector registers on the account's plugin, outside every middleware)
// and ends when that handler returns the Fulfill or Reject. Attributes:
//   ilp.destination        the Prepare's destination address
//   ilp.amount             its amount, in the source account's units (a string: uint64)
//   peer.source            the account it came from (ilp-connector account id)
//   peer.destination       the account it was forwarded to (the next hop), when routed
//   ilp.outgoing_amount    the amount forwarded, in the next hop's units, when routed
//   ilp.result             fulfill | reject | error (the handler threw or returned no packet)
//   ilp.error_code         the Reject's code (F02, T01, F99 ...), on reject
//   ilp.triggered_by       the Reject's triggeredBy address, on reject
//   ilp.error_message      the Reject's message (at most 256 characters), on reject
//   error.type             on reject the class of the error the connector turned into the Reject
//                          (UnreachableError ...) when it made the Reject itself from a named
//                          error, else the code
// Status ERROR (with the code as message) on reject and error, UNSET on fulfill.
// Packets to peer.* (IL-DCP, CCP route updates and heartbeats: the control plane) are not traced
// unless ILP_TRACE_PEER_PROTOCOL=true.
//
// Hook points, wrapped at require time through Module._load (so every copy is found):
//   ilp-connector dist/services/middleware-manager.js  MiddlewareManager#addPlugin: the incoming
//       data handler it registers on each account's plugin (registerDataHandler) is wrapped with
//       the span; the account id is known there.
//   ilp-connector dist/services/route-builder.js  RouteBuilder#getNextHopPacket: next hop and
//       outgoing amount of the packet whose span is active.
//   ilp-packet errorToReject: the error a connector-made Reject came from (error.type).
//   ilp-plugin-btp (AbstractBtpPlugin, also the base of ilp-plugin-mini-accounts):
//     _handleIncomingBtpPacket: an incoming BTP MESSAGE with a `traceparent` protocol-data entry
//       (and `tracestate`) is handled inside the extracted context, so the span is its child;
//     _call: an outgoing BTP MESSAGE carrying an ILP Prepare gets `traceparent` (and
//       `tracestate`) entries, content type text/plain, from the active context (W3C Trace
//       Context). BTP peers without this preload ignore them: ilp-plugin-btp reads only the `ilp`
//       entry of a MESSAGE (build/index.js _handleData; mini-accounts src/index.js _handleData).
//
// Environment (the standard OpenTelemetry names, read once at start):
//   OTEL_SERVICE_NAME                      service.name (default ilp-connector)
//   OTEL_EXPORTER_OTLP_TRACES_ENDPOINT     OTLP/HTTP traces URL (else OTEL_EXPORTER_OTLP_ENDPOINT
//                                          + /v1/traces, else http://localhost:4318/v1/traces)
//   OTEL_EXPORTER_OTLP_TRACES_PROTOCOL     http/protobuf (default) | http/json | grpc
//                                          (also OTEL_EXPORTER_OTLP_PROTOCOL)
//   OTEL_TRACES_SAMPLER, _ARG              parentbased_traceidratio (default, ratio _ARG, 1 if
//                                          unset), traceidratio, always_on, always_off,
//                                          parentbased_always_on, parentbased_always_off
//   OTEL_RESOURCE_ATTRIBUTES               extra resource attributes (k=v,k=v)
//   OTEL_BSP_SCHEDULE_DELAY, OTEL_BSP_MAX_QUEUE_SIZE, OTEL_BSP_MAX_EXPORT_BATCH_SIZE,
//   OTEL_BSP_EXPORT_TIMEOUT                the batch span processor (5000 ms, 2048, 512, 30000 ms)
//   ILP_NODE_ID, ILP_ENVIRONMENT           resource attributes nodeId and environment (and
//                                          service.instance.id, deployment.environment.name)
//   ILP_TRACE_PEER_PROTOCOL                true: trace peer.* packets too (default false)
//   ILP_TRACE_MODULES                      folder to resolve @opentelemetry/* from (default: the
//                                          connector script's folder, then the working folder)
//
// The OpenTelemetry packages come from the connector's release (the bundle's
// @opentelemetry/auto-instrumentations-node brings them). If they cannot be loaded, the
// connector runs untraced and one process warning says why. Nothing here traces HTTP: the admin
// API's /metrics and /status make no spans. Spans still queued when the connector exits
// (process.exit after its graceful SIGINT shutdown) are flushed first, for at most 3 s.
// Plain CommonJS; every hook is inside try/catch and falls back to the unwrapped code.

const Module = require('module');
const path = require('path');

const PATCHED = Symbol.for('ilp-observability.ilp-trace');
const SPAN_NAME = 'packet.process';
const TYPE_PREPARE = 12;
const TYPE_FULFILL = 13;
const TYPE_REJECT = 14;
const BTP_TYPE_MESSAGE = 6;
const MIME_TEXT_PLAIN_UTF8 = 1; // btp-packet's MIME_TEXT_PLAIN_UTF8
const EXIT_FLUSH_MS = 3000;
const TRACE_PEER_PROTOCOL = /^(1|true|yes|on)$/i.test(process.env.ILP_TRACE_PEER_PROTOCOL || '');

// A process warning (json-log.js writes it as one JSON line), without a stack trace.
function warn(message) {
  try {
    const warning = new Error('ilp-trace: ' + message);
    warning.name = 'Warning';
    warning.stack = warning.name + ': ' + warning.message;
    process.emitWarning(warning);
  } catch (e) { /* nothing to do */ }
}

// ---------------------------------------------------------------------------------------------
// OpenTelemetry, from the connector's release

// A require() that resolves @opentelemetry/api from the connector's release folder, through
// Module._load (so json-log.js sees the API module and can read the active span).
function releaseRequire() {
  const bases = [];
  if (process.env.ILP_TRACE_MODULES) bases.push(path.resolve(process.env.ILP_TRACE_MODULES));
  if (process.argv[1]) bases.push(path.dirname(path.resolve(process.argv[1])));
  bases.push(process.cwd());
  for (const base of bases) {
    const req = Module.createRequire(path.join(base, 'ilp-trace-resolve.js'));
    try {
      req.resolve('@opentelemetry/api');
      return req;
    } catch (e) { /* next */ }
  }
  throw new Error('@opentelemetry/api not found from ' + bases.join(', '));
}

// A package from the release: top level, else where the zero-code packages keep their own copy.
function loadFrom(req, name) {
  try {
    return req(name);
  } catch (first) {
    for (const owner of ['@opentelemetry/sdk-node', '@opentelemetry/auto-instrumentations-node']) {
      try {
        return Module.createRequire(req.resolve(owner))(name);
      } catch (e) { /* next */ }
    }
    throw first;
  }
}

function numberEnv(name) {
  const value = Number(process.env[name]);
  return process.env[name] !== undefined && process.env[name] !== '' && Number.isFinite(value) && value >= 0
    ? value : undefined;
}

function resourceAttributes() {
  const attrs = { 'service.name': process.env.OTEL_SERVICE_NAME || 'ilp-connector' };
  for (const pair of String(process.env.OTEL_RESOURCE_ATTRIBUTES || '').split(',')) {
    const at = pair.indexOf('=');
    if (at > 0) {
      try {
        attrs[decodeURIComponent(pair.slice(0, at).trim())] = decodeURIComponent(pair.slice(at + 1).trim());
      } catch (e) { /* skip a malformed pair */ }
    }
  }
  const nodeId = process.env.ILP_NODE_ID || process.env.CONNECTOR_ILP_ADDRESS;
  if (nodeId) {
    attrs.nodeId = nodeId;
    if (!attrs['service.instance.id']) attrs['service.instance.id'] = nodeId;
  }
  if (process.env.ILP_ENVIRONMENT) {
    attrs.environment = process.env.ILP_ENVIRONMENT;
    if (!attrs['deployment.environment.name']) attrs['deployment.environment.name'] = process.env.ILP_ENVIRONMENT;
  }
  if (process.env.OTEL_SERVICE_NAME) attrs['service.name'] = process.env.OTEL_SERVICE_NAME;
  return attrs;
}

function makeSampler(sdk) {
  const name = String(process.env.OTEL_TRACES_SAMPLER || 'parentbased_traceidratio').trim().toLowerCase();
  let ratio = Number(process.env.OTEL_TRACES_SAMPLER_ARG);
  if (process.env.OTEL_TRACES_SAMPLER_ARG === undefined || !Number.isFinite(ratio) || ratio < 0 || ratio > 1) ratio = 1;
  const byName = {
    always_on: () => new sdk.AlwaysOnSampler(),
    always_off: () => new sdk.AlwaysOffSampler(),
    traceidratio: () => new sdk.TraceIdRatioBasedSampler(ratio),
    parentbased_always_on: () => new sdk.ParentBasedSampler({ root: new sdk.AlwaysOnSampler() }),
    parentbased_always_off: () => new sdk.ParentBasedSampler({ root: new sdk.AlwaysOffSampler() }),
    parentbased_traceidratio: () => new sdk.ParentBasedSampler({ root: new sdk.TraceIdRatioBasedSampler(ratio) }),
  };
  if (!byName[name]) warn(`OTEL_TRACES_SAMPLER=${name} is not supported, using parentbased_traceidratio`);
  return (byName[name] || byName.parentbased_traceidratio)();
}

function makeExporter(req) {
  const protocol = String(process.env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL || process.env.OTEL_EXPORTER_OTLP_PROTOCOL
    || 'http/protobuf').trim().toLowerCase();
  let url = process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  if (!url && process.env.OTEL_EXPORTER_OTLP_ENDPOINT) {
    url = process.env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '') + (protocol === 'grpc' ? '' : '/v1/traces');
  }
  if (!url) url = protocol === 'grpc' ? 'http://localhost:4317' : 'http://localhost:4318/v1/traces';
  const pkg = { 'http/json': 'exporter-trace-otlp-http', grpc: 'exporter-trace-otlp-grpc' }[protocol]
    || 'exporter-trace-otlp-proto';
  if (!['http/json', 'grpc', 'http/protobuf'].includes(protocol)) {
    warn(`OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=${protocol} is not supported, using http/protobuf`);
  }
  const { OTLPTraceExporter } = loadFrom(req, '@opentelemetry/' + pkg);
  return new OTLPTraceExporter({ url });
}

function setup() {
  const req = releaseRequire();
  const api = req('@opentelemetry/api');
  let sdk;
  try {
    sdk = loadFrom(req, '@opentelemetry/sdk-trace'); // SDK 3: TracerProvider
  } catch (e) {
    sdk = loadFrom(req, '@opentelemetry/sdk-trace-base'); // SDK 2: BasicTracerProvider
  }
  const Provider = sdk.TracerProvider || sdk.BasicTracerProvider;
  const { resourceFromAttributes } = loadFrom(req, '@opentelemetry/resources');
  const { W3CTraceContextPropagator } = loadFrom(req, '@opentelemetry/core');
  const { AsyncLocalStorageContextManager } = loadFrom(req, '@opentelemetry/context-async-hooks');

  const exporter = makeExporter(req);
  const batching = {
    scheduledDelayMillis: numberEnv('OTEL_BSP_SCHEDULE_DELAY'),
    maxQueueSize: numberEnv('OTEL_BSP_MAX_QUEUE_SIZE'),
    maxExportBatchSize: numberEnv('OTEL_BSP_MAX_EXPORT_BATCH_SIZE'),
    exportTimeoutMillis: numberEnv('OTEL_BSP_EXPORT_TIMEOUT'),
  };
  // SDK 3 takes one options object with the exporter in it, SDK 2 the exporter first.
  const processor = sdk.TracerProvider
    ? new sdk.BatchSpanProcessor({ exporter, ...batching })
    : new sdk.BatchSpanProcessor(exporter, batching);
  const provider = new Provider({
    resource: resourceFromAttributes(resourceAttributes()),
    sampler: makeSampler(sdk),
    spanProcessors: [processor],
  });
  // Global context manager and propagator (json-log.js reads the active span through the API).
  // If another OpenTelemetry setup registered its own first, it is kept, and so is its provider.
  const manager = new AsyncLocalStorageContextManager();
  manager.enable();
  if (!api.context.setGlobalContextManager(manager)) manager.disable();
  api.propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  api.trace.setGlobalTracerProvider(provider);
  // Export failures (collector down) as process warnings, at most one a minute.
  let lastWarning = 0;
  const report = (...args) => {
    if (Date.now() - lastWarning < 60000) return;
    lastWarning = Date.now();
    warn(args.map((a) => (a && a.message) || String(a)).join(' '));
  };
  api.diag.setLogger({ error: report, warn: report, info() {}, debug() {}, verbose() {} },
    { logLevel: api.DiagLogLevel.WARN, suppressOverrideMessage: true });
  return { api, provider, tracer: provider.getTracer('ilp-observability.ilp-trace', '1') };
}

let otel = null;
try {
  otel = setup();
} catch (e) {
  warn('packet tracing is off: ' + (e && e.message ? e.message : e));
}

// ---------------------------------------------------------------------------------------------
// packets (hand-parsed: the few fields a span needs, without ilp-packet's full deserialization)

// OER length prefix at `offset`: [length, offset of the content].
function readLength(buf, offset) {
  const first = buf[offset];
  if (first < 0x80) return [first, offset + 1];
  const bytes = first & 0x7f;
  let length = 0;
  for (let i = 1; i <= bytes; i++) length = length * 256 + buf[offset + i];
  return [length, offset + 1 + bytes];
}

// { destination, amount } of an ILP Prepare, or null.
function parsePrepare(buf) {
  try {
    if (!Buffer.isBuffer(buf) || buf.length < 60 || buf[0] !== TYPE_PREPARE) return null;
    let [, at] = readLength(buf, 1);
    const amount = buf.readBigUInt64BE(at).toString();
    at += 8 + 17 + 32; // amount, expiresAt (GeneralizedTime), executionCondition
    const [length, start] = readLength(buf, at);
    return { destination: buf.toString('ascii', start, start + length), amount };
  } catch (e) {
    return null;
  }
}

// { code, triggeredBy, message } of an ILP Reject, or null.
function parseReject(buf) {
  try {
    let [, at] = readLength(buf, 1);
    const code = buf.toString('ascii', at, at + 3);
    const [byLength, byStart] = readLength(buf, at + 3);
    const triggeredBy = buf.toString('ascii', byStart, byStart + byLength);
    const [msgLength, msgStart] = readLength(buf, byStart + byLength);
    const message = buf.toString('utf8', msgStart, msgStart + Math.min(msgLength, 256));
    return { code, triggeredBy, message };
  } catch (e) {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// spans

const PACKET = otel ? otel.api.createContextKey('ilp-observability packet span') : null;

function activePacket() {
  return otel.api.context.active().getValue(PACKET);
}

function finish(state, response, thrown) {
  const { span } = state;
  try {
    if (!span.isRecording()) return;
    const { SpanStatusCode } = otel.api;
    if (thrown !== undefined || !Buffer.isBuffer(response) || response.length === 0
        || (response[0] !== TYPE_FULFILL && response[0] !== TYPE_REJECT)) {
      const err = thrown !== undefined ? thrown : new Error('the data handler returned no ILP packet');
      span.setAttribute('ilp.result', 'error');
      span.setAttribute('error.type', (err && err.name) || 'Error');
      if (err instanceof Error) span.recordException(err);
      span.setStatus({ code: SpanStatusCode.ERROR, message: String((err && err.message) || err).slice(0, 256) });
    } else if (response[0] === TYPE_FULFILL) {
      span.setAttribute('ilp.result', 'fulfill');
    } else {
      const reject = parseReject(response) || { code: 'unknown' };
      span.setAttribute('ilp.result', 'reject');
      span.setAttribute('ilp.error_code', reject.code);
      if (reject.triggeredBy !== undefined) span.setAttribute('ilp.triggered_by', reject.triggeredBy);
      if (reject.message) span.setAttribute('ilp.error_message', reject.message);
      // the error the connector turned into this Reject, when it has a telling name
      const named = state.error && state.error.name && state.error.name !== 'Error' ? state.error.name : null;
      span.setAttribute('error.type', named || reject.code);
      span.setStatus({ code: SpanStatusCode.ERROR, message: reject.code });
    }
  } catch (e) {
    /* the span is still ended */
  } finally {
    span.end();
  }
}

// The data handler ilp-connector registers on an account's plugin, with a span around it.
function tracedDataHandler(handler, accountId) {
  if (typeof handler !== 'function' || handler[PATCHED]) return handler;
  const { api, tracer } = otel;
  const traced = function (data) {
    const packet = parsePrepare(data);
    if (!packet || (!TRACE_PEER_PROTOCOL && packet.destination.startsWith('peer.'))) {
      return handler.apply(this, arguments);
    }
    let state;
    let ctx;
    try {
      const parent = api.context.active();
      const span = tracer.startSpan(SPAN_NAME, {
        kind: api.SpanKind.SERVER,
        attributes: {
          'ilp.destination': packet.destination,
          'ilp.amount': packet.amount,
          'peer.source': String(accountId),
        },
      }, parent);
      state = { span, error: undefined };
      ctx = api.trace.setSpan(parent, span).setValue(PACKET, state);
    } catch (e) {
      return handler.apply(this, arguments);
    }
    let result;
    try {
      result = api.context.with(ctx, handler, this, ...arguments);
    } catch (err) {
      finish(state, undefined, err);
      throw err;
    }
    return Promise.resolve(result).then((response) => {
      finish(state, response);
      return response;
    }, (err) => {
      finish(state, undefined, err);
      throw err;
    });
  };
  traced[PATCHED] = true;
  return traced;
}

function patchMiddlewareManager(exported) {
  const MiddlewareManager = exported && exported.default;
  const proto = MiddlewareManager && MiddlewareManager.prototype;
  if (!proto || typeof proto.addPlugin !== 'function' || proto[PATCHED]) return;
  const addPlugin = proto.addPlugin;
  proto.addPlugin = function (accountId, plugin) {
    let restore = null;
    try {
      if (plugin && typeof plugin.registerDataHandler === 'function') {
        const own = Object.getOwnPropertyDescriptor(plugin, 'registerDataHandler');
        const register = plugin.registerDataHandler;
        restore = () => {
          if (own) Object.defineProperty(plugin, 'registerDataHandler', own);
          else delete plugin.registerDataHandler;
        };
        // Only the first registration in this call is the incoming data handler.
        plugin.registerDataHandler = function (handler) {
          restore();
          restore = null;
          let wrapped = handler;
          try { wrapped = tracedDataHandler(handler, accountId); } catch (e) { /* untraced */ }
          return register.call(this, wrapped);
        };
      }
    } catch (e) {
      restore = null;
    }
    const done = () => { if (restore) { try { restore(); } catch (e) { /* leave it */ } restore = null; } };
    let result;
    try {
      result = addPlugin.apply(this, arguments);
    } catch (err) {
      done();
      throw err;
    }
    return Promise.resolve(result).finally(done);
  };
  proto[PATCHED] = true;
}

function patchRouteBuilder(exported) {
  const RouteBuilder = exported && exported.default;
  const proto = RouteBuilder && RouteBuilder.prototype;
  if (!proto || typeof proto.getNextHopPacket !== 'function' || proto[PATCHED]) return;
  const getNextHopPacket = proto.getNextHopPacket;
  proto.getNextHopPacket = function () {
    const result = getNextHopPacket.apply(this, arguments);
    let state;
    try { state = activePacket(); } catch (e) { state = undefined; }
    if (!state || !state.span.isRecording()) return result;
    return Promise.resolve(result).then((hop) => {
      try {
        if (hop && hop.nextHop !== undefined) state.span.setAttribute('peer.destination', String(hop.nextHop));
        if (hop && hop.nextHopPacket) state.span.setAttribute('ilp.outgoing_amount', String(hop.nextHopPacket.amount));
      } catch (e) { /* attributes are optional */ }
      return hop;
    });
  };
  proto[PATCHED] = true;
}

function patchIlpPacket(exported) {
  if (!exported || typeof exported.errorToReject !== 'function' || exported.errorToReject[PATCHED]) return;
  const descriptor = Object.getOwnPropertyDescriptor(exported, 'errorToReject');
  if (!descriptor || !(descriptor.writable || descriptor.configurable)) return;
  const errorToReject = exported.errorToReject;
  const wrapped = function (address, error) {
    try {
      const state = activePacket();
      if (state && error && typeof error === 'object') state.error = error;
    } catch (e) { /* optional */ }
    return errorToReject.apply(this, arguments);
  };
  wrapped[PATCHED] = true;
  if (descriptor.writable) {
    exported.errorToReject = wrapped;
  } else {
    Object.defineProperty(exported, 'errorToReject', {
      value: wrapped, writable: true, enumerable: descriptor.enumerable, configurable: true,
    });
  }
}

// ---------------------------------------------------------------------------------------------
// BTP: the trace context travels in protocol-data entries next to the `ilp` one

function patchBtp(BtpPlugin) {
  const proto = BtpPlugin && BtpPlugin.prototype;
  if (!proto || typeof proto._call !== 'function' || typeof proto._handleIncomingBtpPacket !== 'function'
      || proto[PATCHED]) return;
  const { api } = otel;
  const fields = new Set(api.propagation.fields());

  const handleIncoming = proto._handleIncomingBtpPacket;
  proto._handleIncomingBtpPacket = function (from, btpPacket) {
    let ctx = null;
    try {
      const entries = btpPacket && btpPacket.type === BTP_TYPE_MESSAGE && btpPacket.data && btpPacket.data.protocolData;
      if (Array.isArray(entries) && entries.length > 1) {
        let carrier = null;
        for (const entry of entries) {
          if (entry && fields.has(entry.protocolName) && Buffer.isBuffer(entry.data)) {
            carrier = carrier || {};
            carrier[entry.protocolName] = entry.data.toString('utf8');
          }
        }
        if (carrier) ctx = api.propagation.extract(api.ROOT_CONTEXT, carrier);
      }
    } catch (e) {
      ctx = null;
    }
    return ctx ? api.context.with(ctx, handleIncoming, this, ...arguments) : handleIncoming.apply(this, arguments);
  };

  const call = proto._call;
  proto._call = function (to, btpPacket) {
    try {
      const entries = btpPacket && btpPacket.type === BTP_TYPE_MESSAGE && btpPacket.data && btpPacket.data.protocolData;
      if (Array.isArray(entries) && entries.length > 0 && entries[0].protocolName === 'ilp'
          && Buffer.isBuffer(entries[0].data) && entries[0].data[0] === TYPE_PREPARE
          && !entries.some((e) => fields.has(e.protocolName))) {
        const carrier = {};
        api.propagation.inject(api.context.active(), carrier);
        for (const name of Object.keys(carrier)) {
          entries.push({ protocolName: name, contentType: MIME_TEXT_PLAIN_UTF8, data: Buffer.from(String(carrier[name]), 'utf8') });
        }
      }
    } catch (e) { /* send it without */ }
    return call.apply(this, arguments);
  };
  proto[PATCHED] = true;
}

// ---------------------------------------------------------------------------------------------
// wiring

const MIDDLEWARE_MANAGER = /(^|[\\/])middleware-manager(\.js)?$/;
const ROUTE_BUILDER = /(^|[\\/])route-builder(\.js)?$/;

if (otel) {
  try {
    const originalLoad = Module._load;
    const load = function (request) {
      const exported = originalLoad.apply(this, arguments);
      try {
        if (request === 'ilp-plugin-btp') patchBtp(exported);
        else if (request === 'ilp-packet') patchIlpPacket(exported);
        else if (MIDDLEWARE_MANAGER.test(request)) patchMiddlewareManager(exported);
        else if (ROUTE_BUILDER.test(request)) patchRouteBuilder(exported);
      } catch (e) { /* never break require */ }
      return exported;
    };
    Module._load = load;
  } catch (e) {
    warn('packet tracing is off: ' + e.message);
  }

  // ilp-connector exits with process.exit after its graceful shutdown: flush the queued spans
  // first (bounded), then exit with the code it asked for.
  try {
    const exit = process.exit;
    let exiting = false;
    process.exit = function (code) {
      if (exiting) return exit.apply(process, arguments);
      exiting = true;
      if (code !== undefined) process.exitCode = code;
      const timer = setTimeout(() => exit.call(process, process.exitCode), EXIT_FLUSH_MS);
      otel.provider.forceFlush().catch(() => {}).then(() => {
        clearTimeout(timer);
        exit.call(process, process.exitCode);
      });
      return undefined;
    };
  } catch (e) { /* exit without flushing */ }
}
