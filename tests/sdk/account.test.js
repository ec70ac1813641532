// An OAuth account (a Claude auth file pointing at the fake provider)
// serves the official SDKs: OpenAI and Gemini through translation,
// Anthropic directly, with the account's token and the Claude Code
// envelope upstream.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";

import Anthropic from "@anthropic-ai/sdk";
import { GoogleGenAI } from "@google/genai";
import OpenAI from "openai";

import { CLIENT_KEY, FULL_TEXT, clientKeyLeaks, startAll } from "./harness.js";

const TOKEN = "acct-access-token-0001";
const MODEL = "acct/claude-haiku-4-5-20251001";

describe("OAuth account as an upstream credential", () => {
  let env;
  before(async () => {
    env = await startAll();
    await mkdir(env.server.authDir, { recursive: true, mode: 0o700 });
    const file = {
      type: "claude",
      email: "someone@example.com",
      access_token: TOKEN,
      refresh_token: "acct-refresh-token-0001",
      expired: new Date(Date.now() + 3600_000).toISOString(),
      base_url: `${env.upstream.url}/claude`,
      prefix: "acct",
    };
    await writeFile(path.join(env.server.authDir, "claude-acct.json"), JSON.stringify(file), { mode: 0o600 });
    // The auth-dir watcher adds the account; wait until it is routed.
    const deadline = Date.now() + 10_000;
    for (;;) {
      const res = await fetch(`${env.server.origin}/v1/models`, { headers: { Authorization: `Bearer ${CLIENT_KEY}` } });
      const list = await res.json();
      if (list.data?.some((m) => m.id === MODEL)) break;
      if (Date.now() > deadline) throw new Error(`account not routed: ${JSON.stringify(list)}\n${env.server.log()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  });
  after(async () => {
    if (env) {
      assert.deepEqual(clientKeyLeaks(env.upstream), [], "the client key reached the upstream");
      await env.stop();
    }
  });

  function lastAccountRequest() {
    const reqs = env.upstream.requests.filter((r) => r.path === "/claude/v1/messages");
    assert.ok(reqs.length > 0, "the fake provider saw no request");
    const r = reqs[reqs.length - 1];
    assert.equal(r.headers.authorization, `Bearer ${TOKEN}`);
    assert.equal(r.headers["x-api-key"], undefined);
    assert.match(r.headers["anthropic-beta"], /oauth-2025-04-20/);
    assert.equal(r.query, "?beta=true");
    assert.equal(r.body.model, "claude-haiku-4-5-20251001");
    assert.match(JSON.stringify(r.body.system), /Claude Code/);
    return r;
  }

  it("OpenAI SDK (translated)", async () => {
    const openai = new OpenAI({ apiKey: CLIENT_KEY, baseURL: `${env.server.origin}/v1`, maxRetries: 0, timeout: 10_000 });
    const r = await openai.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "hello" }] });
    assert.equal(r.choices[0].message.content, FULL_TEXT);
    lastAccountRequest();
  });

  it("Anthropic SDK (same protocol)", async () => {
    const anthropic = new Anthropic({ apiKey: CLIENT_KEY, authToken: null, baseURL: env.server.origin, maxRetries: 0, timeout: 10_000 });
    const r = await anthropic.messages.create({ model: MODEL, max_tokens: 100, messages: [{ role: "user", content: "hello" }] });
    assert.equal(r.content.map((b) => b.text ?? "").join(""), FULL_TEXT);
    lastAccountRequest();
  });

  it("Google Gen AI SDK (translated)", async () => {
    const google = new GoogleGenAI({ vertexai: false, apiKey: CLIENT_KEY, httpOptions: { baseUrl: env.server.origin } });
    const r = await google.models.generateContent({ model: MODEL, contents: "hello" });
    assert.equal(r.text, FULL_TEXT);
    lastAccountRequest();
  });
});
