// End-to-end test of the SDK against the real server binary.
//
// Compiled by `tsc -p tsconfig.json` to dist/test/live.test.js and run with
// `node --test dist/test/`. The binary is $CPA_BIN (relative paths are taken from the
// current directory) or ../../bin/cli-proxy-api from this package; `make test-ts`
// builds it first.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";

import { createManagementClient, etagOf, withIfMatch, type ManagementClient } from "../src/client.js";

const KEY = "test-management-key";
const READY_TIMEOUT_MS = 20_000;

// dist/test/live.test.js -> the package directory is two levels up.
const packageDir = fileURLToPath(new URL("../../", import.meta.url));
const binary = process.env.CPA_BIN
  ? path.resolve(process.cwd(), process.env.CPA_BIN)
  : path.resolve(packageDir, "../../bin/cli-proxy-api");

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      if (addr === null || typeof addr === "string") {
        srv.close();
        reject(new Error("could not read the port of the probe listener"));
        return;
      }
      const { port } = addr;
      srv.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}

let workDir = "";
let server: ChildProcess | undefined;
let serverLog = "";
let origin = "";
let client: ManagementClient;

async function waitUntilReady(): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last = "no answer yet";
  while (Date.now() < deadline) {
    const proc = server;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) {
      throw new Error(`server exited early (code ${proc?.exitCode}, signal ${proc?.signalCode}):\n${serverLog}`);
    }
    try {
      const res = await fetch(`${origin}/v0/management/debug`, {
        headers: { Authorization: `Bearer ${KEY}` },
        signal: AbortSignal.timeout(2_000),
      });
      await res.arrayBuffer();
      if (res.status === 200) {
        return;
      }
      last = `status ${res.status}`;
    } catch (err) {
      last = String(err);
    }
    await sleep(100);
  }
  throw new Error(`server not ready after ${READY_TIMEOUT_MS} ms (${last}):\n${serverLog}`);
}

async function stopServer(): Promise<void> {
  const proc = server;
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) {
    return;
  }
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  proc.kill("SIGTERM");
  const timer = setTimeout(() => proc.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
}

describe("management API through the TypeScript SDK", () => {
  before(async () => {
    assert.ok(existsSync(binary), `server binary not found at ${binary}; build it (make build) or set CPA_BIN`);
    workDir = await mkdtemp(path.join(tmpdir(), "cpa-ts-live-"));
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    const configPath = path.join(workDir, "config.yaml");
    const config = [
      "host: 127.0.0.1",
      `port: ${port}`,
      "remote-management:",
      "  allow-remote: false",
      `  secret-key: "${KEY}"`,
      `auth-dir: ${JSON.stringify(path.join(workDir, "auths"))}`,
      "debug: false",
      "request-retry: 3",
      "api-keys:",
      '  - "k1"',
      "",
    ].join("\n");
    await writeFile(configPath, config, "utf8");

    server = spawn(binary, ["-config", configPath], {
      cwd: workDir,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const collect = (chunk: Buffer) => {
      serverLog += chunk.toString("utf8");
    };
    server.stdout?.on("data", collect);
    server.stderr?.on("data", collect);
    server.on("error", (err) => {
      serverLog += `\nspawn error: ${String(err)}`;
    });

    await waitUntilReady();
    client = createManagementClient({ baseUrl: origin, key: KEY });
  });

  after(async () => {
    await stopServer();
    if (workDir) {
      await rm(workDir, { recursive: true, force: true });
    }
  });

  it("GET /debug reads false", async () => {
    const res = await client.GET("/debug");
    assert.equal(res.response.status, 200);
    assert.deepEqual(res.data, { debug: false });
    assert.ok(etagOf(res), "GET /debug carries an ETag");
  });

  it("PUT /debug writes true and returns the new ETag", async () => {
    const before = await client.GET("/debug");
    const res = await client.PUT("/debug", {
      body: { value: true },
      params: { header: withIfMatch(etagOf(before)) },
    });
    assert.equal(res.response.status, 200, JSON.stringify(res.error));
    assert.deepEqual(res.data, { status: "ok" });
    const etag = etagOf(res);
    assert.ok(etag, "PUT /debug carries an ETag");
    assert.notEqual(etag, etagOf(before), "the write made a new revision");

    const after = await client.GET("/debug");
    assert.equal(after.response.status, 200);
    assert.deepEqual(after.data, { debug: true });
    assert.equal(etagOf(after), etag, "GET reads the revision PUT wrote");
  });

  it("PUT /debug with a stale If-Match gets 412 and changes nothing", async () => {
    const res = await client.PUT("/debug", {
      body: { value: false },
      params: { header: withIfMatch('"stale"') },
    });
    assert.equal(res.response.status, 412);
    assert.equal(res.data, undefined);
    assert.equal(res.error?.error, "config changed");

    const current = await client.GET("/debug");
    assert.deepEqual(current.data, { debug: true });
    assert.equal(etagOf(res), etagOf(current), "412 names the current revision");
  });

  it("a wrong key gets 401", async () => {
    const wrong = createManagementClient({ baseUrl: origin, key: "not-the-key" });
    const res = await wrong.GET("/debug");
    assert.equal(res.response.status, 401);
    assert.equal(res.error?.error, "invalid management key");
  });

  it("config.yaml round-trips through GET and PUT with If-Match", async () => {
    const got = await client.getConfigYAML();
    assert.equal(got.response.status, 200);
    assert.equal(typeof got.data, "string");
    const text = got.data ?? "";
    assert.match(text, /^request-retry: 3$/m);
    const etag = etagOf(got);
    assert.ok(etag, "GET /config.yaml carries an ETag");

    const put = await client.putConfigYAML(text, etag);
    assert.equal(put.response.status, 200, JSON.stringify(put.error));
    assert.deepEqual(put.data, { ok: true, changed: ["config"] });
    assert.ok(etagOf(put), "PUT /config.yaml carries an ETag");
  });

  it("list edits: both body shapes, If-Match on a PATCH, 404 for an unknown item", async () => {
    const list = await client.GET("/api-keys");
    assert.equal(list.response.status, 200);
    assert.deepEqual(list.data, { "api-keys": ["k1"] });

    const put = await client.PUT("/api-keys", { body: { items: ["k1", "k2"] } });
    assert.equal(put.response.status, 200, JSON.stringify(put.error));
    const etag = etagOf(put);
    assert.ok(etag, "a mutation names the revision it wrote");

    const patch = await client.PATCH("/api-keys", {
      body: { index: 1, value: "k2b" },
      params: { header: withIfMatch(etag) },
    });
    assert.equal(patch.response.status, 200, JSON.stringify(patch.error));

    // The same revision again is stale now: nothing changes.
    const stale = await client.PATCH("/api-keys", {
      body: { old: "k1", new: "k1b" },
      params: { header: withIfMatch(etag) },
    });
    assert.equal(stale.response.status, 412);
    assert.equal(stale.error?.error, "config changed");
    assert.equal(etagOf(stale), etagOf(patch));

    const missing = await client.DELETE("/api-keys", { params: { query: { value: "nope" } } });
    assert.equal(missing.response.status, 404);
    assert.equal(missing.error?.error, "item not found");

    const after = await client.GET("/api-keys");
    assert.deepEqual(after.data, { "api-keys": ["k1", "k2b"] });
  });

  it("provider lists take typed entries", async () => {
    const put = await client.PUT("/codex-api-key", {
      body: [{ "api-key": "sk-a", "proxy-url": "socks5://127.0.0.1:1080" }],
    });
    assert.equal(put.response.status, 200, JSON.stringify(put.error));
    const got = await client.GET("/codex-api-key");
    assert.deepEqual(got.data, {
      "codex-api-key": [{ "api-key": "sk-a", "base-url": "", "proxy-url": "socks5://127.0.0.1:1080" }],
    });
  });

  it("request bodies are type-checked against the spec", () => {
    // Never called: it only has to compile. If `value` stopped being a boolean in the
    // spec, the directive below would be unused and tsc would fail.
    const wrongBody = () =>
      // @ts-expect-error PUT /debug takes {value: boolean}, not a string
      client.PUT("/debug", { body: { value: "yes" } });
    assert.equal(typeof wrongBody, "function");
  });
});
