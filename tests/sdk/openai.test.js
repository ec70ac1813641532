// The official OpenAI SDK (npm "openai"), unchanged, pointed at the server:
// Chat Completions (streamed and not), legacy Completions, the Responses API
// (streamed and not), embeddings, image generation, the model list, and its
// typed errors.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";

import OpenAI from "openai";

import { CLIENT_KEY, FULL_TEXT, IMAGE_B64, MODELS, STREAM_PIECES, UPSTREAM_KEYS, WRONG_KEY, clientKeyLeaks, startAll } from "./harness.js";

describe("openai SDK", () => {
  let env;
  let client;
  before(async () => {
    env = await startAll();
    client = new OpenAI({ apiKey: CLIENT_KEY, baseURL: `${env.server.origin}/v1`, maxRetries: 0, timeout: 10_000 });
  });
  after(async () => {
    if (env) {
      assert.deepEqual(clientKeyLeaks(env.upstream), [], "the client key reached the upstream");
      assert.deepEqual(env.upstream.stalls, [], "streams whose first event was held back by the server");
      await env.stop();
    }
  });

  it("chat.completions.create: answer, usage, alias mapped upstream, upstream key used", async () => {
    const res = await client.chat.completions.create({
      model: MODELS.chat,
      messages: [{ role: "user", content: "Say hello" }],
    });
    assert.equal(res.object, "chat.completion");
    assert.equal(res.choices[0].message.content, FULL_TEXT);
    assert.equal(res.choices[0].finish_reason, "stop");
    assert.deepEqual(res.usage, { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 });

    const seen = env.upstream.last("/openai/chat/completions");
    assert.equal(seen.body.model, MODELS.chatUpstream, "the alias is mapped to the upstream's name");
    assert.deepEqual(seen.body.messages, [{ role: "user", content: "Say hello" }]);
    assert.equal(seen.headers.authorization, `Bearer ${UPSTREAM_KEYS.openai}`);
    assert.match(seen.headers["user-agent"], /^OpenAI\/JS /, "the SDK's User-Agent is passed on");
    assert.ok(seen.headers["x-stainless-lang"], "X-Stainless-* headers are passed on");
  });

  it("chat.completions.create stream: chunks arrive one by one, in order, with usage", async () => {
    const stream = await client.chat.completions.create({
      model: MODELS.chat,
      messages: [{ role: "user", content: "Say hello" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const pieces = [];
    let usage = null;
    let finish = null;
    for await (const chunk of stream) {
      assert.equal(chunk.object, "chat.completion.chunk");
      const c = chunk.choices[0];
      if (c?.delta?.content) {
        pieces.push(c.delta.content);
        // The upstream holds the rest back until the first piece has come
        // through the server to the SDK: the server streams, not buffers.
        if (pieces.length === 1) env.upstream.release();
      }
      if (c?.finish_reason) finish = c.finish_reason;
      if (chunk.usage) usage = chunk.usage;
    }
    assert.deepEqual(pieces, STREAM_PIECES);
    assert.equal(finish, "stop");
    assert.deepEqual(usage, { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 });
    assert.equal(env.upstream.last("/openai/chat/completions").body.stream, true);
  });

  it("chat.completions.stream helper: finalChatCompletion assembles the text", async () => {
    const runner = client.chat.completions.stream({
      model: MODELS.chat,
      messages: [{ role: "user", content: "Say hello" }],
    });
    const deltas = [];
    runner.on("content", (delta) => {
      deltas.push(delta);
      if (deltas.length === 1) env.upstream.release();
    });
    const final = await runner.finalChatCompletion();
    assert.deepEqual(deltas, STREAM_PIECES);
    assert.equal(final.choices[0].message.content, FULL_TEXT);
  });

  it("completions.create (legacy Completions)", async () => {
    const res = await client.completions.create({ model: MODELS.chat, prompt: "Say hello", max_tokens: 16 });
    assert.equal(res.choices[0].text, FULL_TEXT);
    assert.equal(res.usage.total_tokens, 10);
    const seen = env.upstream.last("/openai/completions");
    assert.equal(seen.body.model, MODELS.chatUpstream);
    assert.equal(seen.body.prompt, "Say hello");
  });

  it("responses.create: output_text and usage", async () => {
    const res = await client.responses.create({ model: MODELS.responses, input: "Say hello" });
    assert.equal(res.object, "response");
    assert.equal(res.status, "completed");
    assert.equal(res.output_text, FULL_TEXT);
    assert.equal(res.usage.input_tokens, 13);
    assert.equal(res.usage.output_tokens, 9);
    assert.equal(res.usage.total_tokens, 22);
    const seen = env.upstream.last("/codex/responses");
    assert.equal(seen.body.model, MODELS.responsesUpstream);
    assert.equal(seen.body.input, "Say hello");
    assert.equal(seen.headers.authorization, `Bearer ${UPSTREAM_KEYS.codex}`);
  });

  it("responses.create stream: events in order, deltas one by one", async () => {
    const stream = await client.responses.create({ model: MODELS.responses, input: "Say hello", stream: true });
    const types = [];
    const deltas = [];
    let completed = null;
    for await (const ev of stream) {
      types.push(ev.type);
      if (ev.type === "response.output_text.delta") {
        deltas.push(ev.delta);
        if (deltas.length === 1) env.upstream.release();
      }
      if (ev.type === "response.completed") completed = ev.response;
    }
    assert.deepEqual(deltas, STREAM_PIECES);
    assert.equal(types[0], "response.created");
    assert.equal(types.at(-1), "response.completed");
    const seqOK = types.indexOf("response.output_item.added") < types.indexOf("response.output_text.delta");
    assert.ok(seqOK, `event order: ${types.join(", ")}`);
    assert.equal(completed.usage.total_tokens, 22);
  });

  it("responses.stream helper: finalResponse", async () => {
    const stream = client.responses.stream({ model: MODELS.responses, input: "Say hello" });
    const deltas = [];
    stream.on("response.output_text.delta", (ev) => {
      deltas.push(ev.delta);
      if (deltas.length === 1) env.upstream.release();
    });
    const final = await stream.finalResponse();
    assert.deepEqual(deltas, STREAM_PIECES);
    assert.equal(final.output_text, FULL_TEXT);
    assert.equal(final.usage.output_tokens, 9);
  });

  it("embeddings.create: passthrough to an OpenAI-compatible model, the SDK's base64 decoded", async () => {
    const res = await client.embeddings.create({ model: MODELS.embed, input: ["one", "two"] });
    assert.equal(res.object, "list");
    assert.deepEqual(
      res.data.map((d) => [d.index, d.embedding]),
      [
        [0, [0.5, -1]],
        [1, [1.5, -1]],
      ],
    );
    assert.deepEqual(res.usage, { prompt_tokens: 3, total_tokens: 3 });
    const seen = env.upstream.last("/openai/embeddings");
    assert.equal(seen.body.model, MODELS.embedUpstream, "the alias is mapped to the upstream's name");
    assert.deepEqual(seen.body.input, ["one", "two"]);
    assert.equal(seen.body.encoding_format, "base64", "the SDK's own encoding request passes as sent");
    assert.equal(seen.headers.authorization, `Bearer ${UPSTREAM_KEYS.openai}`);
  });

  it("embeddings.create: a Gemini model through batchEmbedContents, dimensions and base64 mapped", async () => {
    const res = await client.embeddings.create({ model: MODELS.geminiEmbed, input: ["a", "b"], dimensions: 8 });
    assert.deepEqual(
      res.data.map((d) => d.embedding),
      [
        [0, 0.25],
        [1, 0.25],
      ],
    );
    assert.equal(res.model, MODELS.geminiEmbed);
    assert.ok(res.usage.prompt_tokens > 0 && res.usage.total_tokens === res.usage.prompt_tokens, `estimated usage: ${JSON.stringify(res.usage)}`);
    const seen = env.upstream.last(":batchEmbedContents");
    assert.equal(seen.path, `/gemini/v1beta/models/${MODELS.geminiEmbed}:batchEmbedContents`);
    assert.deepEqual(
      seen.body.requests.map((r) => [r.model, r.content.parts[0].text, r.outputDimensionality]),
      [
        [`models/${MODELS.geminiEmbed}`, "a", 8],
        [`models/${MODELS.geminiEmbed}`, "b", 8],
      ],
    );
    assert.equal(seen.headers["x-goog-api-key"], UPSTREAM_KEYS.gemini);
  });

  it("embeddings.create with bad input: BadRequestError before any upstream call", async () => {
    const calls = env.upstream.requests.length;
    await assert.rejects(client.embeddings.create({ model: MODELS.embed, input: "" }), (err) => {
      assert.ok(err instanceof OpenAI.BadRequestError, `got ${err?.constructor?.name}: ${err}`);
      assert.match(err.message, /input must not be an empty string/);
      return true;
    });
    assert.equal(env.upstream.requests.length, calls);
  });

  it("images.generate: passthrough, model mapped, image returned", async () => {
    const res = await client.images.generate({ model: MODELS.image, prompt: "a red fox", size: "1024x1024" });
    assert.equal(res.data[0].b64_json, IMAGE_B64);
    assert.equal(res.usage.total_tokens, 281);
    const seen = env.upstream.last("/openai/images/generations");
    assert.equal(seen.body.model, MODELS.imageUpstream);
    assert.equal(seen.body.prompt, "a red fox");
    assert.equal(seen.headers.authorization, `Bearer ${UPSTREAM_KEYS.openai}`);
  });

  it("models.list and models.retrieve: exactly what can be routed", async () => {
    const ids = [];
    for await (const m of client.models.list()) {
      assert.equal(m.object, "model");
      ids.push(m.id);
    }
    assert.ok(ids.includes(MODELS.chat), `list has ${MODELS.chat}: ${ids}`);
    assert.ok(ids.includes(MODELS.responses), `list has ${MODELS.responses}: ${ids}`);
    // Claude and Gemini models are reached by translation, so listed too.
    assert.ok(ids.includes(MODELS.gemini) && ids.includes(MODELS.claude), `every model is listed: ${ids}`);
    // Embedding models too, marked (an extra field the SDK keeps).
    const embed = await client.models.retrieve(MODELS.embed);
    assert.equal(embed.mode, "embedding");
    const m = await client.models.retrieve(MODELS.chat);
    assert.equal(m.id, MODELS.chat);
    assert.equal(m.object, "model");
  });

  it("unknown model: NotFoundError naming the model", async () => {
    await assert.rejects(
      client.chat.completions.create({ model: "no-such-model", messages: [{ role: "user", content: "hi" }] }),
      (err) => {
        assert.ok(err instanceof OpenAI.NotFoundError, `got ${err?.constructor?.name}: ${err}`);
        assert.equal(err.status, 404);
        assert.match(err.message, /no-such-model/);
        return true;
      },
    );
    await assert.rejects(client.models.retrieve("no-such-model"), OpenAI.NotFoundError);
  });

  it("wrong key: AuthenticationError", async () => {
    const bad = new OpenAI({ apiKey: WRONG_KEY, baseURL: `${env.server.origin}/v1`, maxRetries: 0 });
    await assert.rejects(bad.chat.completions.create({ model: MODELS.chat, messages: [{ role: "user", content: "hi" }] }), (err) => {
      assert.ok(err instanceof OpenAI.AuthenticationError, `got ${err?.constructor?.name}: ${err}`);
      assert.equal(err.status, 401);
      assert.equal(typeof err.error?.message, "string");
      return true;
    });
  });

  it("upstream 429, then cooldown: RateLimitError with Retry-After", async () => {
    const ask = () => client.chat.completions.create({ model: MODELS.limited, messages: [{ role: "user", content: "hi" }] });
    const first = await ask().then(
      () => assert.fail("expected a 429"),
      (err) => err,
    );
    assert.ok(first instanceof OpenAI.RateLimitError, `got ${first?.constructor?.name}: ${first}`);
    assert.equal(first.status, 429);
    assert.equal(first.code, "rate_limit_exceeded", "the upstream's own error body is relayed");
    assert.equal(first.headers.get("retry-after"), "30", "the upstream's Retry-After reaches the SDK");
    const upstreamCalls = env.upstream.requests.length;
    // The only credential of the model is cooling down: the server answers
    // itself, without calling the upstream.
    const second = await ask().then(
      () => assert.fail("expected a 429"),
      (err) => err,
    );
    assert.ok(second instanceof OpenAI.RateLimitError, `got ${second?.constructor?.name}: ${second}`);
    assert.equal(second.code, "model_cooldown");
    assert.ok(Number(second.headers.get("retry-after")) > 0);
    assert.equal(env.upstream.requests.length, upstreamCalls);
  });

  it("upstream 400: BadRequestError with the upstream's own error body", async () => {
    await assert.rejects(
      client.chat.completions.create({ model: MODELS.chat, messages: [{ role: "user", content: "fail-400" }] }),
      (err) => {
        assert.ok(err instanceof OpenAI.BadRequestError, `got ${err?.constructor?.name}: ${err}`);
        assert.equal(err.status, 400);
        assert.equal(err.code, "bad_temperature");
        assert.equal(err.param, "temperature");
        assert.match(err.message, /temperature too high/);
        return true;
      },
    );
  });
});
