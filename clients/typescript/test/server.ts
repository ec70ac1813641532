// Starts the real server binary for the tests: $CPA_BIN (relative paths are taken
// from the current directory) or ../../bin/cli-proxy-api from this package;
// `make test-ts` builds it first.

import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";

export const KEY = "test-management-key";
const READY_TIMEOUT_MS = 20_000;

// build/test/server.js -> the package directory is two levels up.
export const packageDir = fileURLToPath(new URL("../../", import.meta.url));
const binary = process.env["CPA_BIN"]
  ? path.resolve(process.cwd(), process.env["CPA_BIN"])
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

export interface RunningServer {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  /** The directory holding config.yaml and auths/. */
  workDir: string;
  stop(): Promise<void>;
}

/** Starts a server with `request-retry: 3`, `debug: false` and `api-keys: [k1]`. */
export async function startServer(): Promise<RunningServer> {
  assert.ok(existsSync(binary), `server binary not found at ${binary}; build it (make build) or set CPA_BIN`);
  const workDir = await mkdtemp(path.join(tmpdir(), "cpa-ts-live-"));
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
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

  let log = "";
  const proc: ChildProcess = spawn(binary, ["-config", configPath], {
    cwd: workDir,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const collect = (chunk: Buffer) => {
    log += chunk.toString("utf8");
  };
  proc.stdout?.on("data", collect);
  proc.stderr?.on("data", collect);
  proc.on("error", (err) => {
    log += `\nspawn error: ${String(err)}`;
  });

  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(workDir, { recursive: true, force: true });
  };

  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last = "no answer yet";
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      await stop();
      throw new Error(`server exited early (code ${proc.exitCode}, signal ${proc.signalCode}):\n${log}`);
    }
    try {
      const res = await fetch(`${origin}/v0/management/debug`, {
        headers: { Authorization: `Bearer ${KEY}` },
        signal: AbortSignal.timeout(2_000),
      });
      await res.arrayBuffer();
      if (res.status === 200) {
        return { origin, workDir, stop };
      }
      last = `status ${res.status}`;
    } catch (err) {
      last = String(err);
    }
    await sleep(50);
  }
  await stop();
  throw new Error(`server not ready after ${READY_TIMEOUT_MS} ms (${last}):\n${log}`);
}
