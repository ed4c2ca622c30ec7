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

const crypto = require('crypto')
const { parseArgs } = require('util')

const VERSION = require('./package.json').version
const MIN_EXPIRY_MS = 5000

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
  if (v['receiver-address'] !== undefined && !/^(g|private|example|test|test1|test2|test3|local|peer|self)(\.[a-zA-Z0-9_~-]+)+$/.test(v['receiver-address'])) {
    throw new UsageError(`--receiver-address is not an ILP address: ${v['receiver-address']}`)
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
function countOutgoing (IlpPacket, plugin, state, pick) {
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
  countOutgoing(IlpPacket, senderPlugin, state, (p) => p.destination.startsWith('peer.') ? report.senderControl : (phases[phase] = phases[phase] || newCounts()))
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
  if (!report.receiver.connected) {
    if (!destination) {
      report.stopReason = 'receiver-unreachable'
      report.failures.push('receiver not connected and no --receiver-address to send to')
      return
    }
    // STREAM needs a live receiver for its handshake: measure the path with raw Prepares instead.
    mode = 'packets'
    report.notes.push(`receiver not connected: sending ${opts.packets} raw Prepares to ${destination}`)
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
      try {
        await within(stream.sendTotal(k * opts.amount, { timeout: Math.max(1, packetMs()) }), packetMs() + 100, `payment ${k}`)
        report.payments.completed++
      } catch (err) {
        report.payments.failed++
        report.failures.push(`payment ${k}: ${err.message}`)
        report.stopReason = remaining() <= 0 ? 'max-seconds' : 'payment-failed'
        break
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
      try {
        response = await within(senderPlugin.sendData(prepare), packetMs(), `packet ${k}`)
      } catch (err) {
        report.payments.failed++
        if (err instanceof Deadline) {
          report.failures.push(err.message)
          report.stopReason = 'max-seconds'
          break
        }
        continue // counted as errored by the wrapper
      }
      const result = classify(IlpPacket, response)
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
    stopReason: null
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
    await Promise.race([
      Promise.allSettled(report.plugins.map((p) => p.reallyDisconnect())),
      sleep(Math.max(0, start + opts.maxSeconds * 1000 - 150 - Date.now()))
    ])
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
