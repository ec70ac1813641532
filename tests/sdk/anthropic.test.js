// The official Anthropic SDK (npm "@anthropic-ai/sdk"), unchanged, pointed
// at the server: Messages (streamed and not), count_tokens, the model list,
// and its typed errors.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";

import Anthropic from "@anthropic-ai/sdk";

import { CLIENT_KEY, FULL_TEXT, MODELS, STREAM_PIECES, UPSTREAM_KEYS, WRONG_KEY, clientKeyLeaks, startAll } from "./harness.js";

const ask = { model: MODELS.claude, max_tokens: 64, messages: [{ role: "user", content: "Say hello" }] };

describe("anthropic SDK", () => {
  let env;
  let client;
  before(async () => {
    env = await startAll();
    // authToken: null so that an ANTHROPIC_AUTH_TOKEN in the environment is
    // not sent as well.
    client = new Anthropic({ apiKey: CLIENT_KEY, authToken: null, baseURL: env.server.origin, maxRetries: 0, timeout: 10_000 });
  });
  after(async () => {
    if (env) {
      assert.deepEqual(clientKeyLeaks(env.upstream), [], "the client key reached the upstream");
      assert.deepEqual(env.upstream.stalls, [], "streams whose first event was held back by the server");
      await env.stop();
    }
  });

  it("messages.create: text, stop reason, usage; upstream key and version header", async () => {
    const msg = await client.messages.create(ask);
    assert.equal(msg.type, "message");
    assert.equal(msg.role, "assistant");
    assert.deepEqual(msg.content, [{ type: "text", text: FULL_TEXT }]);
    assert.equal(msg.stop_reason, "end_turn");
    assert.equal(msg.usage.input_tokens, 12);
    assert.equal(msg.usage.output_tokens, 8);

    const seen = env.upstream.last("/claude/v1/messages");
    assert.equal(seen.path, "/claude/v1/messages");
    assert.equal(seen.body.model, MODELS.claude);
    assert.equal(seen.body.max_tokens, 64);
    assert.equal(seen.headers["x-api-key"], UPSTREAM_KEYS.claude);
    assert.ok(seen.headers["anthropic-version"], "the SDK's anthropic-version is passed on");
    assert.match(seen.headers["user-agent"], /^Anthropic\/JS /);
  });

  it("messages.create stream: raw events in order, deltas one by one", async () => {
    const stream = await client.messages.create({ ...ask, stream: true });
    const types = [];
    const deltas = [];
    let outputTokens = null;
    for await (const ev of stream) {
      types.push(ev.type);
      if (ev.type === "content_block_delta" && ev.delta.type === "text_delta") {
        deltas.push(ev.delta.text);
        if (deltas.length === 1) env.upstream.release();
      }
      if (ev.type === "message_delta") outputTokens = ev.usage.output_tokens;
    }
    assert.deepEqual(deltas, STREAM_PIECES);
    assert.deepEqual(types, [
      "message_start",
      "content_block_start",
      "content_block_delta",
      "content_block_delta",
      "content_block_delta",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
    assert.equal(outputTokens, 8);
    assert.equal(env.upstream.last("/claude/v1/messages").body.stream, true);
  });

  it("messages.stream helper: text events and finalMessage", async () => {
    const stream = client.messages.stream(ask);
    const deltas = [];
    stream.on("text", (delta) => {
      deltas.push(delta);
      if (deltas.length === 1) env.upstream.release();
    });
    const final = await stream.finalMessage();
    assert.deepEqual(deltas, STREAM_PIECES);
    assert.deepEqual(final.content, [{ type: "text", text: FULL_TEXT }]);
    assert.equal(final.stop_reason, "end_turn");
    assert.equal(final.usage.input_tokens, 12);
    assert.equal(final.usage.output_tokens, 8);
  });

  it("beta.messages.create (as Claude Code calls it): anthropic-beta passed on", async () => {
    const msg = await client.beta.messages.create({ ...ask, betas: ["interleaved-thinking-2025-05-14"] });
    assert.deepEqual(msg.content, [{ type: "text", text: FULL_TEXT }]);
    const seen = env.upstream.last("/claude/v1/messages");
    assert.equal(seen.headers["anthropic-beta"], "interleaved-thinking-2025-05-14");
    assert.equal(seen.headers["x-api-key"], UPSTREAM_KEYS.claude);
  });

  it("authToken (Authorization: Bearer) instead of an API key", async () => {
    const bearer = new Anthropic({ apiKey: null, authToken: CLIENT_KEY, baseURL: env.server.origin, maxRetries: 0 });
    const msg = await bearer.messages.create(ask);
    assert.equal(msg.content[0].text, FULL_TEXT);
    assert.equal(env.upstream.last("/claude/v1/messages").headers.authorization, `Bearer ${UPSTREAM_KEYS.claude}`);
  });

  it("messages.countTokens", async () => {
    const res = await client.messages.countTokens({ model: MODELS.claude, messages: ask.messages });
    assert.deepEqual(res, { input_tokens: 42 });
    const seen = env.upstream.last("/claude/v1/messages/count_tokens");
    assert.equal(seen.body.model, MODELS.claude);
    assert.equal(seen.headers["x-api-key"], UPSTREAM_KEYS.claude);
  });

  it("unknown model: NotFoundError with not_found_error naming the model", async () => {
    await assert.rejects(client.messages.create({ ...ask, model: "claude-no-such-model" }), (err) => {
      assert.ok(err instanceof Anthropic.NotFoundError, `got ${err?.constructor?.name}: ${err}`);
      assert.equal(err.status, 404);
      assert.equal(err.error?.type, "error");
      assert.equal(err.error?.error?.type, "not_found_error");
      assert.match(err.message, /claude-no-such-model/);
      return true;
    });
  });

  it("wrong key: AuthenticationError with authentication_error", async () => {
    const bad = new Anthropic({ apiKey: WRONG_KEY, authToken: null, baseURL: env.server.origin, maxRetries: 0 });
    await assert.rejects(bad.messages.create(ask), (err) => {
      assert.ok(err instanceof Anthropic.AuthenticationError, `got ${err?.constructor?.name}: ${err}`);
      assert.equal(err.status, 401);
      assert.equal(err.error?.error?.type, "authentication_error");
      return true;
    });
  });

  it("upstream 400: BadRequestError with the upstream's own error body", async () => {
    await assert.rejects(client.messages.create({ ...ask, messages: [{ role: "user", content: "fail-400" }] }), (err) => {
      assert.ok(err instanceof Anthropic.BadRequestError, `got ${err?.constructor?.name}: ${err}`);
      assert.equal(err.status, 400);
      assert.equal(err.error?.error?.type, "invalid_request_error");
      assert.match(err.message, /max_tokens too large/);
      return true;
    });
  });

  it("models.list and models.retrieve: every model in Anthropic's shape", async () => {
    const ids = [];
    for await (const m of client.models.list()) {
      assert.equal(m.type, "model");
      ids.push(m.id);
    }
    assert.ok(ids.includes(MODELS.claude), `list has ${MODELS.claude}: ${ids}`);
    // Models of other protocols are reached by translation, so listed too.
    assert.ok(ids.includes(MODELS.chat) && ids.includes(MODELS.gemini), `every model is listed: ${ids}`);
    const m = await client.models.retrieve(MODELS.claude);
    assert.equal(m.id, MODELS.claude);
    assert.equal(m.type, "model");
    assert.equal((await client.models.retrieve(MODELS.chat)).type, "model");
    await assert.rejects(client.models.retrieve("no-such-model"), Anthropic.NotFoundError);
  });
});
