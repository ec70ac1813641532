// The Management API as the panel uses it: every call goes through the
// TypeScript SDK (clients/typescript), with URLs relative to this page.
import {
  createManagementClient,
  etagOf,
  type ManagementClient,
  type Schemas,
} from "@cli-proxy-api/management-client";
import { t } from "./i18n";

export type ConfigView = Schemas["ConfigView"];
export type Result = { data?: unknown; error?: unknown; response: Response };

/** The directory of this page (ends with "/"): the API is at ./v0/management. */
export const pageBase = new URL(".", location.href).href;

export function makeClient(key: string): ManagementClient {
  return createManagementClient({ baseUrl: pageBase, key });
}

/** "enabled" or "disabled", as the server put it into the page. */
export function managementState(): string {
  return document.querySelector('meta[name="cpa-management"]')?.getAttribute("content") ?? "enabled";
}

// The key: sessionStorage by default, localStorage only with "remember me",
// never in a URL.
const KEY = "cpa-panel-management-key";

export function savedKey(): { key: string; remember: boolean } | null {
  const s = sessionStorage.getItem(KEY);
  if (s) return { key: s, remember: false };
  const l = localStorage.getItem(KEY);
  if (l) return { key: l, remember: true };
  return null;
}

export function storeKey(key: string, remember: boolean): void {
  forgetKey();
  (remember ? localStorage : sessionStorage).setItem(KEY, key);
}

export function forgetKey(): void {
  sessionStorage.removeItem(KEY);
  localStorage.removeItem(KEY);
}

function bodyField(body: unknown, field: string): string {
  if (body && typeof body === "object" && field in body) {
    const v = (body as Record<string, unknown>)[field];
    if (typeof v === "string") return v;
  }
  return "";
}

export interface Explained {
  status: number;
  kind: "auth" | "banned" | "remote" | "disabled" | "notimpl" | "conflict" | "invalid" | "network" | "other";
  text: string;
  message: string; // the body's message (e.g. a YAML error), if any
}

/** A failed answer in words: the 401/403/404 causes are told apart. */
export function explain(r: Result | { status: number; body: unknown; headers?: Headers }): Explained {
  const status = "response" in r ? r.response.status : r.status;
  const body = "response" in r ? r.error : r.body;
  const headers = "response" in r ? r.response.headers : r.headers;
  const code = bodyField(body, "error");
  const message = bodyField(body, "message");
  const lower = code.toLowerCase();
  if (status === 401) {
    return { status, kind: "auth", text: lower.includes("missing") ? t("errMissingKey") : t("errWrongKey"), message };
  }
  if (status === 403 && lower.includes("banned")) {
    const m = /try again in\s+(.+?)\.?$/i.exec(code);
    return { status, kind: "banned", text: t("errBanned", { left: m?.[1] ?? "?" }), message };
  }
  if (status === 403 && lower.includes("remote")) {
    return { status, kind: "remote", text: t("errRemoteDisabled"), message };
  }
  if (status === 429) {
    return { status, kind: "auth", text: t("errTooMany", { seconds: headers?.get("Retry-After") ?? "?" }), message };
  }
  if (status === 503 && lower === "busy") return { status, kind: "other", text: t("errBusy"), message };
  if (status === 501) return { status, kind: "notimpl", text: t("errNotImplemented"), message };
  if (status === 412) return { status, kind: "conflict", text: code, message };
  if (status === 422 || status === 400) {
    return { status, kind: "invalid", text: message ? `${code}: ${message}` : code, message };
  }
  const detail = message ? `${code}: ${message}` : code || (status ? String(status) : "");
  return { status, kind: "other", text: t("errGeneric", { status, detail }), message };
}

/** A result for a call that never got an answer. */
export function networkError(err: unknown): Explained {
  return { status: 0, kind: "network", text: t("errNetwork", { detail: String(err) }), message: "" };
}

export function ok(r: Result): boolean {
  return r.response.status >= 200 && r.response.status < 300;
}

export { etagOf };

/** Fetches a binary or text resource with the key and saves it as a file. */
export async function download(res: Response, fallbackName: string): Promise<void> {
  const blob = await res.blob();
  const cd = res.headers.get("Content-Disposition") ?? "";
  const m = /filename="?([^";]+)"?/.exec(cd);
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = m?.[1] ?? fallbackName;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}
