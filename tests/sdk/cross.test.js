// The official SDKs against upstreams of the other protocols: the server
// translates requests, answers and streams. Each SDK asks each model that
// only another kind of upstream serves, plain and streamed, for text and
// for a tool call (the fakes answer a call when the request offers tools).

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";

import Anthropic from "@anthropic-ai/sdk";
import { GoogleGenAI } from "@google/genai";
import OpenAI from "openai";

import { CLIENT_KEY, FULL_TEXT, MODELS, TOOL_CALL, clientKeyLeaks, startAll } from "./harness.js";

// Model → the upstream kind that alone serves it.
const KINDS = { openai: MODELS.chat, responses: MODELS.responses, claude: MODELS.claude, gemini: MODELS.gemini };
const SCHEMA = { type: "object", properties: { city: { type: "string" } }, required: ["city"] };

describe("SDKs across protocols", () => {
  let env, openai, anthropic, google, releaser;
  before(async () => {
    env = await startAll();
    // The fakes hold each stream after its first event until released.
    releaser = setInterval(() => env.upstream.release(), 10);
    openai = new OpenAI({ apiKey: CLIENT_KEY, baseURL: `${env.server.origin}/v1`, maxRetries: 0, timeout: 10_000 });
    anthropic = new Anthropic({ apiKey: CLIENT_KEY, authToken: null, baseURL: env.server.origin, maxRetries: 0, timeout: 10_000 });
    google = new GoogleGenAI({ vertexai: false, apiKey: CLIENT_KEY, httpOptions: { baseUrl: env.server.origin } });
  });
  after(async () => {
    clearInterval(releaser);
    if (env) {
      assert.deepEqual(clientKeyLeaks(env.upstream), [], "the client key reached the upstream");
      await env.stop();
    }
  });

  const others = (own) => Object.entries(KINDS).filter(([k]) => k !== own);

  for (const [kind, model] of others("openai")) {
    it(`openai chat → ${kind}: text and a tool call, plain and streamed`, async () => {
      const msgs = [{ role: "system", content: "Be brief." }, { role: "user", content: "Say hello" }];
      const res = await openai.chat.completions.create({ model, messages: msgs });
      assert.equal(res.choices[0].message.content, FULL_TEXT);
      assert.equal(res.choices[0].finish_reason, "stop");

      let text = "";
      for await (const c of await openai.chat.completions.create({ model, messages: msgs, stream: true })) text += c.choices[0]?.delta?.content ?? "";
      assert.equal(text, FULL_TEXT);

      const tools = [{ type: "function", function: { name: TOOL_CALL.name, parameters: SCHEMA } }];
      const tr = await openai.chat.completions.create({ model, messages: msgs, tools });
      const call = tr.choices[0].message.tool_calls[0];
      assert.equal(tr.choices[0].finish_reason, "tool_calls");
      assert.deepEqual([call.id, call.function.name, JSON.parse(call.function.arguments)], [TOOL_CALL.id, TOOL_CALL.name, TOOL_CALL.args]);

      const final = await openai.chat.completions.stream({ model, messages: msgs, tools }).finalChatCompletion();
      const sc = final.choices[0].message.tool_calls[0];
      assert.deepEqual([sc.id, sc.function.name, JSON.parse(sc.function.arguments)], [TOOL_CALL.id, TOOL_CALL.name, TOOL_CALL.args]);

      // The result goes back under the call's ID.
      const follow = await openai.chat.completions.create({ model, messages: [...msgs, tr.choices[0].message, { role: "tool", tool_call_id: call.id, content: "sunny" }] });
      assert.equal(follow.choices[0].message.content, FULL_TEXT);
    });
  }

  for (const [kind, model] of others("responses")) {
    it(`openai responses → ${kind}: text and a tool call, plain and streamed`, async () => {
      const res = await openai.responses.create({ model, instructions: "Be brief.", input: "Say hello" });
      assert.equal(res.output_text, FULL_TEXT);
      const streamed = await openai.responses.stream({ model, input: "Say hello" }).finalResponse();
      assert.equal(streamed.output_text, FULL_TEXT);

      const tools = [{ type: "function", name: TOOL_CALL.name, parameters: SCHEMA, strict: false }];
      for (const r of [await openai.responses.create({ model, input: "Weather?", tools }), await openai.responses.stream({ model, input: "Weather?", tools }).finalResponse()]) {
        const call = r.output.find((o) => o.type === "function_call");
        assert.deepEqual([call.call_id, call.name, JSON.parse(call.arguments)], [TOOL_CALL.id, TOOL_CALL.name, TOOL_CALL.args]);
      }
    });
  }

  for (const [kind, model] of others("claude")) {
    it(`anthropic → ${kind}: text and a tool call, plain and streamed`, async () => {
      const base = { model, max_tokens: 100, system: "Be brief.", messages: [{ role: "user", content: "Say hello" }] };
      const res = await anthropic.messages.create(base);
      assert.equal(res.content[0].text, FULL_TEXT);
      assert.equal(res.stop_reason, "end_turn");
      const streamed = await anthropic.messages.stream(base).finalMessage();
      assert.equal(streamed.content.map((b) => b.text).join(""), FULL_TEXT);

      const tools = [{ name: TOOL_CALL.name, input_schema: SCHEMA }];
      for (const m of [await anthropic.messages.create({ ...base, tools }), await anthropic.messages.stream({ ...base, tools }).finalMessage()]) {
        const use = m.content.find((b) => b.type === "tool_use");
        assert.equal(m.stop_reason, "tool_use");
        assert.deepEqual([use.id, use.name, use.input], [TOOL_CALL.id, TOOL_CALL.name, TOOL_CALL.args]);
      }
      const count = await anthropic.messages.countTokens({ model, messages: base.messages });
      assert.ok(count.input_tokens > 0);
    });
  }

  for (const [kind, model] of others("gemini")) {
    it(`google genai → ${kind}: text and a tool call, plain and streamed`, async () => {
      const res = await google.models.generateContent({ model, contents: "Say hello", config: { systemInstruction: "Be brief." } });
      assert.equal(res.text, FULL_TEXT);
      let text = "";
      for await (const c of await google.models.generateContentStream({ model, contents: "Say hello" })) text += c.text ?? "";
      assert.equal(text, FULL_TEXT);

      const config = { tools: [{ functionDeclarations: [{ name: TOOL_CALL.name, parametersJsonSchema: SCHEMA }] }] };
      const tr = await google.models.generateContent({ model, contents: "Weather?", config });
      assert.deepEqual([tr.functionCalls[0].id, tr.functionCalls[0].name, tr.functionCalls[0].args], [TOOL_CALL.id, TOOL_CALL.name, TOOL_CALL.args]);
      const calls = [];
      for await (const c of await google.models.generateContentStream({ model, contents: "Weather?", config })) calls.push(...(c.functionCalls ?? []));
      assert.deepEqual(calls.map((c) => [c.id, c.name, c.args]), [[TOOL_CALL.id, TOOL_CALL.name, TOOL_CALL.args]]);
      const count = await google.models.countTokens({ model, contents: "Say hello" });
      assert.ok(count.totalTokens > 0);
    });
  }
});
