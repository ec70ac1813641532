// Shared by the SDK tests: a fake upstream that speaks every provider
// protocol (streaming included), and the real server binary started on a
// temporary config that points its providers at that upstream.
//
// The binary is $CPA_BIN (relative paths are taken from the current
// directory) or ../../bin/cli-proxy-api from this folder; `make test-sdk`
// builds it first.

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer as createHTTPServer } from "node:http";
import { createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";

export const CLIENT_KEY = "sdk-client-key";
export const WRONG_KEY = "sdk-wrong-key";
export const UPSTREAM_KEYS = {
  openai: "up-openai-key",
  codex: "up-codex-key",
  claude: "up-claude-key",
  gemini: "up-gemini-key",
};

// Model names the tests use. Aliased ones show that the server maps the
// client-facing name to the upstream's; the others come from the built-in
// catalogue of keys without a models list.
export const MODELS = {
  chat: "sdk-chat", // alias of up-chat (openai-compatibility)
  chatUpstream: "up-chat",
  limited: "sdk-limited", // alias of up-limited, whose upstream always answers 429
  responses: "sdk-resp", // alias of up-resp (codex-api-key)
  responsesUpstream: "up-resp",
  claude: "claude-haiku-4-5-20251001", // catalogue (claude-api-key)
  gemini: "gemini-2.5-flash", // catalogue (gemini-api-key)
  embed: "sdk-embed", // alias of up-embed (openai-compatibility): an embedding model by its name
  embedUpstream: "up-embed",
  geminiEmbed: "gemini-embedding-001", // built-in embedding model of gemini-api-key
  image: "sdk-image", // alias of up-image (openai-compatibility): an image model by its name
  imageUpstream: "up-image",
};

const READY_TIMEOUT_MS = 20_000;
const here = path.dirname(fileURLToPath(import.meta.url));
const binary = process.env.CPA_BIN
  ? path.resolve(process.cwd(), process.env.CPA_BIN)
  : path.resolve(here, "../../bin/cli-proxy-api");

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createNetServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function sendJSON(res, status, value) {
  const body = JSON.stringify(value);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
  res.end(body);
}

// The tool call every fake answers with when the request offers tools.
export const TOOL_CALL = { id: "call_fake_1", name: "get_weather", args: { city: "Paris" } };

// The text every fake answers with, split the way the streams send it.
export const STREAM_PIECES = ["Hel", "lo from ", "the fake upstream"];
export const FULL_TEXT = STREAM_PIECES.join("");

// The image every fake image answer holds (base64).
export const IMAGE_B64 = Buffer.from("fake-png-bytes").toString("base64");

// startFakeUpstream serves, under one port:
//   /openai/chat/completions, /openai/completions  (OpenAI)
//   /openai/embeddings, /openai/images/generations (OpenAI)
//   /codex/responses                               (OpenAI Responses)
//   /claude/v1/messages, /claude/v1/messages/count_tokens (Anthropic)
//   /gemini/v1beta/models/{model}:{method}         (Gemini, embeddings too)
// Every request is recorded (method, path, headers, parsed body). A stream
// sends its first event, then waits for release() before sending the rest,
// so a test can prove the first chunk reached the SDK before the upstream
// sent the second.
export async function startFakeUpstream() {
  const requests = [];
  let waiters = [];
  // stalls counts streams whose first event did not reach the SDK within
  // 5 s (a server that buffers): they go on, and the test fails.
  const stalls = [];
  const hold = (what) =>
    new Promise((resolve) => {
      const t = setTimeout(() => {
        stalls.push(what);
        resolve();
      }, 5_000);
      waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  const release = () => {
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  };

  // writeEvents writes SSE events: the first at once, the rest after release.
  async function writeEvents(res, events, sep = "\n\n") {
    res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" });
    const gate = hold(res.req.url);
    res.write(events[0] + sep);
    await gate;
    for (const e of events.slice(1)) {
      res.write(e + sep);
      await sleep(2);
    }
    res.end();
  }

  const server = createHTTPServer(async (req, res) => {
    const raw = await readBody(req);
    let body = null;
    try {
      body = raw ? JSON.parse(raw) : null;
    } catch {
      body = raw;
    }
    const url = new URL(req.url, "http://upstream");
    const rec = { method: req.method, path: url.pathname, query: url.search, headers: req.headers, body };
    requests.push(rec);
    try {
      if (url.pathname.startsWith("/openai/")) return await openAI(url.pathname.slice(7), body, res);
      if (url.pathname === "/codex/responses") return await responses(body, res);
      if (url.pathname.startsWith("/claude/v1/messages")) return await claude(url.pathname.slice(7), body, res);
      if (url.pathname.startsWith("/gemini/v1beta/models/")) {
        const rest = decodeURIComponent(url.pathname.slice("/gemini/v1beta/models/".length));
        const i = rest.lastIndexOf(":");
        return await gemini(rest.slice(0, i), rest.slice(i + 1), body, res);
      }
      sendJSON(res, 404, { error: { message: `fake upstream: no route ${req.method} ${url.pathname}` } });
    } catch (err) {
      if (!res.headersSent) sendJSON(res, 500, { error: { message: String(err) } });
      else res.destroy();
    }
  });

  // --- OpenAI Chat Completions and legacy Completions
  async function openAI(route, body, res) {
    if (route === "/embeddings") return openAIEmbeddings(body, res);
    if (route === "/images/generations") {
      return sendJSON(res, 200, { created: 1_700_000_000, data: [{ b64_json: IMAGE_B64 }], usage: { input_tokens: 9, output_tokens: 272, total_tokens: 281 } });
    }
    const text = lastUserText(body);
    if (body?.model === "up-limited") {
      const raw = JSON.stringify({ error: { message: "fake upstream: rate limit reached", type: "rate_limit_error", param: null, code: "rate_limit_exceeded" } });
      res.writeHead(429, { "Content-Type": "application/json", "Retry-After": "30" });
      return res.end(raw);
    }
    if (text.includes("fail-400")) {
      return sendJSON(res, 400, {
        error: { message: "fake upstream refuses: temperature too high", type: "invalid_request_error", param: "temperature", code: "bad_temperature" },
      });
    }
    const created = 1_700_000_000;
    if (route === "/completions") {
      return sendJSON(res, 200, {
        id: "cmpl-fake-1",
        object: "text_completion",
        created,
        model: body.model,
        choices: [{ text: FULL_TEXT, index: 0, logprobs: null, finish_reason: "stop" }],
        usage: { prompt_tokens: 4, completion_tokens: 6, total_tokens: 10 },
      });
    }
    const usage = { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 };
    if (body.tools?.length) return await toolAnswer("openai", body, res);
    if (!body.stream) {
      return sendJSON(res, 200, {
        id: "chatcmpl-fake-1",
        object: "chat.completion",
        created,
        model: body.model,
        choices: [{ index: 0, message: { role: "assistant", content: FULL_TEXT, refusal: null }, logprobs: null, finish_reason: "stop" }],
        usage,
      });
    }
    const chunk = (choices, extra = {}) =>
      "data: " + JSON.stringify({ id: "chatcmpl-fake-2", object: "chat.completion.chunk", created, model: body.model, choices, ...extra });
    const events = STREAM_PIECES.map((p, i) =>
      chunk([{ index: 0, delta: i === 0 ? { role: "assistant", content: p } : { content: p }, finish_reason: null }]),
    );
    events.push(chunk([{ index: 0, delta: {}, finish_reason: "stop" }]));
    if (body.stream_options?.include_usage) events.push(chunk([], { usage }));
    events.push("data: [DONE]");
    await writeEvents(res, events);
  }

  // --- OpenAI embeddings: input i embeds as [i + 0.5, -1], in the
  // encoding asked for (the SDK asks for base64 unless told otherwise).
  function openAIEmbeddings(body, res) {
    const inputs = Array.isArray(body.input) ? body.input : [body.input];
    const data = inputs.map((_, i) => {
      const v = [i + 0.5, -1];
      const embedding = body.encoding_format === "base64" ? Buffer.from(new Float32Array(v).buffer).toString("base64") : v;
      return { object: "embedding", index: i, embedding };
    });
    sendJSON(res, 200, { object: "list", data, model: body.model, usage: { prompt_tokens: 3, total_tokens: 3 } });
  }

  // --- OpenAI Responses
  async function responses(body, res) {
    if (body.tools?.length) return await toolAnswer("responses", body, res);
    const usage = {
      input_tokens: 13,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: 9,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 22,
    };
    const base = {
      id: "resp_fake_1",
      object: "response",
      created_at: 1_700_000_000,
      model: body.model,
      error: null,
      incomplete_details: null,
      instructions: null,
      parallel_tool_calls: true,
      tool_choice: "auto",
      tools: [],
      temperature: 1,
      top_p: 1,
      metadata: {},
    };
    const item = (text, status) => ({
      id: "msg_fake_1",
      type: "message",
      status,
      role: "assistant",
      content: [{ type: "output_text", text, annotations: [] }],
    });
    const done = { ...base, status: "completed", output: [item(FULL_TEXT, "completed")], usage };
    if (!body.stream) return sendJSON(res, 200, done);
    let seq = 0;
    const ev = (type, data) => `event: ${type}\ndata: ` + JSON.stringify({ type, sequence_number: seq++, ...data });
    const pending = { ...base, status: "in_progress", output: [], usage: null };
    const events = [
      ev("response.created", { response: pending }),
      ev("response.in_progress", { response: pending }),
      ev("response.output_item.added", { output_index: 0, item: { ...item("", "in_progress"), content: [] } }),
      ev("response.content_part.added", {
        item_id: "msg_fake_1",
        output_index: 0,
        content_index: 0,
        part: { type: "output_text", text: "", annotations: [] },
      }),
      ...STREAM_PIECES.map((delta) =>
        ev("response.output_text.delta", { item_id: "msg_fake_1", output_index: 0, content_index: 0, delta }),
      ),
      ev("response.output_text.done", { item_id: "msg_fake_1", output_index: 0, content_index: 0, text: FULL_TEXT }),
      ev("response.content_part.done", {
        item_id: "msg_fake_1",
        output_index: 0,
        content_index: 0,
        part: { type: "output_text", text: FULL_TEXT, annotations: [] },
      }),
      ev("response.output_item.done", { output_index: 0, item: item(FULL_TEXT, "completed") }),
      ev("response.completed", { response: done }),
    ];
    // The first event waits for release: move the first delta to the front
    // of the gate by sending everything up to it at once.
    const firstDelta = events.findIndex((e) => e.includes("response.output_text.delta"));
    await writeEvents(res, [events.slice(0, firstDelta + 1).join("\n\n"), ...events.slice(firstDelta + 1)]);
  }

  // --- Anthropic Messages
  async function claude(route, body, res) {
    if (route.endsWith("/count_tokens")) {
      return sendJSON(res, 200, { input_tokens: 42 });
    }
    if (lastUserText(body).includes("fail-400")) {
      return sendJSON(res, 400, {
        type: "error",
        error: { type: "invalid_request_error", message: "fake upstream refuses: max_tokens too large" },
        request_id: "req_fake_1",
      });
    }
    if (body.tools?.length) return await toolAnswer("claude", body, res);
    const message = (content, stop_reason, usage) => ({
      id: "msg_fake_1",
      type: "message",
      role: "assistant",
      model: body.model,
      content,
      stop_reason,
      stop_sequence: null,
      usage,
    });
    if (!body.stream) {
      return sendJSON(res, 200, message([{ type: "text", text: FULL_TEXT }], "end_turn", { input_tokens: 12, output_tokens: 8 }));
    }
    const ev = (type, data) => `event: ${type}\ndata: ` + JSON.stringify({ type, ...data });
    const events = [
      ev("message_start", { message: message([], null, { input_tokens: 12, output_tokens: 1 }) }) +
        "\n\n" +
        ev("content_block_start", { index: 0, content_block: { type: "text", text: "" } }) +
        "\n\n" +
        ev("ping", {}) +
        "\n\n" +
        ev("content_block_delta", { index: 0, delta: { type: "text_delta", text: STREAM_PIECES[0] } }),
      ...STREAM_PIECES.slice(1).map((text) => ev("content_block_delta", { index: 0, delta: { type: "text_delta", text } })),
      ev("content_block_stop", { index: 0 }),
      ev("message_delta", { delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: 8 } }),
      ev("message_stop", {}),
    ];
    await writeEvents(res, events);
  }

  // --- Gemini (Generative Language API)
  async function gemini(model, method, body, res) {
    if (method === "countTokens") return sendJSON(res, 200, { totalTokens: 31 });
    // Embeddings: request i embeds as [i, 0.25]; one content as [0.25, 0.5].
    if (method === "batchEmbedContents") return sendJSON(res, 200, { embeddings: body.requests.map((_, i) => ({ values: [i, 0.25] })) });
    if (method === "embedContent") return sendJSON(res, 200, { embedding: { values: [0.25, 0.5] } });
    if (body?.tools?.some((t) => t.functionDeclarations?.length)) return await toolAnswer(method === "streamGenerateContent" ? "gemini-stream" : "gemini", body, res);
    const usageMetadata = { promptTokenCount: 5, candidatesTokenCount: 6, totalTokenCount: 11 };
    const answer = (text, finishReason, usage) => ({
      candidates: [{ content: { role: "model", parts: [{ text }] }, ...(finishReason ? { finishReason } : {}), index: 0 }],
      ...(usage ? { usageMetadata: usage } : {}),
      modelVersion: model,
      responseId: "fake-gemini-1",
    });
    if (method === "generateContent") return sendJSON(res, 200, answer(FULL_TEXT, "STOP", usageMetadata));
    if (method !== "streamGenerateContent") return sendJSON(res, 404, { error: { code: 404, message: "no such method", status: "NOT_FOUND" } });
    // Google ends its SSE events with CRLF pairs.
    const events = STREAM_PIECES.map(
      (p, i) => "data: " + JSON.stringify(answer(p, i === STREAM_PIECES.length - 1 ? "STOP" : null, i === STREAM_PIECES.length - 1 ? usageMetadata : null)),
    );
    await writeEvents(res, events, "\r\n\r\n");
  }

  // toolAnswer answers a request that offers tools with one call of
  // TOOL_CALL.name (id TOOL_CALL.id), whole or streamed with its arguments
  // split in two, in kind's protocol.
  async function toolAnswer(kind, body, res) {
    const args = JSON.stringify(TOOL_CALL.args);
    const [a1, a2] = [args.slice(0, 9), args.slice(9)];
    const stream = kind === "gemini-stream" || (kind !== "gemini" && body.stream);
    if (kind === "openai") {
      const msg = { role: "assistant", content: null, tool_calls: [{ id: TOOL_CALL.id, type: "function", function: { name: TOOL_CALL.name, arguments: args } }] };
      const base = { id: "chatcmpl-tool", object: "chat.completion", created: 1_700_000_000, model: body.model };
      if (!stream) return sendJSON(res, 200, { ...base, choices: [{ index: 0, message: msg, finish_reason: "tool_calls" }], usage: { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 } });
      const chunk = (delta, finish_reason = null) => "data: " + JSON.stringify({ ...base, object: "chat.completion.chunk", choices: [{ index: 0, delta, finish_reason }] });
      return await writeEvents(res, [
        chunk({ role: "assistant", tool_calls: [{ index: 0, id: TOOL_CALL.id, type: "function", function: { name: TOOL_CALL.name, arguments: "" } }] }),
        chunk({ tool_calls: [{ index: 0, function: { arguments: a1 } }] }),
        chunk({ tool_calls: [{ index: 0, function: { arguments: a2 } }] }),
        chunk({}, "tool_calls"),
        "data: [DONE]",
      ]);
    }
    if (kind === "responses") {
      const item = { id: "fc_1", type: "function_call", status: "completed", call_id: TOOL_CALL.id, name: TOOL_CALL.name, arguments: args };
      const done = { id: "resp_tool", object: "response", created_at: 1_700_000_000, status: "completed", model: body.model, output: [item], usage: { input_tokens: 11, output_tokens: 7, total_tokens: 18 } };
      if (!stream) return sendJSON(res, 200, done);
      const ev = (type, data) => `event: ${type}\ndata: ` + JSON.stringify({ type, ...data });
      return await writeEvents(res, [
        ev("response.created", { response: { ...done, status: "in_progress", output: [] } }) + "\n\n" +
          ev("response.output_item.added", { output_index: 0, item: { ...item, status: "in_progress", arguments: "" } }),
        ev("response.function_call_arguments.delta", { output_index: 0, item_id: "fc_1", delta: a1 }),
        ev("response.function_call_arguments.delta", { output_index: 0, item_id: "fc_1", delta: a2 }),
        ev("response.output_item.done", { output_index: 0, item }),
        ev("response.completed", { response: done }),
      ]);
    }
    if (kind === "claude") {
      const msg = { id: "msg_tool", type: "message", role: "assistant", model: body.model, stop_sequence: null };
      if (!stream) return sendJSON(res, 200, { ...msg, content: [{ type: "tool_use", id: TOOL_CALL.id, name: TOOL_CALL.name, input: TOOL_CALL.args }], stop_reason: "tool_use", usage: { input_tokens: 11, output_tokens: 7 } });
      const ev = (type, data) => `event: ${type}\ndata: ` + JSON.stringify({ type, ...data });
      return await writeEvents(res, [
        ev("message_start", { message: { ...msg, content: [], stop_reason: null, usage: { input_tokens: 11, output_tokens: 1 } } }) + "\n\n" +
          ev("content_block_start", { index: 0, content_block: { type: "tool_use", id: TOOL_CALL.id, name: TOOL_CALL.name, input: {} } }),
        ev("content_block_delta", { index: 0, delta: { type: "input_json_delta", partial_json: a1 } }),
        ev("content_block_delta", { index: 0, delta: { type: "input_json_delta", partial_json: a2 } }),
        ev("content_block_stop", { index: 0 }),
        ev("message_delta", { delta: { stop_reason: "tool_use", stop_sequence: null }, usage: { output_tokens: 7 } }),
        ev("message_stop", {}),
      ]);
    }
    const answer = {
      candidates: [{ content: { role: "model", parts: [{ functionCall: { id: TOOL_CALL.id, name: TOOL_CALL.name, args: TOOL_CALL.args } }] }, finishReason: "STOP", index: 0 }],
      usageMetadata: { promptTokenCount: 11, candidatesTokenCount: 7, totalTokenCount: 18 },
      modelVersion: "fake",
      responseId: "fake-gemini-tool",
    };
    if (!stream) return sendJSON(res, 200, answer);
    return await writeEvents(res, ["data: " + JSON.stringify({ ...answer, candidates: [{ content: { role: "model", parts: [{ text: "" }] }, index: 0 }] }), "data: " + JSON.stringify(answer)], "\r\n\r\n");
  }

  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    requests,
    release,
    stalls,
    /** The last recorded request whose path contains fragment. */
    last(fragment) {
      for (let i = requests.length - 1; i >= 0; i--) if (requests[i].path.includes(fragment)) return requests[i];
      throw new Error(`the fake upstream saw no request to ${fragment}; it saw ${requests.map((r) => r.path).join(", ")}`);
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function lastUserText(body) {
  const msgs = body?.messages;
  if (!Array.isArray(msgs) || msgs.length === 0) return typeof body?.prompt === "string" ? body.prompt : "";
  const c = msgs[msgs.length - 1].content;
  return typeof c === "string" ? c : JSON.stringify(c);
}

// clientKeyLeaks returns the upstream requests whose headers or query
// carry the client key (there must be none).
export function clientKeyLeaks(upstream) {
  return upstream.requests.filter(
    (r) => r.query.includes(CLIENT_KEY) || Object.values(r.headers).some((v) => String(v).includes(CLIENT_KEY)),
  );
}

// startServer writes a config pointing every provider kind at upstreamURL,
// starts the binary and waits for /healthz. A port taken by someone else
// between the probe and the server's listen is retried on another.
export async function startServer(upstreamURL) {
  if (!existsSync(binary)) {
    throw new Error(`server binary ${binary} not found: run 'make build' (or set CPA_BIN)`);
  }
  for (let attempt = 1; ; attempt++) {
    try {
      return await startServerOnce(upstreamURL);
    } catch (err) {
      if (attempt >= 3 || !/address already in use/i.test(String(err))) throw err;
    }
  }
}

async function startServerOnce(upstreamURL) {
  const dir = await mkdtemp(path.join(tmpdir(), "cpa-sdk-"));
  const port = await freePort();
  const config = `host: 127.0.0.1
port: ${port}
auth-dir: ${JSON.stringify(path.join(dir, "auths"))}
api-keys: [${JSON.stringify(CLIENT_KEY)}]
openai-compatibility:
  - name: fake-openai
    base-url: ${JSON.stringify(upstreamURL + "/openai")}
    api-key-entries: [{api-key: ${JSON.stringify(UPSTREAM_KEYS.openai)}}]
    models: [{name: ${MODELS.chatUpstream}, alias: ${MODELS.chat}}, {name: up-limited, alias: ${MODELS.limited}},
             {name: ${MODELS.embedUpstream}, alias: ${MODELS.embed}}, {name: ${MODELS.imageUpstream}, alias: ${MODELS.image}}]
codex-api-key:
  - api-key: ${JSON.stringify(UPSTREAM_KEYS.codex)}
    base-url: ${JSON.stringify(upstreamURL + "/codex")}
    models: [{name: ${MODELS.responsesUpstream}, alias: ${MODELS.responses}}]
claude-api-key:
  - api-key: ${JSON.stringify(UPSTREAM_KEYS.claude)}
    base-url: ${JSON.stringify(upstreamURL + "/claude")}
gemini-api-key:
  - api-key: ${JSON.stringify(UPSTREAM_KEYS.gemini)}
    base-url: ${JSON.stringify(upstreamURL + "/gemini")}
`;
  const configPath = path.join(dir, "config.yaml");
  await writeFile(configPath, config, { mode: 0o600 });
  let log = "";
  const proc = spawn(binary, ["-config", configPath], { stdio: ["ignore", "pipe", "pipe"] });
  proc.stdout.on("data", (d) => (log += d));
  proc.stderr.on("data", (d) => (log += d));
  const kill = () => proc.exitCode === null && proc.signalCode === null && proc.kill("SIGKILL");
  process.on("exit", kill);
  const origin = `http://127.0.0.1:${port}`;

  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last = "no answer yet";
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      process.off("exit", kill);
      await rm(dir, { recursive: true, force: true });
      throw new Error(`server exited early (code ${proc.exitCode}, signal ${proc.signalCode}):\n${log}`);
    }
    try {
      const res = await fetch(`${origin}/healthz`, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      if (res.status === 200) break;
      last = `status ${res.status}`;
    } catch (err) {
      last = String(err);
    }
    if (Date.now() > deadline) {
      kill();
      process.off("exit", kill);
      await rm(dir, { recursive: true, force: true });
      throw new Error(`server not ready after ${READY_TIMEOUT_MS} ms (${last}):\n${log}`);
    }
    await sleep(50);
  }

  return {
    origin,
    // auth-dir: OAuth-account files written here serve at once.
    authDir: path.join(dir, "auths"),
    log: () => log,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        const exited = new Promise((resolve) => proc.once("exit", resolve));
        proc.kill("SIGTERM");
        const timer = setTimeout(kill, 5_000);
        await exited;
        clearTimeout(timer);
      }
      process.off("exit", kill);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

// startAll starts a fake upstream and the server in front of it.
export async function startAll() {
  const upstream = await startFakeUpstream();
  let server;
  try {
    server = await startServer(upstream.url);
  } catch (err) {
    await upstream.close();
    throw err;
  }
  return {
    upstream,
    server,
    async stop() {
      await server.stop();
      await upstream.close();
    },
  };
}
