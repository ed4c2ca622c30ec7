'use strict'
// Checks an ilp-connector environment file before it replaces the live one, with the
// connector's own configuration schema (ilp-connector/dist/services/config.js).
//
//   node check-env.js RELEASE_DIR ENV_FILE
//
// ENV_FILE is read the way systemd reads EnvironmentFile= (KEY=value lines, "double quotes" with
// backslash escapes, 'single quotes' literal, # comments). Every CONNECTOR_* variable must be a
// key ilp-connector knows (a typo would otherwise only be a warning in the journal), JSON values
// must parse, and the whole configuration must pass the schema. Values are never printed: the
// file holds secrets. Exit 0 when valid, 1 with the reason otherwise.

const fs = require('fs')
const path = require('path')

function parseEnvFile (text) {
  const env = {}
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (!line || line.startsWith('#') || line.startsWith(';') || !line.includes('=')) continue
    const key = line.slice(0, line.indexOf('=')).trim()
    const rest = line.slice(line.indexOf('=') + 1).trim()
    let value = rest
    if (rest.startsWith('"') && rest.endsWith('"') && rest.length >= 2) {
      value = rest.slice(1, -1).replace(/\\(["\\`$])/g, '$1')
    } else if (rest.startsWith("'") && rest.endsWith("'") && rest.length >= 2) {
      value = rest.slice(1, -1)
    }
    env[key] = value
  }
  return env
}

// Strings under keys that name secrets (and URLs with credentials), anywhere in the settings:
// removed from every message, since the messages are shown when the check refuses the file.
const SECRET_KEY = /secret|password|passwd|token|auth|key|credential/i
function secretsOf (env) {
  const found = new Set()
  const walk = (value, key) => {
    if (typeof value === 'string') {
      if ((key && SECRET_KEY.test(key)) || /:\/\/[^/\s]*@/.test(value)) found.add(value)
      const creds = value.match(/:\/\/([^/\s@]*)@/)
      if (creds && creds[1]) found.add(creds[1].replace(/^:/, ''))
    } else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) walk(v, k)
    }
  }
  for (const [key, raw] of Object.entries(env)) {
    let value = raw
    try { value = JSON.parse(raw) } catch (err) {}
    walk(value, key)
  }
  return [...found].filter(s => s.length >= 3)
}

function redact (message, secrets) {
  let text = String(message)
  for (const secret of secrets) text = text.split(secret).join('<redacted>')
  return text
}

function main () {
  const [releaseDir, envFile] = process.argv.slice(2)
  if (!releaseDir || !envFile) {
    console.error('usage: node check-env.js RELEASE_DIR ENV_FILE')
    return 64
  }
  const env = parseEnvFile(fs.readFileSync(envFile, 'utf8'))
  const secrets = secretsOf(env)
  const connectorDir = path.join(releaseDir, 'node_modules', 'ilp-connector')
  const schema = require(path.join(connectorDir, 'dist', 'schemas', 'Config.json'))
  const { constantCase } = require(require.resolve('change-case', { paths: [connectorDir] }))
  const known = new Map(Object.keys(schema.properties).map(key => ['CONNECTOR_' + constantCase(key), key]))
  const unknown = Object.keys(env).filter(key => key.startsWith('CONNECTOR_') && !known.has(key))
  if (unknown.length) {
    console.error(`ilp-connector does not know these settings: ${unknown.join(', ')}`)
    return 1
  }
  for (const key of Object.keys(env).filter(k => known.has(k))) {
    const type = schema.properties[known.get(key)].type
    if (type === 'object' || type === 'array') {
      try {
        JSON.parse(env[key])
      } catch (err) {
        // Node's message quotes the text it could not parse: keep only where it failed.
        const where = (err.message.match(/position \d+( \(line \d+ column \d+\))?/) || ['somewhere'])[0]
        console.error(`${key} is not valid JSON (at ${where})`)
        return 1
      }
    }
  }
  // The connector's own loader: parses every CONNECTOR_* value and validates the whole config.
  // Its logger would print to stdout; keep the check's output to the verdict.
  const log = require(path.join(connectorDir, 'dist', 'common', 'log.js'))
  log.setOutputStream(fs.createWriteStream('/dev/null'))
  const Config = require(path.join(connectorDir, 'dist', 'services', 'config.js')).default
  try {
    new Config().loadFromEnv(env)
  } catch (err) {
    console.error(redact(err.message, secrets))
    return 1
  }
  console.log(`ilp-connector configuration is valid (${Object.keys(env).filter(k => known.has(k)).length} settings)`)
  return 0
}

process.exitCode = main()
