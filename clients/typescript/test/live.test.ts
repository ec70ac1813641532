// End-to-end test of the SDK against the real server binary.
//
// Compiled by `tsc -p tsconfig.json` to build/test/live.test.js and run with
// `node --test build/test/`; test/server.ts starts the binary.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";

import {
  createManagementClient,
  edit,
  etagOf,
  isConfigChanged,
  ManagementApiError,
  unwrap,
  withIfMatch,
  type Editor,
  type ManagementClient,
} from "../src/client.js";
import { KEY, startServer, type RunningServer } from "./server.js";

let server: RunningServer;
let origin = "";
let client: ManagementClient;

describe("management API through the TypeScript SDK", () => {
  before(async () => {
    server = await startServer();
    origin = server.origin;
    client = createManagementClient({ baseUrl: origin, key: KEY });
  });

  after(async () => {
    await server?.stop();
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
    assert.equal(res.data?.status, "ok");
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
  it("unwrap throws a ManagementApiError with status, code and the current etag", async () => {
    const wrong = createManagementClient({ baseUrl: origin, key: "not-the-key" });
    await assert.rejects(async () => unwrap(await wrong.GET("/debug")), (err: unknown) => {
      assert.ok(err instanceof ManagementApiError);
      assert.equal(err.status, 401);
      assert.equal(err.code, "invalid management key");
      assert.equal(isConfigChanged(err), false);
      return true;
    });

    const stale = await client.PUT("/request-retry", {
      body: { value: 9 },
      params: { header: withIfMatch('"an-old-revision"') },
    });
    const current = etagOf(await client.GET("/request-retry"));
    assert.throws(
      () => unwrap(stale),
      (err: unknown) => isConfigChanged(err) && err.code === "config changed" && err.etag === current && current !== undefined,
    );
    assert.deepEqual(unwrap(await client.GET("/request-retry")), { "request-retry": 3 });
  });

  // An editor over api-keys that records every read and write.
  function recordingEditor(attempts: number) {
    const reads: string[][] = [];
    const writes: string[][] = [];
    const etags: (string | undefined)[] = [];
    const editor: Editor<string[]> = {
      attempts,
      async read() {
        const r = await client.GET("/api-keys");
        const value = unwrap(r)["api-keys"];
        reads.push([...value]);
        etags.push(etagOf(r));
        return { value, etag: etagOf(r) };
      },
      async write(next, ifMatch) {
        writes.push([...next]);
        assert.equal(ifMatch, etags.at(-1), "the write is conditional on the latest read");
        return unwrap(await client.PUT("/api-keys", { body: next, params: { header: withIfMatch(ifMatch) } }));
      },
    };
    return { editor, reads, writes };
  }

  async function appendKey(key: string): Promise<void> {
    const keys = unwrap(await client.GET("/api-keys"))["api-keys"];
    unwrap(await client.PUT("/api-keys", { body: [...keys, key] }));
  }

  it("edit recomputes from the fresh state after a 412 and keeps the concurrent change", async () => {
    unwrap(await client.PUT("/api-keys", { body: ["k1"] }));
    const { editor, reads, writes } = recordingEditor(3);
    let rounds = 0;
    await edit(editor, async (keys) => {
      rounds++;
      if (rounds <= 2) {
        await appendKey(`other-${rounds}`); // a concurrent writer gets in first
      }
      return [...keys, "mine"];
    });
    assert.equal(rounds, 3);
    assert.equal(writes.length, 3);
    writes.forEach((w, i) => assert.deepEqual(w, [...(reads[i] ?? []), "mine"], `round ${i} wrote from its own read`));
    assert.deepEqual(unwrap(await client.GET("/api-keys"))["api-keys"], ["k1", "other-1", "other-2", "mine"]);
  });

  it("edit gives up after its attempts with the 412, and stops at once on other errors", async () => {
    unwrap(await client.PUT("/api-keys", { body: ["k1"] }));
    const busy = recordingEditor(2);
    let n = 0;
    await assert.rejects(
      edit(busy.editor, async (keys) => {
        await appendKey(`other-${++n}`);
        return [...keys, "mine"];
      }),
      (err: unknown) => isConfigChanged(err),
    );
    assert.equal(busy.writes.length, 2);
    assert.deepEqual(unwrap(await client.GET("/api-keys"))["api-keys"], ["k1", "other-1", "other-2"]);

    const bad = recordingEditor(5);
    await assert.rejects(edit(bad.editor, () => [""]), (err: unknown) => err instanceof ManagementApiError && err.status === 400);
    assert.equal(bad.writes.length, 1);

    let wrote = false;
    await assert.rejects(
      edit({ read: async () => ({ value: 1, etag: undefined }), write: async () => (wrote = true) }, (v) => v + 1),
      /no ETag/,
    );
    assert.equal(wrote, false);
  });
});
