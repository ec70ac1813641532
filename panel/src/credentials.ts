// Cooldowns and credential identities, as the routing table names them:
// a config key entry is "<list>:<24 hex of SHA-256(list NUL fields…)>"
// (internal/config/identity.go), an auth file "auth-file:<name>".
import type { Schemas } from "@cli-proxy-api/management-client";
import { useEffect, useState } from "preact/hooks";
import { explain, networkError, type Explained } from "./api";
import { useLiveTick } from "./live";
import { api } from "./store";

export type Cooldown = Schemas["Cooldowns"]["cooldowns"][number];

/** The config lists whose ID covers base-url too (Gemini's is the key alone). */
const WITH_BASE = new Set(["codex-api-key", "claude-api-key", "xai-api-key", "vertex-api-key"]);

async function digest(kind: string, fields: string[]): Promise<string | null> {
  if (!globalThis.crypto?.subtle) return null; // not a secure context
  const parts = [kind, ...fields.map((f) => f.trim())].join("\0");
  const sum = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(parts)));
  return `${kind}:${Array.from(sum.slice(0, 12), (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** The credential ID of a provider key entry, or null when it cannot be computed here. */
export function keyEntryID(list: string, apiKey: string, baseUrl = ""): Promise<string | null> {
  return digest(list, WITH_BASE.has(list) ? [apiKey, baseUrl] : [apiKey]);
}

/** The credential ID of one key of an OpenAI-compatible provider. */
export function openaiKeyID(name: string, baseUrl: string, apiKey: string): Promise<string | null> {
  return digest("openai-compatibility", [name, baseUrl, apiKey]);
}

/** Whether a cooldown belongs to an auth file (a gemini-cli file has one per project). */
export function isFileCooldown(c: Cooldown, fileName: string): boolean {
  return c.credential === `auth-file:${fileName}` || c.credential.startsWith(`auth-file:${fileName}#`);
}

export interface CooldownState {
  list: Cooldown[] | null;
  err: Explained | null;
  reload: () => Promise<void>;
  reset: (credential?: string) => Promise<{ ok: boolean; cleared: number; err?: Explained }>;
}

/** GET /cooldowns, re-read on live changes and when a shown cooldown ends. */
export function useCooldowns(): CooldownState {
  const tick = useLiveTick();
  const [list, setList] = useState<Cooldown[] | null>(null);
  const [err, setErr] = useState<Explained | null>(null);
  async function reload() {
    try {
      const r = await api().GET("/cooldowns");
      if (r.data) {
        setList(r.data.cooldowns);
        setErr(null);
      } else setErr(explain(r));
    } catch (e) {
      setErr(networkError(e));
    }
  }
  useEffect(() => void reload(), [tick]);
  useEffect(() => {
    // Re-read when the first shown cooldown ends (bounded to once a minute at most rarely).
    if (!list?.length) return;
    const next = Math.min(...list.map((c) => new Date(c.until).getTime()));
    const id = setTimeout(() => void reload(), Math.max(1000, Math.min(next - Date.now() + 500, 60_000)));
    return () => clearTimeout(id);
  }, [list]);
  async function reset(credential?: string) {
    try {
      const r = await api().DELETE("/cooldowns", { params: { query: credential ? { credential } : {} } });
      await reload();
      if (r.data) return { ok: true, cleared: r.data.cleared };
      return { ok: false, cleared: 0, err: explain(r) };
    } catch (e) {
      return { ok: false, cleared: 0, err: networkError(e) };
    }
  }
  return { list, err, reload, reset };
}
