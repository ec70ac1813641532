// A watch on config changes (GET /events, server-sent events), the same
// helper as the Go SDK's mgmtclient.Watch.

import type { components } from "./schema.js";
import { ManagementApiError } from "./errors.js";

/** The data of a `change` event: one accepted config change. */
export type ConfigChangeEvent = components["schemas"]["ConfigChangeEvent"];

/**
 * One event of the stream. `reset` says events were missed and are gone
 * (or the server restarted): re-read everything you keep.
 */
export type WatchEvent =
  | { type: "change"; id: string; data: ConfigChangeEvent }
  | { type: "reset"; id: string };

export interface WatchOptions {
  /** The server's origin or its management root, as for createManagementClient. */
  baseUrl: string;
  /** The management key. */
  key: string;
  /** The id of the last event seen: the missed ones are sent first. */
  lastEventId?: string;
  /** Stops the watch; watch() then resolves with the last id seen. */
  signal?: AbortSignal;
  /** A fetch to use instead of `globalThis.fetch`. */
  fetch?: typeof globalThis.fetch;
}

/**
 * Streams config changes to `onEvent` until the server ends the stream or
 * `signal` aborts, and resolves with the id of the last event seen: call
 * watch() again with it as `lastEventId` to resume without missing one.
 * A refused stream (401, 403, 429 …) rejects with a ManagementApiError.
 *
 * ```ts
 * const ac = new AbortController();
 * const last = await watch({ baseUrl, key, signal: ac.signal }, (ev) => {
 *   if (ev.type === "change") console.log(ev.data.source, ev.data.paths);
 * });
 * ```
 */
export async function watch(options: WatchOptions, onEvent: (event: WatchEvent) => void | Promise<void>): Promise<string> {
  const doFetch = options.fetch ?? globalThis.fetch;
  const root = options.baseUrl.replace(/\/+$/, "");
  const url = (root.endsWith("/v0/management") ? root : `${root}/v0/management`) + "/events";
  const headers: Record<string, string> = { Authorization: `Bearer ${options.key}`, Accept: "text/event-stream" };
  let lastId = options.lastEventId ?? "";
  if (lastId !== "") {
    headers["Last-Event-ID"] = lastId;
  }
  let response: Response;
  try {
    response = await doFetch(url, { headers, signal: options.signal });
  } catch (err) {
    if (options.signal?.aborted) {
      return lastId;
    }
    throw err;
  }
  if (!response.ok || response.body === null) {
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    throw new ManagementApiError(response, body);
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) {
        return lastId;
      }
      buffered += value.replace(/\r\n?/g, "\n");
      let end: number;
      while ((end = buffered.indexOf("\n\n")) >= 0) {
        const block = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        const event = parseEvent(block);
        if (event === undefined) {
          continue; // a heartbeat comment
        }
        lastId = event.id || lastId;
        await onEvent(event);
      }
    }
  } catch (err) {
    if (options.signal?.aborted) {
      return lastId;
    }
    throw err;
  } finally {
    reader.releaseLock();
  }
}

/** One SSE block: `event:`, `id:` and `data:` lines; comments start with ':'. */
function parseEvent(block: string): WatchEvent | undefined {
  let name = "message";
  let id = "";
  const data: string[] = [];
  for (const line of block.split("\n")) {
    if (line === "" || line.startsWith(":")) {
      continue;
    }
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") name = value;
    else if (field === "id") id = value;
    else if (field === "data") data.push(value);
  }
  if (name === "reset") {
    return { type: "reset", id };
  }
  if (name === "change" && data.length > 0) {
    return { type: "change", id, data: JSON.parse(data.join("\n")) as ConfigChangeEvent };
  }
  return undefined;
}
