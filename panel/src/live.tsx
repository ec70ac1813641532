// Live updates: the panel follows GET /events while signed in. A change
// made elsewhere (another operator, a hand edit of config.yaml, a rollback)
// re-reads the config and shows a notice saying what changed; the panel's
// own writes do not. The stream reconnects by itself, resuming from the
// last event seen.
import { statusOf, watch, type ConfigChangeEvent, type ManagementClient, type WatchEvent } from "@cli-proxy-api/management-client";
import type { Middleware } from "openapi-fetch";
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { pageBase } from "./api";
import { t, useLang } from "./i18n";
import { loadConfig, onClient, state } from "./store";
import { When } from "./widgets";

export interface LiveNotice extends ConfigChangeEvent {
  seq: number;
  /** The re-read waits until the field being typed in is left. */
  pending: boolean;
}

interface Live {
  /** null before the first connection (and when signed out). */
  connected: boolean | null;
  notice: LiveNotice | null;
  /** Grows with every change made elsewhere: pages that keep their own data reload on it. */
  tick: number;
}

const live: Live = { connected: null, notice: null, tick: 0 };
const listeners = new Set<() => void>();

function set(patch: Partial<Live>): void {
  Object.assign(live, patch);
  listeners.forEach((f) => f());
}

export function useLive(): Live {
  const [, bump] = useState(0);
  useEffect(() => {
    const f = () => bump((n) => n + 1);
    listeners.add(f);
    return () => void listeners.delete(f);
  }, []);
  return live;
}

/** A number that changes when the config changed elsewhere: put it in an effect's deps to reload. */
export function useLiveTick(): number {
  return useLive().tick;
}

// ---- the panel's own writes -------------------------------------------

// ETags of revisions this panel wrote (bounded: the newest 64).
const own: string[] = [];
let inflight = 0;
let idleWaiters: (() => void)[] = [];

function normal(etag: string): string {
  return etag.replace(/^W\//, "");
}

function remember(etag: string): void {
  own.push(normal(etag));
  if (own.length > 64) own.shift();
}

function writing(method: string): boolean {
  return method !== "GET" && method !== "HEAD";
}

function finished(): void {
  inflight = Math.max(0, inflight - 1);
  if (inflight === 0) {
    const w = idleWaiters;
    idleWaiters = [];
    w.forEach((f) => f());
  }
}

/** Resolves when none of this panel's writes is waiting for its answer. */
function idle(): Promise<void> {
  return inflight === 0 ? Promise.resolve() : new Promise((r) => idleWaiters.push(r));
}

const ownWrites: Middleware = {
  onRequest({ request }) {
    if (writing(request.method)) inflight++;
    return undefined;
  },
  onResponse({ request, response }) {
    if (writing(request.method)) {
      const etag = response.headers.get("ETag");
      if (etag && response.ok) remember(etag);
      finished();
    }
    return undefined;
  },
  onError({ request }) {
    if (writing(request.method)) finished();
  },
};

// ---- the stream ------------------------------------------------------

let seq = 0;
const NOTICE_MS = 30_000;

async function onEvent(ev: WatchEvent): Promise<void> {
  if (ev.type === "reset") {
    await loadConfig();
    set({ tick: live.tick + 1 });
    return;
  }
  await idle();
  if (own.includes(normal(ev.data.etag))) return;
  const notice = { ...ev.data, seq: ++seq, pending: editing() !== null };
  set({ notice });
  // The history keeps it; the notice goes after a while by itself.
  setTimeout(() => live.notice?.seq === notice.seq && set({ notice: null }), NOTICE_MS);
  await settled();
  await loadConfig();
  set({ notice: live.notice?.seq === notice.seq ? { ...notice, pending: false } : live.notice, tick: live.tick + 1 });
}

/** The text field the user is typing in, if any. */
function editing(): HTMLElement | null {
  const el = document.activeElement;
  if (el instanceof HTMLTextAreaElement) return el;
  if (el instanceof HTMLInputElement && !["checkbox", "radio", "button", "submit", "file", "range", "color"].includes(el.type)) return el;
  if (el instanceof HTMLElement && el.isContentEditable) return el;
  return null;
}

/**
 * Waits while the user types: the re-read happens once the field is left
 * (and the save it starts has its answer), so typed text is never replaced;
 * a save made from the older revision then meets If-Match as usual.
 */
async function settled(): Promise<void> {
  for (let el = editing(); el; el = editing()) {
    const left = el;
    await new Promise<void>((resolve) => left.addEventListener("focusout", () => setTimeout(resolve, 0), { once: true }));
    await idle();
  }
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const id = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(id);
      resolve();
    });
  });
}

async function follow(client: ManagementClient, signal: AbortSignal): Promise<void> {
  let last = "";
  let delay = 1000;
  while (!signal.aborted && state.client === client) {
    try {
      last = await watch(
        {
          baseUrl: pageBase,
          key: state.key,
          lastEventId: last || undefined,
          signal,
          fetch: async (url, init) => {
            const r = await fetch(url, init);
            if (r.ok) {
              delay = 1000;
              set({ connected: true });
            }
            return r;
          },
        },
        onEvent,
      );
    } catch (err) {
      const status = statusOf(err);
      // A refused key or a disabled endpoint does not come back by retrying.
      if (status === 401 || status === 403 || status === 404) {
        set({ connected: false });
        return;
      }
    }
    if (signal.aborted) return;
    set({ connected: false });
    await pause(delay, signal);
    delay = Math.min(delay * 2, 30_000);
  }
}

let running: AbortController | null = null;
const wired = new WeakSet<ManagementClient>();
let host: HTMLElement | null = null;

onClient((client) => {
  running?.abort();
  running = null;
  set({ connected: null, notice: null });
  if (!client) return;
  if (!wired.has(client)) {
    client.use(ownWrites);
    wired.add(client);
  }
  if (!host) {
    host = document.createElement("div");
    host.id = "cpa-live";
    document.body.append(host);
    render(<Notice />, host);
  }
  running = new AbortController();
  void follow(client, running.signal);
});

// ---- the notice ------------------------------------------------------

const REVISION_KEY = "cpa-panel-history-revision";

/** Opens the History page on one revision. */
export function showRevision(revision: number): void {
  sessionStorage.setItem(REVISION_KEY, String(revision));
  if (location.hash === "#/history") dispatchEvent(new Event(SHOW_REVISION));
  else location.hash = "#/history";
}

/** Dispatched on window when the History page, already open, is asked for a revision. */
export const SHOW_REVISION = "cpa-show-revision";

/** The revision the History page was asked to show (read once). */
export function takeShownRevision(): number | null {
  const v = sessionStorage.getItem(REVISION_KEY);
  sessionStorage.removeItem(REVISION_KEY);
  const n = Number(v);
  return v && Number.isInteger(n) && n > 0 ? n : null;
}

function who(source: string): string {
  if (source === "file") return t("liveByFile");
  if (source === "rollback") return t("liveByRollback");
  return t("liveByApi");
}

function Notice() {
  useLang();
  const l = useLive();
  if (!state.client) return null;
  const n = l.notice;
  const paths = n ? n.paths.slice(0, 6).join(", ") + (n.paths.length > 6 ? ` (+${n.paths.length - 6})` : "") : "";
  return (
    <div role="status" aria-live="polite">
      {n && (
        <div class="live-notice" data-testid="live-notice">
          <p>
            {t("liveChanged", { who: who(n.source), paths: paths || "—", rev: n.revision })} <When at={n.at} />. {n.pending ? t("livePending") : t("liveRefreshed")}
          </p>
          <div class="row">
            <button type="button" onClick={() => showRevision(n.revision)}>
              {t("liveShow")}
            </button>
            <button type="button" onClick={() => set({ notice: null })} data-testid="live-dismiss">
              {t("fxDismiss")}
            </button>
          </div>
        </div>
      )}
      {!n && l.connected === false && (
        <div class="live-notice down" data-testid="live-down">
          <p>{t("liveDown")}</p>
        </div>
      )}
    </div>
  );
}
