// The watch helper against the real server: a change made through the API
// arrives as one event, and a watch resumed with the last id sees only what
// came after.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";

import { createManagementClient, watch, type ManagementClient, type WatchEvent } from "../src/client.js";
import { KEY, startServer, type RunningServer } from "./server.js";

let server: RunningServer;
let client: ManagementClient;

describe("watch()", () => {
  before(async () => {
    server = await startServer();
    client = createManagementClient({ baseUrl: server.origin, key: KEY });
  });
  after(async () => {
    await server?.stop();
  });

  it("delivers one change event per write and resumes from the last id", async () => {
    const ac = new AbortController();
    const seen: WatchEvent[] = [];
    let resolveFirst!: () => void;
    const first = new Promise<void>((r) => (resolveFirst = r));
    const watching = watch({ baseUrl: server.origin, key: KEY, signal: ac.signal }, (ev) => {
      seen.push(ev);
      if (ev.type === "change") {
        resolveFirst();
      }
    });
    // The stream is open once the server has sent its headers; a write
    // before that is not an event of this watch. Retry the write until
    // the event arrives, as a watcher would see the next one anyway.
    for (let i = 0; i < 50 && seen.length === 0; i++) {
      const res = await client.PUT("/debug", { body: { value: i % 2 === 0 } });
      assert.equal(res.response.status, 200);
      await Promise.race([first, new Promise((r) => setTimeout(r, 100))]);
    }
    ac.abort();
    const lastId = await watching;
    const change = seen.find((e) => e.type === "change");
    assert.ok(change && change.type === "change", JSON.stringify(seen));
    assert.equal(change.data.source, "api");
    assert.deepEqual(change.data.paths, ["debug"]);
    assert.ok(lastId !== "", "watch() resolves with the last id");

    // A change while nobody watches is replayed to a watch resumed from lastId.
    const res = await client.PUT("/request-retry", { body: { value: 7 } });
    assert.equal(res.response.status, 200);
    const ac2 = new AbortController();
    const replayed: WatchEvent[] = [];
    await watch({ baseUrl: server.origin, key: KEY, lastEventId: lastId, signal: ac2.signal }, (ev) => {
      replayed.push(ev);
      ac2.abort();
    });
    const ev = replayed[0];
    assert.ok(ev && ev.type === "change", JSON.stringify(replayed));
    assert.deepEqual(ev.data.paths, ["request-retry"]);
  });

  it("a wrong key is a ManagementApiError", async () => {
    await assert.rejects(watch({ baseUrl: server.origin, key: "wrong" }, () => {}), (err: unknown) => {
      return err instanceof Error && err.name === "ManagementApiError" && (err as { status?: number }).status === 401;
    });
  });
});
