// Panel state: the client, the config as last read with its ETag, status
// messages, and conflict-safe edits.
import { useEffect, useState } from "preact/hooks";
import type { ManagementClient } from "@cli-proxy-api/management-client";
import { etagOf, explain, networkError, ok, type ConfigView, type Explained, type Result } from "./api";
import { t } from "./i18n";

export interface Toast {
  id: number;
  kind: "ok" | "error" | "info";
  text: string;
}

export interface ConflictAsk {
  what: string;
  base: unknown;
  theirs: unknown;
  mine: unknown;
  resolve: (applyMine: boolean) => void;
}

export interface ConfirmAsk {
  text: string;
  resolve: (yes: boolean) => void;
}

export interface State {
  client: ManagementClient | null;
  key: string;
  cfg: ConfigView | null;
  etag: string | undefined;
  cfgError: Explained | null;
  version: { version: string; commit: string; date: string };
  toasts: Toast[];
  conflict: ConflictAsk | null;
  confirm: ConfirmAsk | null;
}

export const state: State = {
  client: null,
  key: "",
  cfg: null,
  etag: undefined,
  cfgError: null,
  version: { version: "", commit: "", date: "" },
  toasts: [],
  conflict: null,
  confirm: null,
};

const listeners = new Set<() => void>();
const clientHooks = new Set<(c: ManagementClient | null) => void>();
let lastClient: ManagementClient | null = null;

export function update(patch: Partial<State>): void {
  Object.assign(state, patch);
  if (state.client !== lastClient) {
    lastClient = state.client;
    clientHooks.forEach((f) => f(lastClient));
  }
  listeners.forEach((f) => f());
}

/** Calls `f` now and whenever the signed-in client changes (null: signed out). */
export function onClient(f: (c: ManagementClient | null) => void): void {
  clientHooks.add(f);
  f(state.client);
}

export function useStore(): State {
  const [, set] = useState(0);
  useEffect(() => {
    const f = () => set((n) => n + 1);
    listeners.add(f);
    return () => void listeners.delete(f);
  }, []);
  return state;
}

export function api(): ManagementClient {
  if (!state.client) throw new Error("not signed in");
  return state.client;
}

let toastId = 0;
export function toast(kind: Toast["kind"], text: string): void {
  const id = ++toastId;
  update({ toasts: [...state.toasts.slice(-3), { id, kind, text }] });
  setTimeout(() => update({ toasts: state.toasts.filter((x) => x.id !== id) }), kind === "error" ? 9000 : 4000);
}

export function noteVersion(res: Response): void {
  const v = res.headers.get("X-CPA-VERSION");
  if (v && v !== state.version.version) {
    update({
      version: { version: v, commit: res.headers.get("X-CPA-COMMIT") ?? "", date: res.headers.get("X-CPA-BUILD-DATE") ?? "" },
    });
  }
}

/** Reads GET /config and its ETag into the state. */
export async function loadConfig(): Promise<{ cfg: ConfigView; etag: string | undefined } | null> {
  try {
    const r = await api().GET("/config");
    noteVersion(r.response);
    if (r.data) {
      const etag = etagOf(r);
      update({ cfg: r.data, etag, cfgError: null });
      return { cfg: r.data, etag };
    }
    update({ cfgError: explain(r) });
  } catch (err) {
    update({ cfgError: networkError(err) });
  }
  return null;
}

export function askConfirm(text: string): Promise<boolean> {
  return new Promise((resolve) =>
    update({
      confirm: {
        text,
        resolve: (yes) => {
          update({ confirm: null });
          resolve(yes);
        },
      },
    }),
  );
}

export function askConflict(what: string, base: unknown, theirs: unknown, mine: unknown): Promise<boolean> {
  return new Promise((resolve) =>
    update({
      conflict: {
        what,
        base,
        theirs,
        mine,
        resolve: (applyMine) => {
          update({ conflict: null });
          resolve(applyMine);
        },
      },
    }),
  );
}

export function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(normal(a)) === JSON.stringify(normal(b));
}

function normal(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(normal);
  if (v && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x === undefined || x === "" || (Array.isArray(x) && x.length === 0)) continue;
      if (x && typeof x === "object" && !Array.isArray(x) && Object.keys(x).length === 0) continue;
      out[k] = normal(x);
    }
    return out;
  }
  return v ?? null;
}

/**
 * One edit of one item of the config. `base` is the item as the user saw it;
 * `current` finds the same item in another config; `send` writes the change
 * computed from a given config with If-Match (so an index is looked up again
 * in a fresh config).
 */
export interface Mutation {
  what: string;
  base: unknown;
  mine: unknown;
  current(cfg: ConfigView): unknown;
  send(cfg: ConfigView, ifMatch: string): Promise<Result>;
}

/**
 * Applies a mutation with If-Match. A 412 re-reads the config: when the item
 * is unchanged the edit is re-applied on the fresh config by itself; when the
 * same item changed, the user chooses between both versions.
 */
export function apply(m: Mutation): Promise<boolean> {
  // One at a time: a second edit starts from the revision the first wrote.
  const run = queue.then(() => applyNow(m));
  queue = run.then(
    () => undefined,
    () => undefined,
  );
  return run;
}

let queue: Promise<void> = Promise.resolve();

async function applyNow(m: Mutation): Promise<boolean> {
  let cfg = state.cfg;
  let etag = state.etag;
  if (!cfg || !etag) {
    const fresh = await loadConfig();
    if (!fresh) return false;
    ({ cfg, etag } = fresh);
  }
  let base = m.base;
  let reapplied = false;
  for (let attempt = 0; attempt < 5; attempt++) {
    let r: Result;
    try {
      r = await m.send(cfg, etag ?? "");
    } catch (err) {
      toast("error", networkError(err).text);
      return false;
    }
    noteVersion(r.response);
    if (ok(r)) {
      update({ etag: etagOf(r) ?? state.etag });
      await loadConfig();
      toast("ok", reapplied ? t("reapplied") : t("saved"));
      return true;
    }
    if (r.response.status !== 412) {
      toast("error", `${t("failed")}: ${explain(r).text}`);
      await loadConfig();
      return false;
    }
    const fresh = await loadConfig();
    if (!fresh) return false;
    const theirs = m.current(fresh.cfg);
    if (!deepEqual(theirs, base)) {
      const mine = await askConflict(m.what, base, theirs, m.mine);
      if (!mine) return false;
      base = theirs;
    }
    reapplied = true;
    ({ cfg, etag } = fresh);
  }
  toast("error", t("failed"));
  return false;
}
