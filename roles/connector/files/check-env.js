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

function main () {
  const [releaseDir, envFile] = process.argv.slice(2)
  if (!releaseDir || !envFile) {
    console.error('usage: node check-env.js RELEASE_DIR ENV_FILE')
    return 64
  }
  const env = parseEnvFile(fs.readFileSync(envFile, 'utf8'))
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
        console.error(`${key} is not valid JSON: ${err.message.replace(/ in JSON.*$/, '')}`)
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
    console.error(err.message)
    return 1
  }
  console.log(`ilp-connector configuration is valid (${Object.keys(env).filter(k => known.has(k)).length} settings)`)
  return 0
}

process.exitCode = main()
