// Test harness: the real server binary with a real config, a small reverse
// proxy under a path prefix, a fake OpenAI-compatible upstream, and the
// system's headless Chromium driven by playwright-core.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
export const binary = path.resolve(here, "..", process.env.CPA_BIN ?? "../bin/cli-proxy-api");
export const outDir = path.resolve(here, "..", "test-output");
export const MGMT_KEY = "panel-test-management-key";
export const CLIENT_KEY = "panel-test-client-key";

/** The system Chromium, or null. Under CI=true a missing browser throws. */
export function findChromium() {
  const candidates = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"].filter(Boolean);
  const found = candidates.find((p) => existsSync(p));
  if (!found && process.env.CI === "true") {
    throw new Error("CI=true but no Chromium found (install Debian's chromium: apt-get install -y chromium)");
  }
  return found ?? null;
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * Starts the binary with `extra` YAML appended to a minimal config; waits
 * for /healthz. `secret: false` leaves the management key out.
 */
export async function startServer({ extra = "", secret = true, upstream = "" } = {}) {
  if (!existsSync(binary)) throw new Error(`server binary ${binary} not found: run 'make build' (or set CPA_BIN)`);
  const dir = await mkdtemp(path.join(tmpdir(), "cpa-panel-"));
  const port = await freePort();
  const config = `host: 127.0.0.1
port: ${port}
auth-dir: ${JSON.stringify(path.join(dir, "auths"))}
api-keys: [${JSON.stringify(CLIENT_KEY)}]
remote-management:
  allow-remote: false
  secret-key: ${secret ? JSON.stringify(MGMT_KEY) : '""'}
logging-to-file: true
usage-statistics-enabled: true
${upstream ? `openai-compatibility:
  - name: fake
    base-url: ${JSON.stringify(upstream)}
    api-key-entries: [{api-key: upstream-key-1}]
    models: [{name: up-model, alias: test-model}]
` : ""}${extra}`;
  const configPath = path.join(dir, "config.yaml");
  await mkdir(path.join(dir, "auths"));
  await writeFile(configPath, config, { mode: 0o600 });
  let log = "";
  const proc = spawn(binary, ["-config", configPath], { stdio: ["ignore", "pipe", "pipe"] });
  proc.stdout.on("data", (d) => (log += d));
  proc.stderr.on("data", (d) => (log += d));
  const kill = () => proc.exitCode === null && proc.signalCode === null && proc.kill("SIGKILL");
  process.on("exit", kill);
  const origin = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`server exited early (${proc.exitCode}):\n${log}`);
    try {
      const r = await fetch(`${origin}/healthz`);
      if (r.ok) break;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) {
      kill();
      throw new Error(`server not ready:\n${log}`);
    }
    await sleep(50);
  }
  return {
    origin,
    configPath,
    log: () => log,
    /** A Management API call with the key (for arranging and checking). */
    async api(method, p, body, headers = {}) {
      const r = await fetch(`${origin}/v0/management${p}`, {
        method,
        headers: { Authorization: `Bearer ${MGMT_KEY}`, ...(body !== undefined ? { "Content-Type": "application/json" } : {}), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await r.text();
      let json;
      try {
        json = JSON.parse(text);
      } catch {
        json = text;
      }
      return { status: r.status, etag: r.headers.get("ETag"), body: json };
    },
    async stop() {
      if (proc.exitCode === null) {
        const exited = new Promise((res) => proc.once("exit", res));
        proc.kill("SIGTERM");
        const timer = setTimeout(kill, 5000);
        await exited;
        clearTimeout(timer);
      }
      process.off("exit", kill);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A reverse proxy: /cpa/* goes to the server with the prefix stripped and no
 * forwarding header (so the server sees a local client); /remote/* adds
 * X-Forwarded-For, as a proxy in front of a remote browser does.
 */
export async function startPrefixProxy(target) {
  const t = new URL(target);
  const server = http.createServer((req, res) => {
    const m = /^\/(cpa|remote)(\/.*)$/.exec(req.url ?? "");
    if (!m) {
      res.writeHead(404).end("not under a known prefix");
      return;
    }
    const headers = { ...req.headers, host: t.host };
    if (m[1] === "remote") headers["x-forwarded-for"] = "203.0.113.7";
    const up = http.request({ host: t.hostname, port: t.port, path: m[2], method: req.method, headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on("error", () => res.writeHead(502).end());
    req.pipe(up);
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) };
}

/** A fake OpenAI-compatible upstream answering every chat completion. */
export async function startFakeUpstream() {
  let n = 0;
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      n++;
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(
        JSON.stringify({
          id: `chatcmpl-${n}`,
          object: "chat.completion",
          created: Math.floor(Date.now() / 1000),
          model: "up-model",
          choices: [{ index: 0, message: { role: "assistant", content: "hello" }, finish_reason: "stop" }],
          usage: { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 },
        }),
      );
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${server.address().port}/v1`, count: () => n, close: () => new Promise((r) => server.close(r)) };
}
