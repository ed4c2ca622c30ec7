#!/usr/bin/env node
'use strict'
// ilp-traffic: a bounded, real ILP sender for test scenarios.
//
// Connects a receiver (bob) through the second connector's mini-accounts listener and a sender
// (alice) through the first connector's, pays --packets times --amount, stops by itself after
// those payments or --max-seconds, whichever comes first, and prints what it sent.
//
// Every ILP Prepare that either side hands to its plugin, and every Prepare the receiver gets, is
// counted at the plugin boundary (fulfilled / rejected with code / errored / unanswered), so the
// summary is what the connectors' `ilp_connector_incoming_ilp_packets` counters see, packet for packet.
//
// Exit codes: 0 at least one packet carrying money fulfilled and no local error; 1 some fulfilled
// but a local error happened (plugin exception, bad fulfillment, crash); 2 nothing fulfilled (path
// down, receiver or sender unreachable, all rejected); 64 bad usage.
//
// Traces: each payment is the root span of its own W3C trace; the Prepares of that payment carry
// its `traceparent` to the first connector as an extra BTP protocol-data entry (text/plain), which
// the connector's ilp-trace.js preload continues (and other BTP peers ignore). The trace ids are in
// the summary; with --otlp-endpoint the root spans are sent there as OTLP/HTTP JSON.

const crypto = require('crypto')
const { parseArgs } = require('util')

const VERSION = require('./package.json').version
const MIN_EXPIRY_MS = 5000
const BTP_TYPE_MESSAGE = 6
const MIME_TEXT_PLAIN_UTF8 = 1
const ILP_TYPE_PREPARE = 12

const USAGE = `usage: node send.js --sender BTP_URL --receiver BTP_URL [options]

  --sender URL            btp+ws://USER:SECRET@HOST:PORT of the first connector's mini-accounts
  --receiver URL          btp+ws://USER:SECRET@HOST:PORT of the second connector's mini-accounts
  --packets N             payments to make (default 10)
  --amount A              amount of each payment, in the sender's asset units (default 1000)
  --max-seconds S         hard bound on the whole run, connects and disconnects included (default 30)
  --mode stream|packets   stream (default): one STREAM connection, N sendTotal steps of A each;
                          packets: N raw ILP Prepares of A each, fulfilled by the receiver
  --receiver-address ADDR ILP address the receiver should get (e.g. test.b.kids.bob); checked when
                          the receiver connects, and the destination of N raw Prepares when it
                          cannot connect (so a broken path is measured as rejects)
  --destination ADDR      packets mode: send the N raw Prepares to ADDR instead of the receiver
                          (e.g. an address without a route, to make payments fail on purpose)
  --trace on|off          on (default): one trace per payment, its traceparent (sampled) sent to
                          the first connector in the BTP message of each Prepare; off: none
  --otlp-endpoint URL     also send the payments' root spans to this OTLP/HTTP traces URL
                          (e.g. http://jaeger:4318/v1/traces), as JSON
  --connect-timeout S     seconds to wait for each BTP connect (default min(10, max-seconds/3))
  --packet-timeout S      seconds to wait for one payment (default min(10, max-seconds/2)); Prepares
                          expire after max(5, this) seconds, at most 30
  --json                  print the summary as one JSON object
  -h, --help              this help
`

class UsageError extends Error {}

function parseCli (argv) {
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        sender: { type: 'string' },
        receiver: { type: 'string' },
        packets: { type: 'string', default: '10' },
        amount: { type: 'string', default: '1000' },
        'max-seconds': { type: 'string', default: '30' },
        mode: { type: 'string', default: 'stream' },
        'receiver-address': { type: 'string' },
        destination: { type: 'string' },
        trace: { type: 'string', default: 'on' },
        'otlp-endpoint': { type: 'string' },
        'connect-timeout': { type: 'string' },
        'packet-timeout': { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false }
      },
      strict: true,
      allowPositionals: false
    })
  } catch (err) {
    throw new UsageError(err.message)
  }
  const v = parsed.values
  if (v.help) return { help: true }
  const int = (name, min) => {
    const s = v[name]
    if (!/^\d+$/.test(s) || !Number.isSafeInteger(Number(s)) || Number(s) < min) {
      throw new UsageError(`--${name} must be an integer >= ${min}, got ${JSON.stringify(s)}`)
    }
    return Number(s)
  }
  const seconds = (name, dflt) => {
    if (v[name] === undefined) return dflt
    const n = Number(v[name])
    if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} must be a positive number of seconds`)
    return n
  }
  for (const name of ['sender', 'receiver']) {
    if (!v[name]) throw new UsageError(`--${name} is required`)
    let url
    try { url = new URL(v[name]) } catch (err) { throw new UsageError(`--${name}: not a URL: ${v[name]}`) }
    if (!['btp+ws:', 'btp+wss:'].includes(url.protocol)) throw new UsageError(`--${name} must be a btp+ws:// or btp+wss:// URL`)
  }
  if (!['stream', 'packets'].includes(v.mode)) throw new UsageError('--mode must be stream or packets')
  for (const name of ['receiver-address', 'destination']) {
    if (v[name] !== undefined && !/^(g|private|example|test|test1|test2|test3|local|peer|self)(\.[a-zA-Z0-9_~-]+)+$/.test(v[name])) {
      throw new UsageError(`--${name} is not an ILP address: ${v[name]}`)
    }
  }
  if (v.destination !== undefined && v.mode !== 'packets') throw new UsageError('--destination needs --mode packets')
  if (!['on', 'off'].includes(v.trace)) throw new UsageError('--trace must be on or off')
  if (v['otlp-endpoint'] !== undefined) {
    let url
    try { url = new URL(v['otlp-endpoint']) } catch (err) { throw new UsageError(`--otlp-endpoint: not a URL: ${v['otlp-endpoint']}`) }
    if (!['http:', 'https:'].includes(url.protocol)) throw new UsageError('--otlp-endpoint must be an http:// or https:// URL')
  }
  const packets = int('packets', 1)
  const amount = int('amount', 1)
  if (!Number.isSafeInteger(packets * amount)) throw new UsageError('--packets x --amount must stay below 2^53')
  const maxSeconds = seconds('max-seconds', 30)
  return {
    sender: v.sender,
    receiver: v.receiver,
    packets,
    amount,
    maxSeconds,
    mode: v.mode,
    receiverAddress: v['receiver-address'],
    destination: v.destination,
    trace: v.trace === 'on',
    otlpEndpoint: v['otlp-endpoint'],
    connectTimeout: seconds('connect-timeout', Math.min(10, maxSeconds / 3)),
    packetTimeout: seconds('packet-timeout', Math.min(10, maxSeconds / 2)),
    json: v.json
  }
}

// ---------------------------------------------------------------------------------------------
// counting

function newCounts () {
  return { attempted: 0, fulfilled: 0, rejected: 0, errored: 0, unanswered: 0, money_fulfilled: 0, amount_fulfilled: 0, reject_codes: {} }
}

function addResult (counts, amount, result) {
  if (result.type === 'fulfill') {
    counts.fulfilled++
    if (amount > 0) counts.money_fulfilled++
    counts.amount_fulfilled += amount
  } else if (result.type === 'reject') {
    counts.rejected++
    counts.reject_codes[result.code] = (counts.reject_codes[result.code] || 0) + 1
  } else {
    counts.errored++
  }
}

function finishCounts (counts) {
  counts.unanswered = counts.attempted - counts.fulfilled - counts.rejected - counts.errored
  return counts
}

function classify (IlpPacket, response) {
  if (!Buffer.isBuffer(response) || response.length === 0) return { type: 'error' }
  if (response[0] === IlpPacket.Type.TYPE_ILP_FULFILL) return { type: 'fulfill' }
  if (response[0] === IlpPacket.Type.TYPE_ILP_REJECT) {
    try {
      const reject = IlpPacket.deserializeIlpReject(response)
      return { type: 'reject', code: reject.code, message: reject.message, triggeredBy: reject.triggeredBy }
    } catch (err) {
      return { type: 'error' }
    }
  }
  return { type: 'error' }
}

// Wraps plugin.sendData: every outgoing ILP Prepare is counted in `pick(prepare)`'s counts.
// Prepares to peer.* (IL-DCP) are counted as control packets: the mini-accounts plugin answers them
// itself, so the connector never sees (nor counts) them.
function countOutgoing (IlpPacket, plugin, state, pick, onResult = () => {}) {
  const sendData = plugin.sendData.bind(plugin)
  plugin.sendData = async (data) => {
    let prepare
    try { prepare = IlpPacket.deserializeIlpPrepare(data) } catch (err) { return sendData(data) }
    const counts = pick(prepare)
    if (state.stopped) throw new Error('ilp-traffic: stopped, not sending more packets')
    const amount = Number(prepare.amount)
    counts.attempted++
    state.inflight++
    let response
    try {
      response = await sendData(data)
    } catch (err) {
      counts.errored++
      state.errors.push(`sendData to ${prepare.destination} failed: ${err.message}`)
      throw err
    } finally {
      state.inflight--
    }
    const result = classify(IlpPacket, response)
    addResult(counts, amount, result)
    onResult(result)
    if (result.type === 'reject' && state.sampleRejects.length < 5) {
      state.sampleRejects.push(`${result.code} from ${result.triggeredBy}: ${result.message}`)
    } else if (result.type === 'error') {
      state.errors.push(`invalid response to a Prepare to ${prepare.destination}`)
    }
    return response
  }
}

// Wraps the receiver's data handler: counts the Prepares the second connector delivers.
function countIncoming (IlpPacket, plugin, counts) {
  const register = plugin.registerDataHandler.bind(plugin)
  plugin.registerDataHandler = (handler) => register(async (data) => {
    let amount = 0
    try { amount = Number(IlpPacket.deserializeIlpPrepare(data).amount) } catch (err) { return handler(data) }
    counts.attempted++
    let response
    try {
      response = await handler(data)
    } catch (err) {
      counts.errored++
      throw err
    }
    addResult(counts, amount, classify(IlpPacket, response))
    return response
  })
}

// ---------------------------------------------------------------------------------------------
// helpers

class Deadline extends Error {}

function sleep (ms) { return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))) }

// Resolves with the promise, or rejects with Deadline after ms (the promise keeps running).
function within (promise, ms, what) {
  let timer
  return Promise.race([
    promise,
    new Promise((resolve, reject) => { timer = setTimeout(() => reject(new Deadline(`${what}: no answer within ${(ms / 1000).toFixed(1)} s`)), Math.max(0, ms)) })
  ]).finally(() => clearTimeout(timer))
}

// A BTP client plugin whose disconnect() only happens when we say so: ilp-protocol-stream's
// createConnection disconnects the plugin as soon as the client connection closes, while the
// receiver may still be sending its last packets to it (they would stay unanswered).
function btpPlugin (BtpPlugin, url, state) {
  const plugin = new BtpPlugin({ server: url, responseTimeout: 30000 })
  const disconnect = plugin.disconnect.bind(plugin)
  plugin.disconnect = () => state.stopped ? disconnect() : Promise.resolve()
  plugin.reallyDisconnect = disconnect
  return plugin
}

// Waits (bounded) until no Prepare of either side is in flight and `extra()` is true.
async function settle (state, ms, extra = () => true) {
  const until = Date.now() + ms
  while (Date.now() < until) {
    if (state.inflight === 0 && extra()) return true
    await sleep(20)
  }
  return false
}

function redact (url) {
  try {
    const u = new URL(url)
    if (u.password) u.password = '***'
    return u.toString()
  } catch (err) { return '(invalid)' }
}

// ---------------------------------------------------------------------------------------------
// traces: one root span per payment, its context carried in the BTP message of each Prepare

const EPOCH_NS = BigInt(Date.now()) * 1000000n - process.hrtime.bigint()
function nowNs () { return EPOCH_NS + process.hrtime.bigint() }

function randomHex (bytes) {
  let id
  do { id = crypto.randomBytes(bytes).toString('hex') } while (/^0+$/.test(id)) // all-zero ids are invalid
  return id
}

// A payment's root span (or null with --trace off); state.payment while its Prepares are sent.
function startPayment (report, index, destination, amount) {
  if (!report.traceOn) return null
  const payment = { traceId: randomHex(16), spanId: randomHex(8), index, destination, amount, start: nowNs(), end: null, result: null, code: null }
  payment.traceparent = `00-${payment.traceId}-${payment.spanId}-01` // W3C Trace Context, sampled
  report.tracedPayments.push(payment)
  return payment
}

function endPayment (payment, result, code) {
  if (!payment || payment.end !== null) return
  payment.end = nowNs()
  payment.result = result
  payment.code = code || null
}

// ilp-plugin-btp's sendData hands each MESSAGE to its _call(to, btpPacket): while a payment is
// current, a MESSAGE whose `ilp` entry is a Prepare gets a `traceparent` entry (text/plain) too.
function carryTraceparent (plugin, current) {
  const call = plugin._call.bind(plugin)
  plugin._call = (to, btpPacket) => {
    const payment = current()
    const entries = btpPacket && btpPacket.type === BTP_TYPE_MESSAGE && btpPacket.data && btpPacket.data.protocolData
    if (payment && Array.isArray(entries) && entries.length > 0 && entries[0].protocolName === 'ilp' &&
        Buffer.isBuffer(entries[0].data) && entries[0].data[0] === ILP_TYPE_PREPARE) {
      entries.push({ protocolName: 'traceparent', contentType: MIME_TEXT_PLAIN_UTF8, data: Buffer.from(payment.traceparent) })
    }
    return call(to, btpPacket)
  }
}

// The root spans as one OTLP/HTTP JSON export request (OTLP specification, "JSON Protobuf
// Encoding": trace and span ids as hex strings, enums as numbers, 64-bit integers as strings).
function otlpBody (payments) {
  const str = (key, value) => ({ key, value: { stringValue: String(value) } })
  const spans = payments.filter((p) => p.end !== null).map((p) => {
    const attributes = [str('ilp.destination', p.destination), str('ilp.amount', p.amount),
      { key: 'payment.index', value: { intValue: String(p.index) } }, str('ilp.result', p.result)]
    if (p.code) attributes.push(str('ilp.error_code', p.code))
    return {
      traceId: p.traceId,
      spanId: p.spanId,
      name: 'payment.send',
      kind: 3, // SPAN_KIND_CLIENT
      startTimeUnixNano: String(p.start),
      endTimeUnixNano: String(p.end),
      attributes,
      status: p.result === 'fulfill' ? { code: 1 } : { code: 2, message: p.code || p.result } // OK / ERROR
    }
  })
  return {
    resourceSpans: [{
      resource: { attributes: [str('service.name', 'ilp-traffic'), str('service.version', VERSION)] },
      scopeSpans: [{ scope: { name: 'ilp-traffic', version: VERSION }, spans }]
    }]
  }
}

// POSTs the root spans to the OTLP endpoint within ms; resolves with { exported, error }.
function exportSpans (endpoint, payments, ms) {
  const request = otlpBody(payments)
  const count = request.resourceSpans[0].scopeSpans[0].spans.length
  if (count === 0) return Promise.resolve({ exported: 0, error: null })
  const body = Buffer.from(JSON.stringify(request))
  return new Promise((resolve) => {
    const url = new URL(endpoint)
    const client = url.protocol === 'https:' ? require('https') : require('http')
    let done = false
    const finish = (result) => { if (!done) { done = true; resolve(result) } }
    const req = client.request(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Content-Length': body.length },
      timeout: Math.max(1, ms)
    }, (res) => {
      res.resume()
      res.on('end', () => finish(res.statusCode >= 200 && res.statusCode < 300
        ? { exported: count, error: null }
        : { exported: 0, error: `HTTP ${res.statusCode} from ${endpoint}` }))
    })
    req.on('timeout', () => { req.destroy(); finish({ exported: 0, error: `no answer from ${endpoint} within ${ms} ms` }) })
    req.on('error', (err) => finish({ exported: 0, error: `${endpoint}: ${err.message}` }))
    req.end(body)
  })
}

// ---------------------------------------------------------------------------------------------
// the run

async function run (opts, report) {
  const IlpPacket = require('ilp-packet')
  const BtpPlugin = require('ilp-plugin-btp')
  const { createServer, createConnection } = require('ilp-protocol-stream')
  patchStreamClosed()

  const start = report.start
  const sendUntil = start + opts.maxSeconds * 1000 - report.cleanupMs
  const remaining = () => sendUntil - Date.now()
  // no new payment after this: what is in flight then still gets its answer (and STREAM its close)
  const payUntil = sendUntil - Math.min(1000, opts.maxSeconds * 150)
  const payTimeLeft = () => payUntil - Date.now()
  const state = report.state

  const senderPlugin = btpPlugin(BtpPlugin, opts.sender, state)
  const receiverPlugin = btpPlugin(BtpPlugin, opts.receiver, state)
  report.plugins.push(senderPlugin, receiverPlugin)

  const phases = report.phases
  let phase = 'connect'
  // the reject code of the current payment's last rejected Prepare (its span's error code)
  const noteReject = (result) => { if (state.payment && result.type === 'reject') state.payment.rejectCode = result.code }
  countOutgoing(IlpPacket, senderPlugin, state, (p) => p.destination.startsWith('peer.') ? report.senderControl : (phases[phase] = phases[phase] || newCounts()), noteReject)
  if (report.traceOn) carryTraceparent(senderPlugin, () => state.payment)
  countOutgoing(IlpPacket, receiverPlugin, state, (p) => p.destination.startsWith('peer.') ? report.receiverControl : report.receiverSent)
  countIncoming(IlpPacket, receiverPlugin, report.receiverReceived)

  // 1. connect both plugins (BTP auth + mini-accounts), bounded
  const connectMs = () => Math.min(opts.connectTimeout * 1000, remaining())
  const connectOne = async (plugin, side) => {
    try {
      await within(plugin.connect(), connectMs(), `${side} BTP connect to ${redact(opts[side])}`)
      report[side].connected = true
    } catch (err) {
      report.failures.push(err.message)
      plugin.reallyDisconnect().catch(() => {})
    }
  }
  await Promise.all([connectOne(senderPlugin, 'sender'), connectOne(receiverPlugin, 'receiver')])
  if (!report.sender.connected) {
    report.stopReason = 'sender-unreachable'
    return
  }
  const ILDCP = require('ilp-protocol-ildcp')
  try {
    const info = await within(ILDCP.fetch(senderPlugin.sendData.bind(senderPlugin)), connectMs(), 'sender IL-DCP')
    report.sender.address = info.clientAddress
  } catch (err) {
    report.failures.push(err.message)
  }

  // 2. the receiver: a STREAM server (stream mode) or a condition-checking data handler (packets)
  let destination = opts.receiverAddress
  let secret = crypto.randomBytes(32)
  let mode = opts.mode
  const serverConnections = new Set()
  const setupReceiver = async () => {
    if (mode === 'stream') {
      const server = await within(createServer({ plugin: receiverPlugin }), connectMs(), 'STREAM server IL-DCP')
      server.on('connection', (conn) => {
        serverConnections.add(conn)
        conn.once('close', () => serverConnections.delete(conn))
        conn.on('stream', (stream) => {
          stream.on('error', () => {})
          stream.setReceiveMax(Number.MAX_SAFE_INTEGER)
        })
        conn.on('error', () => {})
      })
      const generated = server.generateAddressAndSecret()
      destination = generated.destinationAccount
      secret = generated.sharedSecret
      report.receiver.address = server.serverAccount
    } else {
      const info = await within(ILDCP.fetch(receiverPlugin.sendData.bind(receiverPlugin)), connectMs(), 'receiver IL-DCP')
      report.receiver.address = destination = info.clientAddress
      receiverPlugin.registerDataHandler(async (data) => rawReceive(IlpPacket, secret, info.clientAddress, data))
    }
    if (opts.receiverAddress && !report.receiver.address.startsWith(opts.receiverAddress)) {
      report.failures.push(`receiver got address ${report.receiver.address}, expected ${opts.receiverAddress}`)
    }
  }
  if (report.receiver.connected) {
    try {
      await setupReceiver()
    } catch (err) {
      report.failures.push(`receiver setup: ${err.message}`)
      report.receiver.connected = false
      destination = opts.receiverAddress
    }
  }
  // --destination (packets mode): the Prepares go there, whatever the receiver's address
  if (opts.destination) destination = opts.destination
  if (!report.receiver.connected) {
    if (!destination) {
      report.stopReason = 'receiver-unreachable'
      report.failures.push('receiver not connected and no --receiver-address to send to')
      return
    }
    // STREAM needs a live receiver for its handshake: measure the path with raw Prepares instead.
    mode = 'packets'
    if (!opts.destination) report.notes.push(`receiver not connected: sending ${opts.packets} raw Prepares to ${destination}`)
  }
  report.modeUsed = mode

  const packetMs = () => Math.min(opts.packetTimeout * 1000, remaining())
  // Prepare expiry: each connector takes its min message window (1 s by default) off and rejects
  // with R02 what would arrive with less than that left, so two hops need well over 3 s.
  const expiryMs = Math.min(30000, Math.max(MIN_EXPIRY_MS, opts.packetTimeout * 1000))

  if (mode === 'stream') {
    // 3a. one STREAM connection (IL-DCP, rate probe), one stream, sendTotal(k * A) for k = 1..N
    let conn
    try {
      conn = await within(createConnection({
        plugin: senderPlugin,
        destinationAccount: destination,
        sharedSecret: secret,
        getExpiry: () => new Date(Date.now() + expiryMs)
      }), remaining(), 'STREAM connect')
    } catch (err) {
      report.failures.push(`STREAM connect: ${err.message}`)
      report.stopReason = err instanceof Deadline ? 'max-seconds' : 'connect-failed'
      // the failed connection still sends a ConnectionClose: let it be answered, bounded
      await settle(state, Math.min(2000, Math.max(0, remaining())))
      return
    }
    conn.on('error', (err) => report.failures.push(`STREAM connection: ${err.message}`))
    phase = 'pay'
    const stream = conn.createStream()
    stream.on('error', () => {})
    for (let k = 1; k <= opts.packets; k++) {
      if (payTimeLeft() <= 0) { report.stopReason = 'max-seconds'; break }
      report.payments.attempted++
      const payment = state.payment = startPayment(report, k, destination, opts.amount)
      try {
        await within(stream.sendTotal(k * opts.amount, { timeout: Math.max(1, packetMs()) }), packetMs() + 100, `payment ${k}`)
        report.payments.completed++
        endPayment(payment, 'fulfill')
      } catch (err) {
        report.payments.failed++
        endPayment(payment, payment && payment.rejectCode ? 'reject' : 'error', payment && payment.rejectCode)
        report.failures.push(`payment ${k}: ${err.message}`)
        report.stopReason = remaining() <= 0 ? 'max-seconds' : 'payment-failed'
        break
      } finally {
        state.payment = null
      }
    }
    // 4a. close politely (ConnectionClose frame = one more zero-amount Prepare), bounded
    phase = 'close'
    try {
      await within(conn.end(), Math.min(2000, Math.max(0, remaining())), 'STREAM close')
    } catch (err) {
      report.notes.push(`STREAM close: ${err.message}`)
    }
    // the receiver answers the close with packets of its own: let them finish, bounded
    if (!await settle(state, Math.min(3000, Math.max(0, remaining())), () => serverConnections.size === 0)) {
      report.notes.push('receiver connection not closed (or packets still in flight) when the run ended')
    }
  } else {
    // 3b. N raw Prepares; condition = SHA-256(HMAC-SHA-256(secret, data)), fulfilled by the receiver
    phase = 'pay'
    for (let k = 1; k <= opts.packets; k++) {
      if (payTimeLeft() <= 0) { report.stopReason = 'max-seconds'; break }
      report.payments.attempted++
      const data = Buffer.concat([Buffer.from('ilp-traffic'), crypto.randomBytes(21)])
      const fulfillment = hmac(secret, data)
      const condition = sha256(fulfillment)
      const prepare = IlpPacket.serializeIlpPrepare({
        destination,
        amount: String(opts.amount),
        executionCondition: condition,
        expiresAt: new Date(Date.now() + expiryMs),
        data
      })
      let response
      const payment = state.payment = startPayment(report, k, destination, opts.amount)
      try {
        response = await within(senderPlugin.sendData(prepare), packetMs(), `packet ${k}`)
      } catch (err) {
        report.payments.failed++
        endPayment(payment, 'error')
        if (err instanceof Deadline) {
          report.failures.push(err.message)
          report.stopReason = 'max-seconds'
          break
        }
        continue // counted as errored by the wrapper
      } finally {
        state.payment = null
      }
      const result = classify(IlpPacket, response)
      endPayment(payment, result.type, result.code)
      if (result.type === 'fulfill') {
        const got = IlpPacket.deserializeIlpFulfill(response).fulfillment
        if (!sha256(got).equals(condition)) state.errors.push(`packet ${k}: fulfillment does not match the condition`)
        report.payments.completed++
      } else {
        report.payments.failed++
      }
    }
    await settle(state, Math.max(0, remaining()))
  }
  if (!report.stopReason) report.stopReason = 'done'
}

// ilp-protocol-stream 2.7.1 (the latest release) assigns `this.closed` in DataAndMoneyStream, a
// stream.Duplex; since Node 18 Readable#closed is a getter only, so createStream() and every incoming
// stream throw "Cannot set property closed of #<Readable> which has only a getter"
// (interledgerjs/interledgerjs#284). Upstream fixed it (PR #423) with an own `closed` accessor on
// DataAndMoneyStream.prototype, released only in 2.7.2-alpha builds; this does the same for 2.7.1.
function patchStreamClosed () {
  const { DataAndMoneyStream } = require('ilp-protocol-stream/dist/src/stream')
  const own = Object.getOwnPropertyDescriptor(DataAndMoneyStream.prototype, 'closed')
  if (own && own.set) return
  Object.defineProperty(DataAndMoneyStream.prototype, 'closed', {
    get () { return !!this._ilpTrafficClosed },
    set (value) { this._ilpTrafficClosed = value },
    enumerable: true,
    configurable: true
  })
}

function hmac (key, data) { return crypto.createHmac('sha256', key).update(data).digest() }
function sha256 (data) { return crypto.createHash('sha256').update(data).digest() }

function rawReceive (IlpPacket, secret, address, data) {
  const prepare = IlpPacket.deserializeIlpPrepare(data)
  const fulfillment = hmac(secret, prepare.data)
  if (prepare.destination === address && sha256(fulfillment).equals(prepare.executionCondition)) {
    return IlpPacket.serializeIlpFulfill({ fulfillment, data: Buffer.alloc(0) })
  }
  return IlpPacket.serializeIlpReject({ code: 'F05', triggeredBy: address, message: 'unexpected condition or destination', data: Buffer.alloc(0) })
}

// ---------------------------------------------------------------------------------------------
// summary and exit

function summarize (opts, report) {
  const packets = newCounts()
  const phases = {}
  for (const [name, counts] of Object.entries(report.phases)) {
    finishCounts(counts)
    phases[name] = counts
    for (const key of ['attempted', 'fulfilled', 'rejected', 'errored', 'unanswered', 'money_fulfilled', 'amount_fulfilled']) packets[key] += counts[key]
    for (const [code, n] of Object.entries(counts.reject_codes)) packets.reject_codes[code] = (packets.reject_codes[code] || 0) + n
  }
  const errors = report.state.errors.slice()
  // success is money arriving: STREAM's zero-amount packets (close) can be fulfilled on their own
  const exitCode = packets.money_fulfilled === 0 ? 2 : (errors.length > 0 ? 1 : 0)
  return {
    tool: 'ilp-traffic',
    version: VERSION,
    ok: exitCode === 0,
    exit_code: exitCode,
    mode: opts.mode,
    mode_used: report.modeUsed || opts.mode,
    requested: { packets: opts.packets, amount: opts.amount, max_seconds: opts.maxSeconds },
    sender: { url: redact(opts.sender), connected: report.sender.connected, address: report.sender.address || null },
    receiver: { url: redact(opts.receiver), connected: report.receiver.connected, address: report.receiver.address || null },
    payments: report.payments,
    // every ILP Prepare the sender gave the first connector (IL-DCP excluded), by result
    packets,
    phases,
    amount: { sent: packets.amount_fulfilled, delivered: finishCounts(report.receiverReceived).amount_fulfilled },
    receiver_received: report.receiverReceived,
    receiver_sent: finishCounts(report.receiverSent),
    control_packets: { sender: finishCounts(report.senderControl), receiver: finishCounts(report.receiverControl) },
    elapsed_seconds: Math.round((Date.now() - report.start) / 1000 * 1000) / 1000,
    stop_reason: report.stopReason || 'max-seconds',
    sample_rejects: report.state.sampleRejects,
    // one trace per payment, in payment order; failed_ids: those of the payments that failed
    traces: {
      enabled: report.traceOn,
      ids: report.tracedPayments.map((p) => p.traceId),
      failed_ids: report.tracedPayments.filter((p) => p.result !== 'fulfill').map((p) => p.traceId),
      endpoint: opts.otlpEndpoint ? redact(opts.otlpEndpoint) : null,
      exported: report.traceExport.exported,
      export_error: report.traceExport.error
    },
    failures: report.failures,
    notes: report.notes,
    errors
  }
}

function printText (s) {
  const codes = Object.entries(s.packets.reject_codes).map(([c, n]) => `${c}=${n}`).join(' ') || '-'
  const lines = [
    `ilp-traffic ${s.version}: mode=${s.mode_used} stop=${s.stop_reason} elapsed=${s.elapsed_seconds}s exit=${s.exit_code}`,
    `sender   ${s.sender.address || '-'} (${s.sender.connected ? 'connected' : 'NOT connected'})`,
    `receiver ${s.receiver.address || '-'} (${s.receiver.connected ? 'connected' : 'NOT connected'})`,
    `payments attempted=${s.payments.attempted} completed=${s.payments.completed} failed=${s.payments.failed} of ${s.requested.packets} x ${s.requested.amount}`,
    `packets  attempted=${s.packets.attempted} fulfilled=${s.packets.fulfilled} rejected=${s.packets.rejected} errored=${s.packets.errored} unanswered=${s.packets.unanswered} reject_codes: ${codes}`
  ]
  for (const [name, c] of Object.entries(s.phases)) {
    lines.push(`  ${name.padEnd(8)} attempted=${c.attempted} fulfilled=${c.fulfilled} rejected=${c.rejected} ${JSON.stringify(c.reject_codes)}`)
  }
  const rr = s.receiver_received
  const rs = s.receiver_sent
  lines.push(`receiver got=${rr.attempted} fulfilled=${rr.fulfilled} rejected=${rr.rejected}; sent=${rs.attempted} fulfilled=${rs.fulfilled} rejected=${rs.rejected} unanswered=${rs.unanswered} ${JSON.stringify(rs.reject_codes)}`)
  lines.push(`amount   sent=${s.amount.sent} delivered=${s.amount.delivered}`)
  if (s.traces.enabled) {
    const exported = s.traces.endpoint ? ` exported=${s.traces.exported} to ${s.traces.endpoint}` : ''
    lines.push(`traces   ${s.traces.ids.length} (${s.traces.failed_ids.length} failed)${exported}${s.traces.ids.length ? ' first=' + s.traces.ids[0] : ''}`)
    if (s.traces.export_error) lines.push(`ERROR: trace export: ${s.traces.export_error}`)
  }
  for (const f of s.failures) lines.push(`failure: ${f}`)
  for (const r of s.sample_rejects) lines.push(`reject: ${r}`)
  for (const n of s.notes) lines.push(`note: ${n}`)
  for (const e of s.errors) lines.push(`ERROR: ${e}`)
  process.stdout.write(lines.join('\n') + '\n')
}

function main () {
  let opts
  try {
    opts = parseCli(process.argv.slice(2))
  } catch (err) {
    process.stderr.write(`send.js: ${err.message}\n\n${USAGE}`)
    process.exit(64)
  }
  if (opts.help) {
    process.stdout.write(USAGE)
    process.exit(0)
  }
  const start = Date.now()
  const report = {
    start,
    // time kept back at the end for closing the connection and the plugins
    cleanupMs: Math.min(1500, opts.maxSeconds * 1000 * 0.2),
    state: { stopped: false, inflight: 0, errors: [], sampleRejects: [] },
    plugins: [],
    phases: {},
    sender: { connected: false },
    receiver: { connected: false },
    payments: { attempted: 0, completed: 0, failed: 0 },
    senderControl: newCounts(),
    receiverControl: newCounts(),
    receiverSent: newCounts(),
    receiverReceived: newCounts(),
    failures: [],
    notes: [],
    stopReason: null,
    traceOn: opts.trace,
    tracedPayments: [],
    traceExport: { exported: 0, error: null }
  }
  let done = false
  const finish = (why) => {
    if (done) return
    done = true
    report.state.stopped = true
    if (!report.stopReason) report.stopReason = why
    const summary = summarize(opts, report)
    if (opts.json) process.stdout.write(JSON.stringify(summary, null, 2) + '\n')
    else printText(summary)
    // flush stdout, then exit whatever sockets or timers are still open
    process.stdout.write('', () => process.exit(summary.exit_code))
  }
  const cleanupAndFinish = async (why) => {
    report.state.stopped = true
    const left = Math.max(0, start + opts.maxSeconds * 1000 - 150 - Date.now())
    // a payment still unanswered when the run ended: its span ends now, as an error
    for (const payment of report.tracedPayments) endPayment(payment, 'error')
    const exported = opts.otlpEndpoint && report.tracedPayments.length
      ? exportSpans(opts.otlpEndpoint, report.tracedPayments, left).then((r) => { report.traceExport = r })
      : Promise.resolve()
    await Promise.race([
      Promise.allSettled([...report.plugins.map((p) => p.reallyDisconnect()), exported]),
      sleep(left)
    ])
    if (opts.otlpEndpoint && report.tracedPayments.length && !report.traceExport.exported && !report.traceExport.error) {
      report.traceExport.error = `no answer from ${redact(opts.otlpEndpoint)} before --max-seconds`
    }
    finish(why)
  }
  // last resort: whatever is still pending, report and exit at --max-seconds
  setTimeout(() => finish('max-seconds'), Math.max(0, opts.maxSeconds * 1000 - 100))
  const sendBudget = opts.maxSeconds * 1000 - report.cleanupMs
  within(run(opts, report), sendBudget, 'run')
    .then(() => cleanupAndFinish('done'))
    .catch((err) => {
      if (err instanceof Deadline) {
        report.stopReason = report.stopReason || 'max-seconds'
      } else {
        report.state.errors.push(`unexpected: ${err && err.stack ? err.stack : err}`)
        report.stopReason = report.stopReason || 'error'
      }
      return cleanupAndFinish('error')
    })
}

process.on('unhandledRejection', (err) => {
  // STREAM and BTP internals may reject after we stopped waiting for them; log, do not crash
  if (process.env.ILP_TRAFFIC_DEBUG) process.stderr.write(`unhandled rejection: ${err && err.stack ? err.stack : err}\n`)
})

main()
