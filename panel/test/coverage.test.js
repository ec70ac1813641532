// Every operation of the Management API has a home in the panel: each
// method + path of api/openapi.yaml is called by the panel's sources (through
// the TypeScript SDK), or is in the allowlist below with the reason it is not.
// A new operation without either fails here, and so does an allowlist entry
// for an operation the panel calls (or that is gone from the spec).
import assert from "node:assert/strict";
import { readFile, readdir } from "node:fs/promises";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const src = path.join(root, "panel/src");

/** The operations of the spec as "METHOD /path" (the file's own layout: paths at 2 spaces, methods at 4). */
export function operations(yaml) {
  const ops = [];
  let inPaths = false;
  let current = "";
  for (const line of yaml.split("\n")) {
    if (/^paths:\s*$/.test(line)) {
      inPaths = true;
      continue;
    }
    if (inPaths && /^\S/.test(line)) break;
    if (!inPaths) continue;
    const p = /^ {2}(\/\S*):\s*$/.exec(line);
    if (p) {
      current = p[1];
      continue;
    }
    const m = /^ {4}(get|put|post|patch|delete):\s*$/.exec(line);
    if (m && current) ops.push(`${m[1].toUpperCase()} ${current}`);
  }
  return ops;
}

// Calls the panel makes other than `api().METHOD("/path")`: SDK helpers and
// the settings page's list of paths it PUTs.
const HELPERS = {
  "getConfigYAML(": ["GET /config.yaml"],
  "putConfigYAML(": ["PUT /config.yaml"],
  "watch(": ["GET /events"],
  "getRequestLog(": ["GET /request-log-by-id/{id}"],
  "getRequestErrorLog(": ["GET /request-error-logs/{name}"],
};

/** What the panel's sources call, as "METHOD /path". */
async function panelCalls() {
  const calls = new Set();
  const files = (await readdir(src, { recursive: true })).filter((f) => /\.tsx?$/.test(f));
  for (const f of files) {
    const text = await readFile(path.join(src, f), "utf8");
    for (const m of text.matchAll(/\.(GET|PUT|POST|PATCH|DELETE)\(\s*"(\/[^"]*)"/g)) calls.add(`${m[1]} ${m[2]}`);
    for (const [helper, ops] of Object.entries(HELPERS)) if (text.includes(helper)) ops.forEach((o) => calls.add(o));
    // The settings page: `{ path: "/debug", … }` entries, each PUT by setBool.
    if (f.endsWith("settings.tsx")) for (const m of text.matchAll(/path:\s*"(\/[^"]+)"/g)) calls.add(`PUT ${m[1]}`);
    // Links the panel opens (the OpenAPI document).
    for (const m of text.matchAll(/href="\.\/v0\/management(\/[^"]+)"/g)) calls.add(`GET ${m[1]}`);
  }
  return calls;
}

const READ_WITH_CONFIG = "read as part of GET /config, which the panel loads once and re-reads on every change event";
const PATCH_IS_PUT = "PATCH of a single value does what PUT does; the panel uses PUT";
const LEGACY_GEMINI = "a legacy alias of /gemini-api-key, which the Provider keys page uses";

/** Operations without a home in the panel, and why. */
export const ALLOWLIST = {
  "GET /api-keys": READ_WITH_CONFIG,
  "GET /gemini-api-key": READ_WITH_CONFIG,
  "GET /codex-api-key": READ_WITH_CONFIG,
  "GET /claude-api-key": READ_WITH_CONFIG,
  "GET /xai-api-key": READ_WITH_CONFIG,
  "GET /vertex-api-key": READ_WITH_CONFIG,
  "GET /openai-compatibility": READ_WITH_CONFIG,
  "GET /oauth-excluded-models": READ_WITH_CONFIG,
  "GET /debug": READ_WITH_CONFIG,
  "GET /logging-to-file": READ_WITH_CONFIG,
  "GET /request-log": READ_WITH_CONFIG,
  "GET /usage-statistics-enabled": READ_WITH_CONFIG,
  "GET /quota-exceeded/switch-project": READ_WITH_CONFIG,
  "GET /quota-exceeded/switch-preview-model": READ_WITH_CONFIG,
  "GET /ws-auth": READ_WITH_CONFIG,
  "GET /allow-localhost-unauthenticated": READ_WITH_CONFIG,
  "GET /force-gpt-5-codex": READ_WITH_CONFIG,
  "GET /proxy-url": READ_WITH_CONFIG,
  "GET /request-retry": READ_WITH_CONFIG,
  "GET /max-retry-interval": READ_WITH_CONFIG,
  "PATCH /debug": PATCH_IS_PUT,
  "PATCH /logging-to-file": PATCH_IS_PUT,
  "PATCH /request-log": PATCH_IS_PUT,
  "PATCH /usage-statistics-enabled": PATCH_IS_PUT,
  "PATCH /quota-exceeded/switch-project": PATCH_IS_PUT,
  "PATCH /quota-exceeded/switch-preview-model": PATCH_IS_PUT,
  "PATCH /ws-auth": PATCH_IS_PUT,
  "PATCH /allow-localhost-unauthenticated": PATCH_IS_PUT,
  "PATCH /force-gpt-5-codex": PATCH_IS_PUT,
  "PATCH /proxy-url": PATCH_IS_PUT,
  "PATCH /request-retry": PATCH_IS_PUT,
  "PATCH /max-retry-interval": PATCH_IS_PUT,
  "GET /generative-language-api-key": LEGACY_GEMINI,
  "PUT /generative-language-api-key": LEGACY_GEMINI,
  "PATCH /generative-language-api-key": LEGACY_GEMINI,
  "DELETE /generative-language-api-key": LEGACY_GEMINI,
  "PUT /oauth-excluded-models": "replaces the whole map; the panel edits one channel at a time (PATCH, DELETE)",
  "PATCH /oauth-model-alias": "no structured editor yet: the aliases are shown read-only (OAuth excluded models page) and edited on the config.yaml page",
  "DELETE /oauth-model-alias": "no structured editor yet: the aliases are shown read-only (OAuth excluded models page) and edited on the config.yaml page",
  "GET /model-prices": "the server prices usage itself (cost in GET /usage and /usage/series, shown on the Usage page); the prices are read and set on the config.yaml page (model-prices)",
  "PUT /model-prices": "prices are set on the config.yaml page (model-prices); no form of their own yet",
  "GET /client-keys/{name}": "one key's record; the Client API keys page lists every key with the same fields (GET /client-keys)",
  "POST /api-call": "a raw HTTPS call through a stored credential, for scripts and the official panel; this panel tests providers with POST /providers/test",
  "GET /plugins": "always empty: this server loads no plugins, so there is nothing to show",
};

test("every Management API operation is called by the panel or allowlisted with a reason", async () => {
  const spec = await readFile(path.join(root, "api/openapi.yaml"), "utf8");
  const ops = operations(spec);
  assert.ok(ops.length > 100, `only ${ops.length} operations parsed from the spec`);
  const calls = await panelCalls();
  const homeless = ops.filter((o) => !calls.has(o) && !(o in ALLOWLIST));
  assert.deepEqual(homeless, [], "operations neither called by the panel nor allowlisted");
  const stale = Object.keys(ALLOWLIST).filter((o) => calls.has(o) || !ops.includes(o));
  assert.deepEqual(stale, [], "allowlisted operations the panel calls, or that the spec no longer has");
  for (const [op, why] of Object.entries(ALLOWLIST)) assert.ok(why.length > 20, `${op}: say why`);
  // The calls the reasons point at are real.
  for (const o of ["GET /config", "POST /providers/test", "GET /client-keys", "GET /oauth-model-alias", "PUT /gemini-api-key"]) assert.ok(calls.has(o), `the panel calls ${o}`);
  const called = ops.filter((o) => calls.has(o)).length;
  console.log(`# ${called} of ${ops.length} operations called by the panel, ${Object.keys(ALLOWLIST).length} allowlisted`);
});
