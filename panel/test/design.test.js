// The panel's design, checked in Chromium on every page the navigation
// lists (so pages added to the routes table are covered by themselves): in
// English and Chinese, light and dark, at 1400 and 390 px, no console error,
// no sideways page scroll, no serious or critical axe-core violation; a
// screenshot of each in test-output/shots. And the dictionaries: every
// English text has a Chinese one that differs.
import assert from "node:assert/strict";
import { mkdir, readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { chromium } from "playwright-core";
import { CLIENT_KEY, MGMT_KEY, findChromium, outDir, startFakeUpstream, startServer } from "./harness.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const exe = findChromium();
const shots = path.join(outDir, "shots");
const axeSource = await readFile(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/** Texts that are the same in both languages on purpose: product names, file names. */
const sameInBothLanguages = new Set(["configYaml", "providerKind_vertex", "actor_env_password"]);

/** The string entries of one dictionary object literal of i18n.ts. */
function dictionary(src, start, end) {
  const from = src.indexOf(start);
  assert.ok(from >= 0, `${start} not found in i18n.ts`);
  const body = src.slice(from, src.indexOf(end, from));
  const out = new Map();
  for (const m of body.matchAll(/^\s+("?[\w-]+"?):\s*("(?:[^"\\]|\\.)*"),?\s*$/gm)) out.set(m[1].replace(/"/g, ""), JSON.parse(m[2]));
  return out;
}

test("i18n: every English text has a Chinese translation that differs (product names aside)", async () => {
  const src = await readFile(path.join(here, "..", "src", "i18n.ts"), "utf8");
  const en = dictionary(src, "const en = {", "} as const;");
  const zh = dictionary(src, "const zh: Dict = {", "\n};");
  assert.ok(en.size > 100, `parsed only ${en.size} English texts`);
  const missing = [...en.keys()].filter((k) => !zh.has(k));
  const same = [...en.keys()].filter((k) => zh.has(k) && zh.get(k) === en.get(k) && !sameInBothLanguages.has(k));
  const placeholders = [...en.keys()].filter((k) => {
    const p = (s) => [...(s ?? "").matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort().join();
    return zh.has(k) && p(en.get(k)) !== p(zh.get(k));
  });
  assert.deepEqual(missing, [], "keys without a Chinese text");
  assert.deepEqual(same, [], "keys whose Chinese text is the English one");
  assert.deepEqual(placeholders, [], "keys whose Chinese text has other {placeholders}");
});

describe("design: every page, both languages and themes, desktop and phone", { skip: !exe, concurrency: false }, () => {
  let browser, srv, upstream;
  before(async () => {
    await mkdir(shots, { recursive: true });
    upstream = await startFakeUpstream();
    srv = await startServer({ upstream: upstream.url });
    // Some traffic, so usage, overview and the request list have rows.
    for (let i = 0; i < 3; i++) {
      const r = await fetch(`${srv.origin}/v1/chat/completions`, {
        method: "POST",
        headers: { Authorization: `Bearer ${CLIENT_KEY}`, "Content-Type": "application/json" },
        body: JSON.stringify({ model: "test-model", messages: [{ role: "user", content: "hi" }] }),
      });
      assert.equal(r.status, 200, await r.text());
    }
    browser = await chromium.launch({ executablePath: exe, args: ["--no-sandbox", "--disable-dev-shm-usage"] });
  });
  after(async () => {
    await browser?.close();
    await srv?.stop();
    await upstream?.close();
  });

  /** Signs in with a context of the given language and colour scheme; records console errors. */
  async function session(lang, theme) {
    const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 }, locale: lang, colorScheme: theme });
    const page = await ctx.newPage();
    page.problems = [];
    page.on("console", (m) => m.type() === "error" && page.problems.push(`${m.text()} (${m.location().url})`));
    page.on("pageerror", (e) => page.problems.push(String(e)));
    await page.goto(`${srv.origin}/management.html`);
    await page.locator("input[name=key]").fill(MGMT_KEY);
    await page.locator("button[type=submit]").click();
    await page.locator("nav a[data-route]").first().waitFor({ state: "attached" });
    // The page's CSP refuses inline scripts; evaluate runs outside it.
    await page.evaluate(axeSource);
    return page;
  }

  /** Opens a route and waits until it has settled: its title, no spinner, its charts drawn. */
  async function open(page, route) {
    await page.evaluate((r) => (location.hash = `#/${r}`), route);
    await page.locator("#page-title").waitFor();
    await page
      .waitForFunction(() => !document.querySelector('[data-testid="state-loading"], .spinner'), null, { timeout: 5000 })
      .catch(() => undefined);
    if (route === "config") await page.locator(".cm-content").waitFor();
    if (route === "usage") await page.locator(".chart canvas").first().waitFor();
  }

  async function axeViolations(page) {
    return page.evaluate(async () => {
      const r = await globalThis.axe.run(document, {
        runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
        resultTypes: ["violations"],
      });
      return r.violations
        .filter((v) => v.impact === "serious" || v.impact === "critical")
        .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(" ") + " " + (n.failureSummary ?? "").split("\n")[1]).join(" | ")}`);
    });
  }

  for (const lang of ["en", "zh-CN"]) {
    for (const theme of ["light", "dark"]) {
      test(`every route in ${lang}, ${theme}: no console error, no sideways scroll, no serious axe violation`, async () => {
        const page = await session(lang, theme);
        const routes = await page.$$eval("nav a[data-route]", (as) => as.map((a) => a.dataset.route));
        assert.ok(routes.length >= 11, `the navigation lists ${routes.length} routes`);
        // English words left in the Chinese UI: a text node that is exactly an English dictionary text.
        const src = await readFile(path.join(here, "..", "src", "i18n.ts"), "utf8");
        const en = dictionary(src, "const en = {", "} as const;");
        const zh = dictionary(src, "const zh: Dict = {", "\n};");
        const fold = (s) => (s ?? "").replace(/（/g, " (").replace(/）/g, ")").replace(/：/g, ": ");
        // (Product names differ only in their brackets: "Codex (OpenAI)" is "Codex（OpenAI）".)
        const english = [...en].filter(([k, v]) => fold(zh.get(k)) !== v && v.length > 1 && !v.includes("{")).map(([, v]) => v);
        const failures = [];
        for (const width of [1400, 390]) {
          await page.setViewportSize({ width, height: width > 800 ? 900 : 844 });
          for (const route of routes) {
            await open(page, route);
            const name = `${route}-${lang}-${theme}-${width}`;
            const wide = await page.evaluate(() => ({ sw: document.documentElement.scrollWidth, iw: innerWidth }));
            if (wide.sw > wide.iw) failures.push(`${name}: page is ${wide.sw} px wide in a ${wide.iw} px window`);
            for (const v of await axeViolations(page)) failures.push(`${name}: axe ${v}`);
            if (lang === "zh-CN") {
              const left = await page.evaluate((words) => {
                const set = new Set(words);
                const found = [];
                const w = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
                for (let n = w.nextNode(); n; n = w.nextNode()) {
                  const s = n.textContent.trim().replace(/[:：]$/, "");
                  if (set.has(s) && n.parentElement?.closest("[lang]")?.getAttribute("lang") !== "en") found.push(s);
                }
                return found;
              }, english);
              for (const s of left) failures.push(`${name}: English text left in the Chinese UI: "${s}"`);
            }
            await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
          }
        }
        assert.deepEqual(page.problems, [], "console errors");
        assert.deepEqual(failures, []);
        await page.context().close();
      });
    }
  }

  test("the sign-in page, both languages and themes, desktop and phone: no sideways scroll, no serious axe violation", async () => {
    const failures = [];
    for (const lang of ["en", "zh-CN"])
      for (const theme of ["light", "dark"]) {
        const ctx = await browser.newContext({ locale: lang, colorScheme: theme });
        const page = await ctx.newPage();
        await page.goto(`${srv.origin}/management.html`);
        await page.locator("input[name=key]").waitFor();
        await page.evaluate(axeSource);
        for (const width of [1400, 390]) {
          await page.setViewportSize({ width, height: 844 });
          const name = `signin-${lang}-${theme}-${width}`;
          const wide = await page.evaluate(() => ({ sw: document.documentElement.scrollWidth, iw: innerWidth }));
          if (wide.sw > wide.iw) failures.push(`${name}: page is ${wide.sw} px wide`);
          for (const v of await axeViolations(page)) failures.push(`${name}: axe ${v}`);
          await page.screenshot({ path: path.join(shots, `${name}.png`) });
        }
        await ctx.close();
      }
    assert.deepEqual(failures, []);
  });

  test("phone: the menu button shows every navigation item; toasts do not cover inputs", async () => {
    const page = await session("en", "light");
    await page.setViewportSize({ width: 360, height: 740 });
    const nav = page.getByRole("navigation");
    assert.equal(await nav.isVisible(), false, "the navigation is folded behind the menu button");
    const menu = page.getByTestId("menu-button");
    assert.equal(await menu.getAttribute("aria-expanded"), "false");
    await menu.click();
    const links = nav.getByRole("link");
    for (const l of await links.all()) assert.ok(await l.isVisible(), `${await l.textContent()} is visible`);
    await page.screenshot({ path: path.join(shots, "menu-open-en-light-360.png"), fullPage: true });
    await nav.getByRole("link", { name: "Settings" }).click();
    await page.getByRole("heading", { name: "Settings" }).waitFor();
    await nav.waitFor({ state: "hidden" }); // choosing a page folds the menu again
    // A save shows a toast; it must not lie over a form control.
    for (const width of [1400, 360]) {
      await page.setViewportSize({ width, height: 800 });
      await page.getByTestId("setting-debug").click();
      const t = page.locator(".toast").first();
      await t.waitFor();
      const overlap = await page.evaluate(() => {
        const a = document.querySelector(".toast").getBoundingClientRect();
        return [...document.querySelectorAll("main input, main select, main textarea, main button")]
          .filter((e) => {
            const b = e.getBoundingClientRect();
            return b.width > 0 && a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
          })
          .map((e) => e.outerHTML.slice(0, 80));
      });
      assert.deepEqual(overlap, [], `at ${width} px the toast covers controls`);
      await t.click(); // dismissed by a click
      await t.waitFor({ state: "detached" });
    }
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });

  test("keyboard focus shows a ring; a click and a page title get none", async () => {
    const page = await session("en", "light");
    await open(page, "settings");
    const title = await page.locator("#page-title").evaluate((e) => getComputedStyle(e).outlineStyle);
    assert.equal(title, "none", "the focused page title has no ring");
    await page.getByRole("button", { name: "Sign out" }).focus();
    await page.keyboard.press("Shift+Tab");
    await page.keyboard.press("Tab");
    const ring = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    assert.equal(ring, "solid", "a keyboard-focused button has a ring");
    await page.context().close();
  });

  test("logs: with logging to file off the page says so and asks nothing (no 400); search and level filter", async () => {
    const page = await session("en", "light");
    const asked = [];
    page.on("request", (r) => /\/v0\/management\/logs/.test(r.url()) && asked.push(r.url()));
    await srv.api("PUT", "/logging-to-file", { value: false });
    await page.evaluate(() => location.reload());
    await page.locator("nav a[data-route]").first().waitFor({ state: "attached" });
    await open(page, "logs");
    await page.getByTestId("logging-off").waitFor();
    assert.deepEqual(asked, [], "GET /logs while logging to file is off");
    await page.getByRole("button", { name: "Turn on logging to file" }).click();
    await page.getByTestId("log-count").waitFor();
    await page.getByTestId("log-search").fill("no-such-line-anywhere-xyz");
    await page.getByTestId("log-count").getByText(/^0 lines of \d+$/).waitFor();
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });

  test("usage: garbage imports are explained; the recent request opens its log", async () => {
    const page = await session("en", "light");
    await open(page, "usage");
    await page.getByTestId("usage-import").setInputFiles({ name: "garbage.json", mimeType: "application/json", buffer: Buffer.from('{"hello": 1}') });
    await page.getByTestId("usage-import-result").getByText("garbage.json is not a usage export").waitFor();
    await page.getByTestId("usage-import").setInputFiles({ name: "bad.json", mimeType: "application/json", buffer: Buffer.from('{"version": 7, "usage": {}}') });
    await page.getByTestId("usage-import-result").getByText(/bad\.json was refused, nothing was imported: .*version/).waitFor();
    await page.getByTestId("usage-import").setInputFiles({ name: "text.json", mimeType: "application/json", buffer: Buffer.from("not json") });
    await page.getByTestId("usage-import-result").getByText("text.json is not JSON").waitFor();
    // Traffic ten days old that only the hourly aggregates hold (an export's
    // aggregates, no details): the per-model lines come from GET
    // /usage/series, so a month shows it; lines drawn from the newest
    // requests' details could not.
    const oldHour = Math.floor((Date.now() - 10 * 86400_000) / 3600_000) * 3600;
    const oldTraffic = {
      version: 1,
      exported_at: new Date().toISOString(),
      usage: {},
      aggregates: {
        instance: "design-test-old-server",
        requests: [
          { hour: oldHour, endpoint: "POST /v1/chat/completions", model: "legacy-model", client_key: "", requests: 1234, failures: 0,
            tokens: { input_tokens: 1000, output_tokens: 234, total_tokens: 1234 } },
        ],
        attempts: [],
        labels: {},
      },
    };
    await page.getByTestId("usage-import").setInputFiles({ name: "old.json", mimeType: "application/json", buffer: Buffer.from(JSON.stringify(oldTraffic)) });
    await page.getByTestId("usage-import-result").getByText(/Imported: 1,234 added/).waitFor();
    await page.getByTestId("usage-range").getByRole("button", { name: "Month", exact: true }).click();
    const legacy = page.getByTestId("chart-models").locator("tr", { hasText: "legacy-model" }).getByTestId("series-total");
    await legacy.waitFor({ state: "attached" });
    assert.equal(await legacy.textContent(), "1,234", "the month's per-model line holds the aggregates-only traffic");
    await page.getByTestId("usage-range").getByRole("button", { name: "Day", exact: true }).click();
    await legacy.waitFor({ state: "detached" });
    for (const name of ["Tokens", "Estimated cost", "Requests"]) {
      await page.getByTestId("usage-metric").getByRole("button", { name, exact: true }).click();
      await page.getByTestId("chart-models").locator("canvas").waitFor();
    }
    for (const name of ["Client key", "Credential", "Model"]) {
      await page.getByTestId("usage-group").getByRole("button", { name, exact: true }).click();
      await page.getByTestId("chart-models").locator("canvas").waitFor();
    }
    const recent = page.getByTestId("usage-recent");
    await recent.waitFor();
    // A request made while every request is logged: its log opens in place.
    assert.equal((await srv.api("PUT", "/request-log", { value: true })).status, 200);
    const r = await fetch(`${srv.origin}/v1/chat/completions`, {
      method: "POST",
      headers: { Authorization: `Bearer ${CLIENT_KEY}`, "Content-Type": "application/json" },
      body: JSON.stringify({ model: "test-model", messages: [{ role: "user", content: "logged" }] }),
    });
    assert.equal(r.status, 200);
    const id = r.headers.get("x-request-id");
    assert.ok(id, "X-Request-ID");
    await srv.api("PUT", "/request-log", { value: false });
    await page.getByRole("button", { name: "Reload", exact: true }).click();
    const openLog = page.getByRole("button", { name: `Open: Request log ${id}` });
    await openLog.waitFor();
    await openLog.click();
    await page.getByTestId("request-log-text").getByText(/logged/).first().waitFor();
    await page.screenshot({ path: path.join(shots, "usage-request-log-en-light-1400.png") });
    await page.getByRole("dialog").getByRole("button", { name: "Close" }).click();
    for (const name of ["Hour", "Week", "Month", "All"]) {
      await page.getByTestId("usage-range").getByRole("button", { name, exact: true }).click();
      await page.getByTestId("usage-totals").waitFor();
    }
    // The browser itself logs the refused import (400) and a request without a log (404).
    const unexpected = page.problems.filter((p) => !/status of (400|404).*\/(usage\/import|request-log-by-id\/)/.test(p));
    assert.deepEqual(unexpected, []);
    await page.context().close();
  });

  test("overview: health, last hour's traffic, and a curl per protocol with a real key and model", async () => {
    const page = await session("en", "light");
    await open(page, "overview");
    await page.getByTestId("ov-health").getByText("healthy").waitFor();
    // The requests made before this test (3 here, more when other tests ran first).
    const requests = Number((await page.getByTestId("ov-traffic").locator("dd").first().textContent()).replace(/\D/g, ""));
    assert.ok(requests >= 3, `last hour shows ${requests} requests`);
    for (const [tab, id, path] of [
      ["OpenAI chat", "openai", "/v1/chat/completions"],
      ["Claude messages", "claude", "/v1/messages"],
      ["Gemini generateContent", "gemini", "/v1beta/models/test-model:generateContent"],
    ]) {
      await page.getByRole("tab", { name: tab }).click();
      const code = await page.getByTestId(`curl-${id}`).textContent();
      assert.ok(code.includes(srv.origin + path), code);
      assert.ok(code.includes(CLIENT_KEY), code);
      assert.ok(code.includes("test-model"), code);
    }
    // The curl works as shown: run the OpenAI one's request.
    const r = await fetch(`${srv.origin}/v1/chat/completions`, {
      method: "POST",
      headers: { Authorization: `Bearer ${CLIENT_KEY}`, "Content-Type": "application/json" },
      body: JSON.stringify({ model: "test-model", messages: [{ role: "user", content: "Hello" }] }),
    });
    assert.equal(r.status, 200);
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });

  test("config.yaml: an unknown key is saved with the server's warning shown, not a bare \"Saved\"", async () => {
    const page = await session("en", "light");
    await open(page, "config");
    const editor = page.locator(".cm-content");
    await editor.filter({ hasText: "port" }).waitFor();
    await editor.click();
    await page.keyboard.press("Control+End");
    await page.keyboard.type("\nrequest-retyr: 5\n");
    await page.getByTestId("yaml-save").click();
    // The dry run first: the diff and the server's warning, nothing written yet.
    const preview = page.getByTestId("preview");
    await preview.getByTestId("preview-diff").getByText("+request-retyr: 5").waitFor();
    await preview.getByTestId("preview-items").getByText(/request-retyr/).waitFor();
    assert.doesNotMatch((await srv.api("GET", "/config.yaml")).body, /request-retyr/, "the preview wrote nothing");
    await page.screenshot({ path: path.join(shots, "config-preview-en-light-1400.png") });
    await page.getByTestId("preview-confirm").click();
    await page.getByTestId("yaml-warnings").getByText(/request-retyr/).waitFor();
    await page.screenshot({ path: path.join(shots, "config-warning-en-light-1400.png") });
    assert.match((await srv.api("GET", "/config.yaml")).body, /request-retyr: 5/);
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });
});

describe("design: a server with nothing configured", { skip: !exe, concurrency: false }, () => {
  test("the overview guides the first setup: client key, provider or OAuth, the example call", async () => {
    const srv = await startServer();
    // No client key either.
    assert.equal((await srv.api("PUT", "/api-keys", [])).status, 200);
    const browser = await chromium.launch({ executablePath: exe, args: ["--no-sandbox", "--disable-dev-shm-usage"] });
    try {
      for (const [lang, width] of [
        ["en", 1400],
        ["zh-CN", 390],
      ]) {
        const page = await browser.newPage({ locale: lang, viewport: { width, height: 900 } });
        await page.goto(`${srv.origin}/management.html`);
        await page.locator("input[name=key]").fill(MGMT_KEY);
        await page.locator("button[type=submit]").click();
        const setup = page.getByTestId("first-setup");
        await setup.waitFor();
        assert.equal(await setup.locator("a[href='#/keys']").count(), 1);
        assert.equal(await setup.locator("a[href='#/providers']").count(), 1);
        assert.equal(await setup.locator("a[href='#/oauth']").count(), 1);
        await page.screenshot({ path: path.join(shots, `overview-first-setup-${lang}-light-${width}.png`), fullPage: true });
        await page.close();
      }
    } finally {
      await browser.close();
      await srv.stop();
    }
  });
});
