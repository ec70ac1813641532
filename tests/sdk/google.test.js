// The official Google Gen AI SDK (npm "@google/genai"), unchanged, pointed
// at the server: generateContent, generateContentStream and countTokens on
// its default API version (v1beta) and on v1, the model list and model
// lookup, and its errors.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";

import { ApiError, GoogleGenAI } from "@google/genai";

import { CLIENT_KEY, FULL_TEXT, MODELS, STREAM_PIECES, UPSTREAM_KEYS, WRONG_KEY, clientKeyLeaks, startAll } from "./harness.js";

const usage = { promptTokenCount: 5, candidatesTokenCount: 6, totalTokenCount: 11 };

describe("google genai SDK", () => {
  let env;
  let ai; // default API version: /v1beta/models/{model}:method
  let aiV1; // apiVersion v1: /v1/models/{model}:method
  const sdk = (apiKey, apiVersion) =>
    new GoogleGenAI({ vertexai: false, apiKey, httpOptions: { baseUrl: env.server.origin, ...(apiVersion ? { apiVersion } : {}) } });
  before(async () => {
    env = await startAll();
    ai = sdk(CLIENT_KEY);
    aiV1 = sdk(CLIENT_KEY, "v1");
  });
  after(async () => {
    if (env) {
      assert.deepEqual(clientKeyLeaks(env.upstream), [], "the client key reached the upstream");
      assert.deepEqual(env.upstream.stalls, [], "streams whose first event was held back by the server");
      await env.stop();
    }
  });

  for (const [version, client] of [
    ["v1beta", () => ai],
    ["v1", () => aiV1],
  ]) {
    it(`models.generateContent (${version}): text, finish reason, usage; upstream key and path`, async () => {
      const before = env.upstream.requests.length;
      const res = await client().models.generateContent({ model: MODELS.gemini, contents: "Say hello" });
      assert.equal(res.text, FULL_TEXT);
      assert.equal(res.candidates[0].finishReason, "STOP");
      assert.deepEqual(res.usageMetadata, usage);
      assert.equal(env.upstream.requests.length, before + 1);
      const seen = env.upstream.last(":generateContent");
      assert.equal(seen.path, `/gemini/v1beta/models/${MODELS.gemini}:generateContent`);
      assert.deepEqual(seen.body.contents, [{ role: "user", parts: [{ text: "Say hello" }] }]);
      assert.equal(seen.headers["x-goog-api-key"], UPSTREAM_KEYS.gemini);
      assert.match(seen.headers["x-goog-api-client"] ?? "", /google-genai-sdk\//, "the SDK's x-goog-api-client is passed on");
    });

    it(`models.generateContentStream (${version}): chunks one by one, in order, usage last`, async () => {
      const stream = await client().models.generateContentStream({ model: MODELS.gemini, contents: "Say hello" });
      const pieces = [];
      let last = null;
      for await (const chunk of stream) {
        pieces.push(chunk.text);
        if (pieces.length === 1) env.upstream.release();
        last = chunk;
      }
      assert.deepEqual(pieces, STREAM_PIECES);
      assert.equal(last.candidates[0].finishReason, "STOP");
      assert.deepEqual(last.usageMetadata, usage);
      const seen = env.upstream.last(":streamGenerateContent");
      assert.equal(seen.path, `/gemini/v1beta/models/${MODELS.gemini}:streamGenerateContent`);
      assert.equal(seen.query, "?alt=sse");
    });

    it(`models.countTokens (${version})`, async () => {
      const res = await client().models.countTokens({ model: MODELS.gemini, contents: "Say hello" });
      assert.equal(res.totalTokens, 31);
      assert.equal(env.upstream.last(":countTokens").path, `/gemini/v1beta/models/${MODELS.gemini}:countTokens`);
    });
  }

  it("models.embedContent: batchEmbedContents passed through to a Gemini key", async () => {
    const res = await ai.models.embedContent({ model: MODELS.geminiEmbed, contents: ["a", "b"], config: { outputDimensionality: 8 } });
    assert.deepEqual(
      res.embeddings.map((e) => e.values),
      [
        [0, 0.25],
        [1, 0.25],
      ],
    );
    const seen = env.upstream.last(":batchEmbedContents");
    assert.equal(seen.path, `/gemini/v1beta/models/${MODELS.geminiEmbed}:batchEmbedContents`);
    assert.deepEqual(seen.body.requests[1], { content: { parts: [{ text: "b" }], role: "user" }, outputDimensionality: 8, model: `models/${MODELS.geminiEmbed}` });
    assert.equal(seen.headers["x-goog-api-key"], UPSTREAM_KEYS.gemini);
  });

  it("models.embedContent on an OpenAI-compatible embedding model: translated both ways", async () => {
    const res = await ai.models.embedContent({ model: MODELS.embed, contents: ["x", "y"] });
    assert.deepEqual(
      res.embeddings.map((e) => e.values),
      [
        [0.5, -1],
        [1.5, -1],
      ],
    );
    const seen = env.upstream.last("/openai/embeddings");
    assert.deepEqual(seen.body, { model: MODELS.embedUpstream, input: ["x", "y"], encoding_format: "float" });
  });

  it("models.list and models.get", async () => {
    const names = [];
    for await (const m of await ai.models.list()) names.push(m.name);
    assert.ok(names.includes(`models/${MODELS.gemini}`), `list has ${MODELS.gemini}: ${names}`);
    const embed = await ai.models.get({ model: MODELS.geminiEmbed });
    assert.deepEqual(embed.supportedActions, ["embedContent", "batchEmbedContents"]);
    const m = await ai.models.get({ model: MODELS.gemini });
    assert.equal(m.name, `models/${MODELS.gemini}`);
  });

  it("unknown model: ApiError 404 naming the model", async () => {
    await assert.rejects(ai.models.generateContent({ model: "gemini-no-such-model", contents: "hi" }), (err) => {
      assert.ok(err instanceof ApiError, `got ${err?.constructor?.name}: ${err}`);
      assert.equal(err.status, 404);
      assert.match(err.message, /gemini-no-such-model/);
      assert.match(err.message, /NOT_FOUND/);
      return true;
    });
    await assert.rejects(ai.models.get({ model: "gemini-no-such-model" }), (err) => err instanceof ApiError && err.status === 404);
  });

  it("wrong key: ApiError 401 UNAUTHENTICATED", async () => {
    await assert.rejects(sdk(WRONG_KEY).models.generateContent({ model: MODELS.gemini, contents: "hi" }), (err) => {
      assert.ok(err instanceof ApiError, `got ${err?.constructor?.name}: ${err}`);
      assert.equal(err.status, 401);
      assert.match(err.message, /UNAUTHENTICATED/);
      return true;
    });
  });
});
