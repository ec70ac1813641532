// The error helpers and the text answers against the real server: each
// failure below is a real answer of the binary, never a hand-made Response.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

import {
  TEXT_RESPONSE_PATHS,
  apiErrorOf,
  createManagementClient,
  etagOf,
  getRequestErrorLog,
  getRequestLog,
  isConfigChanged,
  isConflict,
  isNotFound,
  isPreconditionFailed,
  isUnauthorized,
  ManagementApiError,
  readConfigYAML,
  statusOf,
  unwrap,
  withIfMatch,
  type ManagementClient,
} from "../src/client.js";
import { KEY, startServer, type RunningServer } from "./server.js";

let server: RunningServer;
let client: ManagementClient;

/** What a promise rejects with (fails the test when it resolves). */
async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  assert.fail("expected a rejection");
}

/** A proxied request that fails (400, no model), so the server writes an error log; returns its X-Request-ID. */
async function failedProxyRequest(): Promise<string> {
  const res = await fetch(`${server.origin}/v1/chat/completions`, {
    method: "POST",
    headers: { Authorization: "Bearer k1", "Content-Type": "application/json" },
    body: JSON.stringify({ messages: [{ role: "user", content: "hi" }] }),
  });
  await res.arrayBuffer();
  assert.equal(res.status, 400);
  const id = res.headers.get("X-Request-ID");
  assert.ok(id, "every proxied answer carries X-Request-ID");
  return id;
}

/** The request log of id; the file is written as the answer ends, so a 404 is retried until it is there. */
async function requestLogWhenWritten(id: string): Promise<string> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      return await getRequestLog(client, id);
    } catch (err) {
      if (!isNotFound(err) || Date.now() > deadline) throw err;
      await sleep(20);
    }
  }
}

describe("error helpers and text answers", () => {
  before(async () => {
    server = await startServer();
    client = createManagementClient({ baseUrl: server.origin, key: KEY });
  });
  after(async () => {
    await server?.stop();
  });

  it("a real 412 from a stale If-Match is config changed as a result, as its error body and thrown", async () => {
    const res = await client.PUT("/debug", { body: { value: true }, params: { header: withIfMatch('"stale"') } });
    assert.equal(res.response.status, 412);
    assert.equal(isConfigChanged(res), true, "the result");
    assert.equal(isConfigChanged(res.error), true, "the result's error body");
    assert.equal(isConfigChanged(res.response), true, "the Response");
    assert.equal(isPreconditionFailed(res), true);
    assert.equal(isNotFound(res), false);
    assert.equal(statusOf(res), 412);

    const err = apiErrorOf(res);
    assert.ok(err instanceof ManagementApiError);
    assert.equal(err.errorCode, "config changed");
    assert.equal(err.etag, etagOf(await client.GET("/debug")));

    const thrown = await rejection((async () => unwrap(res))());
    assert.ok(isConfigChanged(thrown) && isPreconditionFailed(thrown));
    assert.equal(thrown.etag, err.etag, "narrowed to ManagementApiError");

    const ok = await client.GET("/debug");
    assert.equal(isConfigChanged(ok), false);
    assert.equal(isConfigChanged(ok.error), false);
    assert.equal(apiErrorOf(ok), undefined);
    assert.equal(isConfigChanged(new Error("config changed")), false);
  });

  it("the error exposes the body's error and message as errorCode and serverMessage (code and detail still work)", async () => {
    const res = await client.PUT("/api-keys", { body: [""] });
    assert.equal(res.response.status, 400);
    const body = res.error as { error: string; message?: string };
    assert.ok(body.message, "this refusal has a message");
    const err = await rejection((async () => unwrap(res))());
    assert.ok(err instanceof ManagementApiError);
    assert.equal(err.errorCode, body.error);
    assert.equal(err.serverMessage, body.message);
    assert.equal(err.code, err.errorCode);
    assert.equal(err.detail, err.serverMessage);
    assert.equal(err.message, `management API: 400 ${body.error}: ${body.message}`);
  });

  it("isNotFound and isUnauthorized on real 404 and 401 answers, results and thrown", async () => {
    const missing = await client.DELETE("/api-keys", { params: { query: { value: "nope" } } });
    assert.equal(isNotFound(missing), true);
    assert.equal(isConfigChanged(missing), false);
    assert.ok(isNotFound(await rejection((async () => unwrap(missing))())));

    const noLog = await rejection(getRequestLog(client, "0123456789abcdef"));
    assert.ok(isNotFound(noLog), String(noLog));
    assert.ok(noLog.errorCode.length > 0);
    assert.ok(isNotFound(await rejection(getRequestErrorLog(client, "error-none.log"))));

    const wrong = createManagementClient({ baseUrl: server.origin, key: "not-the-key" });
    const denied = await wrong.GET("/debug");
    assert.equal(isUnauthorized(denied), true);
    assert.equal(isNotFound(denied), false);
    const thrown = await rejection(getRequestLog(wrong, "0123456789abcdef"));
    assert.ok(isUnauthorized(thrown));
    assert.equal(thrown.errorCode, "invalid management key");
  });

  it("the log helpers return the log text, and a plain GET of a text answer no longer throws SyntaxError", async () => {
    const id = await failedProxyRequest();
    const byId = await requestLogWhenWritten(id);
    assert.equal(typeof byId, "string");
    assert.match(byId, /REQUEST INFO/);
    assert.ok(byId.includes("/v1/chat/completions"), byId);

    const list = unwrap(await client.GET("/request-error-logs"));
    const name = list.files.map((f) => f.name).find((n) => n.endsWith(`-${id}.log`));
    assert.ok(name, `an error log for ${id} in ${JSON.stringify(list)}`);
    assert.equal(await getRequestErrorLog(client, name), byId);
    assert.equal(await client.getRequestErrorLog(name), byId);
    assert.equal(await client.getRequestLog(id), byId);

    const raw = await client.GET("/request-log-by-id/{id}", { params: { path: { id } } });
    assert.equal(raw.data, byId);
    const rawByName = await client.GET("/request-error-logs/{name}", { params: { path: { name } } });
    assert.equal(rawByName.data, byId);
    const blob = await client.GET("/request-error-logs/{name}", { params: { path: { name } }, parseAs: "blob" });
    assert.equal(await (blob.data as unknown as Blob).text(), byId, "an explicit parseAs is kept");
  });

  it("readConfigYAML gives the file's text and revision; a plain GET /config.yaml is text", async () => {
    const { yaml, etag } = await readConfigYAML(client);
    assert.match(yaml, /^request-retry: 3$/m);
    assert.equal(etag, etagOf(await client.GET("/debug")));
    assert.deepEqual(await client.readConfigYAML(), { yaml, etag });
    const raw = await client.GET("/config.yaml");
    assert.equal(raw.data, yaml);
  });

  it("every operation whose 2xx answer is not JSON has a helper", async () => {
    const res = await fetch(`${server.origin}/v0/management/openapi.json`);
    const spec = (await res.json()) as {
      paths: Record<string, Record<string, { responses?: Record<string, { content?: Record<string, unknown>; $ref?: string }> }>>;
      components: { responses: Record<string, { content?: Record<string, unknown> }> };
    };
    const notJSON: string[] = [];
    for (const [p, ops] of Object.entries(spec.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        for (const [status, answer] of Object.entries(op.responses ?? {})) {
          if (!status.startsWith("2")) continue;
          const resolved = answer.$ref ? spec.components.responses[answer.$ref.split("/").pop() ?? ""] : answer;
          const types = Object.keys(resolved?.content ?? {});
          if (types.some((t) => t !== "application/json")) notJSON.push(`${method.toUpperCase()} ${p}`);
        }
      }
    }
    // GET /events is a stream that never ends: watch() reads it.
    const covered = [...TEXT_RESPONSE_PATHS.map((p) => `GET ${p}`), "GET /events"];
    assert.deepEqual(notJSON.sort(), covered.sort());
  });

  it("isConflict on a real 409: a hand edit that does not load blocks API writes", async () => {
    const { yaml } = await readConfigYAML(client);
    await writeFile(path.join(server.workDir, "config.yaml"), yaml.replace(/^port: \d+$/m, "port: 0"), "utf8");
    const res = await client.PUT("/debug", { body: { value: false } });
    assert.equal(res.response.status, 409, JSON.stringify(res.error));
    assert.equal(isConflict(res), true);
    const err = await rejection((async () => unwrap(res))());
    assert.ok(isConflict(err));
    assert.equal(err.errorCode, "config_file_conflict");
    assert.match(err.serverMessage ?? "", /port/);
    unwrap(await client.putConfigYAML(yaml)); // put the loadable file back
  });
});
