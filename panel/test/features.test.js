// The panel's feature pages in headless Chromium against the real server:
// history and rollback, audit, live updates, dry-run previews, client keys
// with policies, credential controls.
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { chromium } from "playwright-core";
import { MGMT_KEY, findChromium, outDir, startFakeUpstream, startServer } from "./harness.js";

const exe = findChromium();
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
    await page.getByRole("navigation").waitFor();
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
    // The save met If-Match (412) and was re-applied on the new revision.
    assert.deepEqual(page.problems.filter((p) => !p.includes("412")), []);
    await srv.api("DELETE", "/proxy-url");
    await page.context().close();
  });
});


