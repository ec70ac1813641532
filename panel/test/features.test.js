// The panel's feature pages in headless Chromium against the real server:
// history and rollback, audit, live updates, dry-run previews, client keys
// with policies, credential controls.
import assert from "node:assert/strict";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { chromium } from "playwright-core";
import http from "node:http";
import { CLIENT_KEY, MGMT_KEY, findChromium, outDir, startFakeUpstream, startServer } from "./harness.js";

const exe = findChromium();

/** An OpenAI-compatible upstream whose every answer is 429 with a long Retry-After: its credential rests. */
async function startExhaustedUpstream() {
  const srv = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(429, { "Content-Type": "application/json", "Retry-After": "3600" });
      res.end(JSON.stringify({ error: { message: "quota exhausted", type: "rate_limit" } }));
    });
  });
  await new Promise((r) => srv.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${srv.address().port}/v1`, close: () => new Promise((r) => srv.close(r)) };
}

/** An OpenAI-compatible upstream that lists two models for one key and refuses the others. */
async function startListingUpstream() {
  const srv = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.setHeader("Content-Type", "application/json");
      if (req.headers.authorization !== "Bearer sk-list-good") {
        res.writeHead(401).end(JSON.stringify({ error: { message: "invalid api key" } }));
        return;
      }
      res.end(JSON.stringify({ object: "list", data: [{ id: "listed-b" }, { id: "listed-a" }] }));
    });
  });
  await new Promise((r) => srv.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${srv.address().port}/v1`, close: () => new Promise((r) => srv.close(r)) };
}

async function chat(origin, key, model) {
  const r = await fetch(`${origin}/v1/chat/completions`, {
    method: "POST",
    headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }),
  });
  await r.text();
  return r.status;
}
if (!exe) console.log("# SKIP panel feature tests: no Chromium found (apt-get install -y chromium, or set CHROMIUM_PATH)");

describe("panel features in Chromium", { skip: !exe, concurrency: false }, () => {
  let browser, srv, upstream;
  before(async () => {
    await mkdir(outDir, { recursive: true });
    upstream = await startFakeUpstream();
    srv = await startServer({ upstream: upstream.url });
    browser = await chromium.launch({ executablePath: exe, args: ["--no-sandbox", "--disable-dev-shm-usage"] });
  });
  after(async () => {
    await browser?.close();
    await srv?.stop();
    await upstream?.close();
  });

  async function newPage(opts = {}) {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 860 }, locale: "en-US", ...opts });
    await ctx.grantPermissions(["clipboard-read", "clipboard-write"], { origin: srv.origin });
    const page = await ctx.newPage();
    page.problems = [];
    page.on("console", (m) => m.type() === "error" && page.problems.push(m.text()));
    page.on("pageerror", (e) => page.problems.push(String(e)));
    return page;
  }

  async function signIn(page) {
    await page.goto(`${srv.origin}/management.html`);
    await page.getByLabel("Management key").fill(MGMT_KEY);
    await page.getByRole("button", { name: "Sign in" }).click();
    // The page title, not the navigation: on a phone that is behind the menu button.
    await page.locator("#page-title").waitFor();
  }

  async function go(page, route) {
    await page.evaluate((r) => (location.hash = `#/${r}`), route);
    await page.locator("#page-title").waitFor();
  }

  async function shot(page, name) {
    await page.screenshot({ path: path.join(outDir, `features-${name}.png`), fullPage: true });
  }

  async function toast(page, text) {
    await page.locator(".toast", { hasText: text }).first().waitFor();
  }

  /** Polls until check() is true (the panel's writes are asynchronous). */
  async function until(check, what) {
    for (let i = 0; i < 100; i++) {
      if (await check()) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.fail(`timed out waiting for ${what}`);
  }

  async function put(p, body) {
    const cur = await srv.api("GET", "/config");
    const r = await srv.api("PUT", p, body, { "If-Match": cur.etag });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r;
  }

  test("history: revisions with who and what, a diff between any two, rollback after a dry-run preview", async () => {
    await put("/debug", { value: true });
    await put("/request-retry", { value: 7 });
    const page = await newPage();
    await signIn(page);
    await go(page, "history");
    const rows = page.getByTestId("history-row");
    await rows.first().waitFor();
    assert.ok((await rows.count()) >= 3);
    const hist = (await srv.api("GET", "/config/history?limit=5")).body.revisions;
    const [newest, previous, oldest] = hist;
    assert.match(await rows.first().textContent(), /request-retry/);
    assert.match(await rows.first().textContent(), /management key/);
    // The newest revision's own diff is shown first.
    await page.getByTestId("history-diff").getByText("+request-retry: 7").waitFor();
    // Any two: from the oldest to the newest shows both changes.
    await page.getByTestId("compare-from").selectOption(String(oldest.revision));
    await page.getByTestId("diff-caption").getByText(`From revision ${oldest.revision} to revision ${newest.revision}`).waitFor();
    const both = await page.getByTestId("history-diff").textContent();
    assert.match(both, /\+debug: true/);
    assert.match(both, /\+request-retry: 7/);
    await shot(page, "history");

    // Roll back to the revision before the newest: the dry run is shown, nothing changes until confirmed.
    const before = await srv.api("GET", "/config/history?limit=1");
    await page.getByRole("button", { name: `Roll back #${previous.revision}` }).click();
    const preview = page.getByTestId("preview");
    await preview.waitFor();
    assert.match(await page.getByTestId("preview-diff").textContent(), /-request-retry: 7/);
    assert.equal((await srv.api("GET", "/request-retry")).body["request-retry"], 7, "the dry run changed nothing");
    assert.equal((await srv.api("GET", "/config/history?limit=1")).body.revisions[0].revision, before.body.revisions[0].revision);
    await shot(page, "rollback-preview");
    await page.getByTestId("preview-confirm").click();
    await toast(page, `Rolled back to revision ${previous.revision}`);
    assert.notEqual((await srv.api("GET", "/request-retry")).body["request-retry"], 7);
    const after = (await srv.api("GET", "/config/history?limit=1")).body.revisions[0];
    assert.equal(after.source, "rollback");
    await page.getByTestId("history-row").first().getByText("rollback").waitFor();
    // The panel's own rollback is not announced as someone else's change.
    assert.equal(await page.getByTestId("live-notice").count(), 0);
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });

  test("audit: the trail filtered by action, actor and result", async () => {
    await srv.api("PUT", "/debug", { value: false });
    const bad = await fetch(`${srv.origin}/v0/management/debug`, { method: "PUT", headers: { Authorization: "Bearer wrong" }, body: "{}" });
    assert.equal(bad.status, 401);
    const page = await newPage();
    await signIn(page);
    await go(page, "audit");
    await page.getByTestId("audit-row").first().waitFor();
    await page.getByTestId("audit-action").fill("PutDebug");
    await until(async () => (await page.getByTestId("audit-row").count()) > 0 && (await page.getByTestId("audit-table").textContent()).includes("PutDebug"), "filtered rows");
    for (const text of await page.getByTestId("audit-row").allTextContents()) assert.match(text, /PutDebug|PUT \/v0\/management\/debug/);
    await page.getByTestId("audit-actor").selectOption("none");
    await page.getByTestId("audit-row").first().getByText("401").waitFor();
    await page.getByTestId("audit-actor").selectOption("");
    await page.getByTestId("audit-result").selectOption("ok");
    for (const text of await page.getByTestId("audit-row").allTextContents()) assert.doesNotMatch(text, /\b401\b/);
    await shot(page, "audit");
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });

  test("live updates: a change by a second client refreshes the panel with a notice; typed text survives", async () => {
    const page = await newPage();
    await signIn(page);
    await go(page, "settings");
    const debug = page.getByTestId("setting-debug");
    const wasOn = await debug.isChecked();
    // The stream is open once the panel's subscription is counted by the server.
    await until(async () => {
      await srv.api("PUT", "/debug", { value: !wasOn });
      return (await page.getByTestId("live-notice").count()) > 0;
    }, "a live notice");
    await page.getByTestId("live-notice").getByText("by another operator through the API").waitFor();
    await page.getByTestId("live-notice").getByText("debug").first().waitFor();
    await until(async () => (await debug.isChecked()) === !wasOn, "the refreshed checkbox");
    await shot(page, "live-notice");
    await page.getByTestId("live-dismiss").click();

    // While the user types in a field, a change elsewhere does not replace the text.
    const proxy = page.getByTestId("setting-proxy-url");
    await proxy.click();
    await proxy.pressSequentially("http://127.0.0.1:9");
    await srv.api("PUT", "/request-retry", { value: 4 });
    await page.getByTestId("live-notice").getByText("once you leave the field").waitFor();
    assert.equal(await proxy.inputValue(), "http://127.0.0.1:9");
    await proxy.pressSequentially("9");
    assert.equal(await proxy.inputValue(), "http://127.0.0.1:99");
    // A hand edit is named as one.
    await page.getByTestId("live-dismiss").click();
    await page.locator("#page-title").focus();
    await until(async () => (await srv.api("GET", "/proxy-url")).body["proxy-url"] === "http://127.0.0.1:99", "the typed proxy saved on leaving");
    // A hand edit of config.yaml is named as one.
    const yaml = await readFile(srv.configPath, "utf8");
    assert.match(yaml, /request-retry: 4/);
    await writeFile(srv.configPath, yaml.replace(/request-retry: 4/, "request-retry: 9"));
    await page.getByTestId("live-notice").getByText("by a hand edit of config.yaml").waitFor();
    await page.getByTestId("live-notice").getByText("request-retry").waitFor();
    await until(async () => (await page.getByTestId("setting-request-retry").inputValue()) === "9", "the hand edit shown");
    // The save met If-Match (412) and was re-applied on the new revision.
    assert.deepEqual(page.problems.filter((p) => !p.includes("412")), []);
    await srv.api("DELETE", "/proxy-url");
    await page.context().close();
  });

  test("a field being typed in keeps its text and focus when a refresh brings another client's value for it", async () => {
    await srv.api("DELETE", "/proxy-url");
    await put("/request-retry", { value: 1 });
    const page = await newPage();
    await signIn(page);
    await go(page, "settings");
    const proxy = page.getByTestId("setting-proxy-url");
    const retry = page.getByTestId("setting-request-retry");
    await until(async () => (await retry.inputValue()) === "1", "the stored retry shown");
    // The panel's next read of the config waits until the user has typed.
    let release;
    const released = new Promise((r) => (release = r));
    let held;
    const reached = new Promise((r) => (held = r));
    const configRead = (url) => url.pathname === "/v0/management/config";
    await page.route(
      configRead,
      async (route) => {
        if (route.request().method() === "GET") {
          held();
          await released;
        }
        await route.continue();
      },
    );
    await proxy.click();
    await proxy.pressSequentially("http://127.0.0.1:7");
    // A second client changes request-retry: the panel's revision is stale now.
    await put("/request-retry", { value: 4 });
    // Leaving the proxy field saves it: 412, and the panel re-reads the config (held).
    await retry.focus();
    await reached;
    await retry.press("Control+a");
    await retry.pressSequentially("2");
    release();
    // The proxy's save is re-applied on the re-read config (which has 4 for the field being
    // typed in): once that is said, the typed text and the focus are still there.
    await toast(page, "re-applied");
    assert.equal(await retry.inputValue(), "2", "the typed text survives the refresh");
    assert.ok(await retry.evaluate((el) => el === document.activeElement), "focus kept");
    await page.getByTestId("setting-request-retry-moved").getByText("4").waitFor();
    await retry.pressSequentially("3");
    assert.equal(await retry.inputValue(), "23");
    await retry.press("Enter");
    await until(async () => (await srv.api("GET", "/request-retry")).body["request-retry"] === 23, "the typed value saved");
    assert.equal((await srv.api("GET", "/proxy-url")).body["proxy-url"], "http://127.0.0.1:7");
    await until(async () => (await page.getByTestId("setting-request-retry-moved").count()) === 0, "the notice gone after the save");
    await page.unroute(configRead);
    assert.deepEqual(page.problems.filter((p) => !p.includes("412")), []);
    await srv.api("DELETE", "/proxy-url");
    await page.context().close();
  });

  test("client keys with policies: create with a policy, copy the key shown once, spend, revoke after a preview; a re-added plain key is named", async () => {
    const page = await newPage();
    await signIn(page);
    await go(page, "keys");
    await page.getByTestId("ck-create").locator("summary").click();
    await page.getByTestId("ck-name").fill("alice-laptop");
    await page.getByTestId("ck-new-owner").fill("alice");
    await page.getByTestId("ck-new-models").fill("test-model");
    await page.getByTestId("ck-new-requests-per-minute").fill("60");
    await page.getByTestId("ck-new-tokens-per-month").fill("2000000");
    await page.getByTestId("ck-submit").click();
    const shown = page.getByTestId("ck-newkey-value");
    await shown.waitFor();
    const secret = (await shown.textContent()).trim();
    assert.match(secret, /^sk-cpa-/);
    await page.getByTestId("ck-copy").click();
    await page.getByTestId("ck-copy").getByText("Copied").waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);
    const listed = (await srv.api("GET", "/client-keys")).body["client-keys"];
    assert.equal(listed.length, 1);
    assert.deepEqual(listed[0].models, ["test-model"]);
    assert.equal(listed[0].limits["requests-per-minute"], 60);
    assert.equal(listed[0].budgets["tokens-per-month"], 2000000);
    assert.ok(!JSON.stringify(listed).includes(secret), "the key is not stored or listed");
    await shot(page, "client-key-created");
    // The key works within its policy, and its spend shows.
    assert.equal(await chat(srv.origin, secret, "test-model"), 200);
    await page.getByRole("button", { name: "I have copied it" }).click();
    assert.equal(await shown.count(), 0, "the key is shown once");
    await go(page, "overview");
    await go(page, "keys");
    const card = page.getByTestId("ck-card").filter({ hasText: "alice-laptop" });
    await card.getByText("/ 2,000,000").waitFor();
    assert.match(await card.textContent(), /Requests1/);
    await shot(page, "client-key-spend");
    // Disable, then enable again.
    await card.getByTestId("ck-enabled").uncheck();
    await until(async () => (await srv.api("GET", "/client-keys")).body["client-keys"][0].disabled === true, "disabled");
    await page.getByTestId("ck-card").filter({ hasText: "alice-laptop" }).getByTestId("ck-enabled").check();
    await until(async () => !(await srv.api("GET", "/client-keys")).body["client-keys"][0].disabled, "enabled");
    // Revoke: the dry run's diff names the key; nothing changes before confirming.
    await page.getByTestId("ck-card").filter({ hasText: "alice-laptop" }).getByTestId("ck-revoke").click();
    await page.getByTestId("preview-diff").getByText("alice-laptop").first().waitFor();
    assert.equal((await srv.api("GET", "/client-keys")).body["client-keys"].length, 1);
    await page.getByTestId("preview-confirm").click();
    await toast(page, "alice-laptop was revoked");
    assert.equal((await srv.api("GET", "/client-keys")).body["client-keys"].length, 0);
    assert.equal(await chat(srv.origin, secret, "test-model"), 401);
    // Re-adding a plain key that is already there says so, not "Saved".
    const savedBefore = await page.locator(".toast", { hasText: "Saved" }).count();
    await page.getByTestId("new-api-key").fill(CLIENT_KEY);
    await page.getByTestId("add-api-key").click();
    await toast(page, "is already in the list");
    assert.ok((await page.locator(".toast", { hasText: "Saved" }).count()) <= savedBefore, "no new Saved");
    assert.deepEqual((await srv.api("GET", "/api-keys")).body["api-keys"], [CLIENT_KEY]);
    // Replacing the whole list shows the dry run first; Cancel changes nothing.
    await page.getByTestId("replace-keys").locator("summary").click();
    await page.getByTestId("replace-keys-text").fill(`k-bulk-1\nk-bulk-2`);
    await page.getByTestId("replace-keys-submit").click();
    const diff = await page.getByTestId("preview-diff").textContent();
    assert.match(diff, /k-bulk-1/);
    assert.match(diff, new RegExp(`-.*${CLIENT_KEY}`));
    await page.getByRole("dialog").getByRole("button", { name: "Cancel" }).click();
    assert.deepEqual((await srv.api("GET", "/api-keys")).body["api-keys"], [CLIENT_KEY]);
    await page.getByTestId("replace-keys-text").fill(`${CLIENT_KEY}\nk-bulk-2`);
    await page.getByTestId("replace-keys-submit").click();
    await page.getByTestId("preview-confirm").click();
    await until(async () => (await srv.api("GET", "/api-keys")).body["api-keys"].length === 2, "the list replaced");
    assert.deepEqual((await srv.api("GET", "/api-keys")).body["api-keys"], [CLIENT_KEY, "k-bulk-2"]);
    await srv.api("PUT", "/api-keys", [CLIENT_KEY]);
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });

  test("provider keys: enable/disable, priority and weight, each bad header line pointed at, delete after a dry-run preview", async () => {
    await put("/codex-api-key", [{ "api-key": "sk-codex-panel-1" }]);
    const page = await newPage();
    await signIn(page);
    await go(page, "providers");
    const entry = page.getByTestId("codex-entry").first();
    await entry.getByTestId("codex-enabled").uncheck();
    await until(async () => (await srv.api("GET", "/codex-api-key")).body["codex-api-key"][0].disabled === true, "disabled");
    await entry.getByText("disabled").first().waitFor();
    await entry.getByTestId("codex-priority").fill("5");
    await entry.getByTestId("codex-priority").press("Tab");
    await until(async () => (await srv.api("GET", "/codex-api-key")).body["codex-api-key"][0].priority === 5, "priority");
    await entry.getByTestId("codex-weight").fill("3");
    await entry.getByTestId("codex-weight").press("Tab");
    await until(async () => (await srv.api("GET", "/codex-api-key")).body["codex-api-key"][0].weight === 3, "weight");
    await entry.getByTestId("codex-enabled").check();
    await until(async () => !(await srv.api("GET", "/codex-api-key")).body["codex-api-key"][0].disabled, "enabled");

    // A malformed header line is pointed at and nothing is saved; fixed, it saves.
    const headers = entry.getByTestId("codex-headers");
    await headers.fill("X-Team: blue\nthis line has no colon\nBad Name: 1\nX-Team: red");
    await headers.blur();
    const errors = entry.getByTestId("codex-headers-errors");
    await errors.waitFor();
    const msg = await errors.textContent();
    assert.match(msg, /Line 2: expected "Name: value"/);
    assert.match(msg, /Line 3: "Bad Name" is not a valid header name/);
    assert.match(msg, /Line 4: the same as line 1/);
    assert.equal(await headers.inputValue(), "X-Team: blue\nthis line has no colon\nBad Name: 1\nX-Team: red", "the text is kept");
    assert.equal((await srv.api("GET", "/codex-api-key")).body["codex-api-key"][0].headers, undefined);
    await shot(page, "provider-bad-headers");
    await headers.fill("X-Team: blue\nX-Env: prod");
    await headers.blur();
    await until(async () => (await srv.api("GET", "/codex-api-key")).body["codex-api-key"][0].headers?.["X-Env"] === "prod", "headers saved");
    assert.equal(await errors.count(), 0);

    // Delete: the dry run is shown first, and Cancel changes nothing.
    await entry.getByRole("button", { name: /^Delete: / }).click();
    await page.getByTestId("preview-diff").waitFor();
    assert.match(await page.getByTestId("preview-diff").textContent(), /-.*sk-codex-panel-1/);
    await shot(page, "provider-delete-preview");
    await page.getByRole("dialog").getByRole("button", { name: "Cancel" }).click();
    assert.equal((await srv.api("GET", "/codex-api-key")).body["codex-api-key"].length, 1);
    await entry.getByRole("button", { name: /^Delete: / }).click();
    await page.getByTestId("preview-confirm").click();
    await until(async () => ((await srv.api("GET", "/codex-api-key")).body["codex-api-key"] ?? []).length === 0, "deleted");
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });

  test("cooldowns: a credential resting after a 429 shows on its entry and on the cooldowns page; reset ends it", async () => {
    const exhausted = await startExhaustedUpstream();
    try {
      const cur = (await srv.api("GET", "/openai-compatibility")).body["openai-compatibility"] ?? [];
      await put("/openai-compatibility", [
        ...cur,
        { name: "tired", "base-url": exhausted.url, "api-key-entries": [{ "api-key": "sk-tired-1" }], models: [{ name: "tired-up", alias: "tired-model" }] },
      ]);
      assert.equal(await chat(srv.origin, CLIENT_KEY, "tired-model"), 429);
      const cds = (await srv.api("GET", "/cooldowns")).body.cooldowns;
      assert.equal(cds.length, 1);
      assert.equal(cds[0].reason, "quota");
      const page = await newPage();
      await signIn(page);
      await go(page, "openai");
      const entry = page.getByTestId("openai-entry").filter({ has: page.locator('input[value="tired"]') });
      await entry.getByTestId("entry-cooldown").getByText("tired-up: resting (quota)").waitFor();
      // The entry's attempts since the start (GET /api-key-usage).
      assert.match(await entry.getByTestId("openai-counts").textContent(), /Succeeded \/ failed: 0 \/ [1-9]/);
      await shot(page, "cooldown-entry");
      await entry.getByTestId("entry-cooldown-reset").click();
      await toast(page, "Cooldowns ended: 1");
      assert.deepEqual((await srv.api("GET", "/cooldowns")).body.cooldowns, []);
      await entry.getByTestId("entry-cooldown").waitFor({ state: "detached" });

      // The cooldowns page lists every resting credential; "reset all" ends them.
      assert.equal(await chat(srv.origin, CLIENT_KEY, "tired-model"), 429);
      await go(page, "cooldowns");
      const row = page.getByTestId("cooldown-row").first();
      await row.getByText("tired-up").waitFor();
      await shot(page, "cooldowns");
      await page.getByTestId("cooldowns-reset-all").click();
      await toast(page, "Cooldowns ended: 1");
      assert.deepEqual((await srv.api("GET", "/cooldowns")).body.cooldowns, []);
      await page.getByText("No credential is resting").waitFor();
      assert.deepEqual(page.problems.filter((p) => !p.includes("429")), []);
      await page.context().close();
      await put("/openai-compatibility", cur);
    } finally {
      await exhausted.close();
    }
  });

  test("auth files: 300 files stay fast to search, filter and page; enable/disable; a bad file in an upload is named and the others uploaded", async () => {
    // The server takes at most 100 files per request.
    for (let batch = 0; batch < 3; batch++) {
      const form = new FormData();
      for (let i = batch * 100; i < (batch + 1) * 100; i++) {
        const kind = i % 3 === 0 ? "claude" : "codex";
        const n = String(i).padStart(4, "0");
        form.append("file", new Blob([JSON.stringify({ type: kind, email: `user-${n}@example.com`, access_token: `t-${n}` })], { type: "application/json" }), `${kind}-user-${n}.json`);
      }
      const up = await fetch(`${srv.origin}/v0/management/auth-files`, { method: "POST", headers: { Authorization: `Bearer ${MGMT_KEY}` }, body: form });
      assert.equal(up.status, 200, await up.text());
    }
    const page = await newPage();
    await signIn(page);
    const started = Date.now();
    await go(page, "auth-files");
    await page.getByTestId("auth-count").getByText("300 of 300 files.").waitFor();
    const firstPaint = Date.now() - started;
    assert.equal(await page.getByTestId("auth-row").count(), 25, "one page of rows");
    await page.getByTestId("auth-pager").getByText("Page 1 of 12").waitFor();
    const t0 = Date.now();
    await page.getByTestId("auth-search").fill("user-0299");
    await page.getByTestId("auth-count").getByText("1 of 300 files.").waitFor();
    const searchMs = Date.now() - t0;
    console.log(`# auth files: 300 listed in ${firstPaint} ms, searched in ${searchMs} ms`);
    assert.ok(searchMs < 2000, `search took ${searchMs} ms`);
    await page.getByTestId("auth-search").fill("");
    await page.getByTestId("auth-provider").selectOption("claude");
    await page.getByTestId("auth-count").getByText("100 of 300 files.").waitFor();
    await shot(page, "auth-files-300");

    // Disable one file: the server marks it, the filter finds it, enabling restores it.
    await page.getByTestId("auth-search").fill("claude-user-0003");
    const row = page.getByTestId("auth-row").first();
    await row.getByTestId("auth-enabled").uncheck();
    await until(async () => (await srv.api("GET", "/auth-files?name=claude-user-0003.json")).body.files[0]?.disabled === true, "disabled");
    await page.getByTestId("auth-search").fill("");
    await page.getByTestId("auth-provider").selectOption("");
    await page.getByTestId("auth-status-filter").selectOption("disabled");
    await page.getByTestId("auth-count").getByText("1 of 300 files.").waitFor();
    await page.getByTestId("auth-row").first().getByTestId("auth-status").getByText("disabled").waitFor();
    await page.getByTestId("auth-row").first().getByTestId("auth-enabled").check();
    await until(async () => !(await srv.api("GET", "/auth-files?name=claude-user-0003.json")).body.files[0]?.disabled, "enabled");
    await page.getByTestId("auth-status-filter").selectOption("");

    // Two files, one bad: the bad one is named with why, the good one is uploaded.
    await page.getByTestId("auth-upload").setInputFiles([
      { name: "codex-good@example.com.json", mimeType: "application/json", buffer: Buffer.from(JSON.stringify({ type: "codex", email: "good@example.com" })) },
      { name: "broken.json", mimeType: "application/json", buffer: Buffer.from("{not json") },
    ]);
    const report = page.getByTestId("upload-report");
    await report.getByText("broken.json").waitFor();
    assert.match(await report.textContent(), /broken\.json: not valid JSON/);
    assert.match(await report.textContent(), /Uploaded: codex-good@example\.com\.json/);
    assert.equal((await srv.api("GET", "/auth-files?name=codex-good@example.com.json")).body.files.length, 1);
    await shot(page, "auth-upload-report");
    assert.deepEqual(page.problems, []);
    await srv.api("DELETE", "/auth-files?all=true");
    await page.context().close();
  });

  test("auth files: priority, weight, note, prefix, proxy and headers edited in place, each error shown at its field", async () => {
    const name = "codex-fields@example.com.json";
    const form = new FormData();
    const file = { type: "codex", email: "fields@example.com", access_token: "t-fields", priority: 2, proxy_url: "socks5://127.0.0.1:1080", headers: { "X-Team": "ops", "X-Old": "1" } };
    form.append("file", new Blob([JSON.stringify(file)], { type: "application/json" }), name);
    const up = await fetch(`${srv.origin}/v0/management/auth-files`, { method: "POST", headers: { Authorization: `Bearer ${MGMT_KEY}` }, body: form });
    assert.equal(up.status, 200, await up.text());
    const page = await newPage();
    await signIn(page);
    await go(page, "auth-files");
    const row = page.getByTestId("auth-row").filter({ hasText: name });
    await row.getByTestId("auth-edit").click();
    const ed = page.getByTestId("af-editor");
    // The form starts from the file.
    await until(async () => (await ed.getByTestId("af-priority").inputValue()) === "2", "the stored priority");
    assert.equal(await ed.getByTestId("af-proxy").inputValue(), "socks5://127.0.0.1:1080");
    assert.equal(await ed.getByTestId("af-headers").inputValue(), "X-Team: ops\nX-Old: 1");
    // What the form can tell: a weight over the limit, a header line without a colon.
    await ed.getByTestId("af-weight").fill("2000000");
    await ed.getByTestId("af-headers").fill("X-Team: research\nnot a header");
    await ed.getByTestId("af-save").click();
    await ed.getByTestId("af-weight-error").getByText("at most 1,000,000").waitFor();
    await ed.getByTestId("af-headers-error").getByText(/Line 2/).waitFor();
    // What only the server can tell: a proxy it refuses, shown at the proxy field.
    await ed.getByTestId("af-weight").fill("3");
    await ed.getByTestId("af-headers").fill("X-Team: research");
    await ed.getByTestId("af-proxy").fill("ftp://127.0.0.1:21");
    await ed.getByTestId("af-save").click();
    await ed.getByTestId("af-proxy-error").getByText(/proxy/).waitFor();
    assert.equal(await ed.getByTestId("af-weight-error").count(), 0);
    await shot(page, "auth-fields-error");
    await ed.getByTestId("af-proxy").fill("");
    await ed.getByTestId("af-note").fill("team account");
    await ed.getByTestId("af-prefix").fill("team");
    await ed.getByTestId("af-priority").fill("10");
    await ed.getByTestId("af-save").click();
    await toast(page, `Saved the fields of ${name}.`);
    await page.getByTestId("af-editor").waitFor({ state: "detached" });
    const stored = (await srv.api("GET", `/auth-files/download?name=${encodeURIComponent(name)}`)).body;
    assert.equal(stored.priority, 10);
    assert.equal(stored.weight, 3);
    assert.equal(stored.note, "team account");
    assert.equal(stored.prefix, "team");
    assert.equal(stored.proxy_url, undefined, "blank removes the proxy");
    assert.deepEqual(stored.headers, { "X-Team": "research" }, "a removed line removes its header");
    assert.equal(stored.access_token, "t-fields", "the rest of the file is kept");
    await row.getByTestId("auth-note").getByText("team account").waitFor();
    await row.getByTestId("auth-priority").getByText("Weight 3").waitFor();
    await shot(page, "auth-fields-saved");
    // On a phone the editor stacks its fields and the page does not scroll sideways.
    await page.setViewportSize({ width: 390, height: 860 });
    await row.getByTestId("auth-edit").click();
    await until(async () => (await page.getByTestId("af-priority").inputValue()) === "10", "the editor on a phone");
    const { sw, iw } = await page.evaluate(() => ({ sw: document.documentElement.scrollWidth, iw: innerWidth }));
    assert.ok(sw <= iw, `the auth file editor scrolls sideways at 390 px: ${sw} > ${iw}`);
    await shot(page, "auth-fields-390");
    assert.deepEqual(page.problems.filter((p) => !p.includes("400")), []);
    await srv.api("DELETE", `/auth-files?name=${encodeURIComponent(name)}`);
    await page.context().close();
  });

  test("feature pages at 1400 and 390 px, in English and Chinese, light and dark: no sideways scroll, no console errors", async () => {
    await put("/debug", { value: true });
    for (const [width, locale, scheme] of [[1400, "en-US", "light"], [390, "zh-CN", "dark"], [390, "en-US", "light"], [1400, "zh-CN", "dark"]]) {
      const page = await newPage({ viewport: { width, height: 860 }, locale, colorScheme: scheme });
      await signIn(page).catch(async () => {
        // The Chinese sign-in form: label in Chinese.
        await page.goto(`${srv.origin}/management.html`);
        await page.locator('input[name="key"]').fill(MGMT_KEY);
        await page.locator('button[type="submit"]').click();
        await page.locator("#page-title").waitFor();
      });
      for (const route of ["history", "audit", "cooldowns", "request-log", "keys", "auth-files", "providers", "openai", "oauth"]) {
        await go(page, route);
        await page.waitForFunction(() => !/Loading…|加载中…/.test(document.querySelector("main")?.textContent ?? ""));
        const { sw, iw } = await page.evaluate(() => ({ sw: document.documentElement.scrollWidth, iw: innerWidth }));
        assert.ok(sw <= iw, `${route} at ${width} px (${locale}) scrolls sideways: ${sw} > ${iw}`);
        await shot(page, `${route}-${width}-${locale}-${scheme}`);
      }
      assert.deepEqual(page.problems, [], `${width} ${locale}`);
      await page.context().close();
    }
  });

  test("providers: test the connection, fetch the upstream's models and add the picked ones", async () => {
    const lister = await startListingUpstream();
    try {
      const cur = (await srv.api("GET", "/openai-compatibility")).body["openai-compatibility"] ?? [];
      await put("/openai-compatibility", [
        ...cur,
        { name: "lister", "base-url": lister.url, "api-key-entries": [{ "api-key": "sk-list-good" }, { "api-key": "sk-list-bad-9" }] },
      ]);
      const page = await newPage();
      await signIn(page);
      await go(page, "openai");
      const entry = page.getByTestId("openai-entry").filter({ has: page.locator('input[value="lister"]') });
      await entry.getByTestId("openai-test").click();
      const result = entry.getByTestId("openai-test-result");
      await result.getByText("2 models").waitFor();
      const text = await result.textContent();
      assert.match(text, /works/);
      assert.match(text, /failed.*HTTP 401.*invalid api key/s);
      assert.doesNotMatch(text, /sk-list-bad-9/);
      await result.locator("summary").click();
      await entry.getByTestId("openai-fetched").getByText("listed-a").click();
      await entry.getByTestId("openai-add-models").click();
      await until(async () => {
        const oc = (await srv.api("GET", "/openai-compatibility")).body["openai-compatibility"].find((p) => p.name === "lister");
        return (oc?.models ?? []).map((m) => `${m.name}=>${m.alias}`).join() === "listed-a=>listed-a";
      }, "the picked model added").catch(async (e) => {
        console.log(JSON.stringify((await srv.api("GET", "/openai-compatibility")).body), page.problems);
        await shot(page, "provider-test-failed");
        throw e;
      });
      await shot(page, "provider-test");
      assert.deepEqual(page.problems, []);
      await page.context().close();
      await put("/openai-compatibility", cur);
    } finally {
      await lister.close();
    }
  });

  test("request log by id; logins: Gemini CLI project, iFlow cookie, Vertex import and Gemini web cookies name what is wrong", async () => {
    await put("/request-log", { value: true });
    const r = await fetch(`${srv.origin}/v1/chat/completions`, {
      method: "POST",
      headers: { Authorization: `Bearer ${CLIENT_KEY}`, "Content-Type": "application/json" },
      body: JSON.stringify({ model: "test-model", messages: [{ role: "user", content: "hello log" }] }),
    });
    await r.text();
    const rid = r.headers.get("x-request-id");
    assert.ok(rid, "the proxy answers with X-Request-ID");
    const page = await newPage();
    await signIn(page);
    // Another page opens the log of a request id it shows.
    await page.evaluate(async (id) => {
      sessionStorage.setItem("cpa-panel-request-id", id);
      location.hash = "#/request-log";
    }, rid);
    await page.getByTestId("request-log-text").getByText("hello log").first().waitFor();
    await page.getByTestId("request-id").fill("no-such-request");
    await page.getByTestId("request-log-show").click();
    await page.getByText("No log for the request no-such-request").waitFor();
    await page.getByTestId("request-id").fill("bad id!");
    await page.getByTestId("request-log-show").click();
    await page.getByText('letters, digits and "-" only').waitFor();
    await put("/request-log", { value: false });

    await go(page, "oauth");
    // Gemini CLI: the project goes with the login.
    await page.getByTestId("gemini-project").fill("my-proj-1");
    const [started] = await Promise.all([
      page.waitForRequest((q) => q.url().includes("/gemini-cli-auth-url")),
      page.getByTestId("oauth-gemini-cli").getByRole("button", { name: "Log in" }).click(),
    ]);
    assert.match(started.url(), /project_id=my-proj-1/);
    // iFlow: a cookie without BXAuth is refused with the reason.
    await page.getByTestId("iflow-cookie").fill("session=abc");
    await page.getByTestId("login-iflow-cookie").getByRole("button", { name: "Log in" }).click();
    await page.getByTestId("iflow-cookie-result").getByText("BXAuth").waitFor();
    // Vertex: a file that is not a service-account key is named.
    await page.getByTestId("vertex-file").setInputFiles({ name: "not-a-key.json", mimeType: "application/json", buffer: Buffer.from('{"type":"user"}') });
    await page.getByTestId("vertex-import").click();
    await page.getByTestId("vertex-result").getByText("not-a-key.json:").waitFor();
    // Gemini web cookies are saved as an auth file.
    await page.getByTestId("login-gemini-web").locator('input[name="psid"]').fill("g.a000panel-test-psid");
    await page.getByTestId("login-gemini-web").locator('input[name="psidts"]').fill("sidts-panel-test");
    await page.getByTestId("login-gemini-web").getByRole("button", { name: "Save" }).click();
    await page.getByTestId("gemini-web-result").getByText(/Saved as gemini-web-.*\.json/).waitFor();
    await shot(page, "logins");
    assert.deepEqual(page.problems.filter((p) => !/40[04]|Failed to load resource/.test(p)), []);
    await srv.api("DELETE", "/auth-files?all=true");
    await page.context().close();
  });

  test("live updates reconnect after the stream drops, say so meanwhile, and still announce changes", async () => {
    const page = await newPage();
    let drops = 0;
    // The first two streams end at once, as a dropped connection would; then the real stream.
    await page.route("**/v0/management/events", async (route) => {
      if (drops < 2) {
        drops++;
        await route.fulfill({ status: 200, headers: { "Content-Type": "text/event-stream" }, body: ": heartbeat\n\n" });
      } else await route.continue();
    });
    await signIn(page);
    await go(page, "settings");
    await page.getByTestId("live-down").getByText("reconnecting").waitFor();
    await until(async () => {
      await srv.api("PUT", "/request-retry", { value: Math.floor(Math.random() * 50) + 10 });
      return (await page.getByTestId("live-notice").count()) > 0;
    }, "a notice after reconnecting");
    assert.equal(drops, 2);
    assert.equal(await page.getByTestId("live-down").count(), 0);
    // "Show the change" opens the History page on that revision.
    const shown = Number(/\(revision (\d+)\)/.exec(await page.getByTestId("live-notice").textContent())?.[1]);
    assert.ok(shown > 0);
    await page.getByTestId("live-notice").getByRole("button", { name: "Show the change" }).click();
    await page.getByTestId("diff-caption").getByText(`Revision ${shown} against the revision before it.`).waitFor();
    assert.match(await page.getByTestId("history-diff").textContent(), /\+request-retry:/);
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });
});
