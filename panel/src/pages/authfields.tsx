// The routing fields of one credential file (priority, weight, note,
// prefix, proxy URL, headers), edited through PATCH /auth-files/fields: the
// rest of the file's JSON is left as it is. The form starts from the file
// itself (downloaded), checks what it can before sending, and shows the
// server's refusal next to the field it names.
import { useEffect, useState } from "preact/hooks";
import { explain, networkError, type Explained } from "../api";
import { t, useLang, type TKey } from "../i18n";
import { api, toast } from "../store";
import { Loading, Problem, fmtNum, useId } from "../ui";
import type { LineError } from "../widgets";
import { checkLines } from "./lists";

const MAX_WEIGHT = 1_000_000;

export interface AuthFields {
  priority: string;
  weight: string;
  note: string;
  prefix: string;
  proxy: string;
  headers: string;
}

type FieldName = keyof AuthFields;
type Errors = Partial<Record<FieldName, string>> & { lines?: LineError[] };

function str(v: unknown): string {
  if (typeof v === "number") return String(v);
  return typeof v === "string" ? v : "";
}

/** The editable fields as the file holds them (either spelling of proxy-url). */
export function fieldsOf(file: Record<string, unknown>): AuthFields {
  const headers = file["headers"];
  return {
    priority: str(file["priority"]),
    weight: str(file["weight"]),
    note: str(file["note"]),
    prefix: str(file["prefix"]),
    proxy: str(file["proxy_url"] ?? file["proxy-url"]),
    headers:
      headers && typeof headers === "object" && !Array.isArray(headers)
        ? Object.entries(headers as Record<string, unknown>)
            .map(([k, v]) => `${k}: ${str(v)}`)
            .join("\n")
        : "",
  };
}

function headerMap(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split("\n")) {
    const l = raw.trim();
    const i = l.indexOf(":");
    if (i > 0) out[l.slice(0, i).trim()] = l.slice(i + 1).trim();
  }
  return out;
}

/** What the form can tell before sending: integers, the weight's range, header lines. */
export function checkFields(f: AuthFields): Errors {
  const errs: Errors = {};
  const int = /^-?\d+$/;
  if (f.priority.trim() && !int.test(f.priority.trim())) errs.priority = t("afErrInteger");
  const w = f.weight.trim();
  if (w && !int.test(w)) errs.weight = t("afErrInteger");
  else if (w && Number(w) > MAX_WEIGHT) errs.weight = t("afErrWeightMax", { max: fmtNum(MAX_WEIGHT) });
  const lines = checkLines("headers", f.headers.split("\n"));
  if (lines.length) errs.lines = lines;
  return errs;
}

/**
 * The PATCH body for what changed: blank removes a field (0 for priority,
 * null for weight, note and prefix, "" for the proxy); headers are merged by
 * the server, so a removed header is sent with an empty value.
 */
export function patchOf(name: string, was: AuthFields, now: AuthFields): Record<string, unknown> | null {
  const body: Record<string, unknown> = { name };
  const changed = (k: FieldName) => now[k].trim() !== was[k].trim();
  if (changed("priority")) body["priority"] = now.priority.trim() ? Number(now.priority) : 0;
  if (changed("weight")) body["weight"] = now.weight.trim() ? Number(now.weight) : null;
  if (changed("note")) body["note"] = now.note.trim() || null;
  if (changed("prefix")) body["prefix"] = now.prefix.trim() || null;
  if (changed("proxy")) body["proxy_url"] = now.proxy.trim();
  const before = headerMap(was.headers);
  const after = headerMap(now.headers);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(after)) if (before[k] !== v) headers[k] = v;
  for (const k of Object.keys(before)) if (!(k in after)) headers[k] = "";
  if (Object.keys(headers).length) body["headers"] = headers;
  return Object.keys(body).length > 1 ? body : null;
}

/** The form field a server message is about ("invalid proxy_url", "weight must …"). */
function fieldOfMessage(msg: string): FieldName | null {
  if (/proxy/i.test(msg)) return "proxy";
  if (/weight/i.test(msg)) return "weight";
  if (/priority/i.test(msg)) return "priority";
  if (/header/i.test(msg)) return "headers";
  if (/prefix/i.test(msg)) return "prefix";
  if (/note/i.test(msg)) return "note";
  return null;
}

export function AuthFieldsEditor(props: { name: string; onDone: (saved: boolean) => void }) {
  useLang();
  const id = useId("af");
  const [was, setWas] = useState<AuthFields | null>(null);
  const [now, setNow] = useState<AuthFields | null>(null);
  const [loadErr, setLoadErr] = useState<Explained | null>(null);
  const [errs, setErrs] = useState<Errors>({});
  const [formErr, setFormErr] = useState("");
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    void (async () => {
      try {
        const r = await api().GET("/auth-files/download", { params: { query: { name: props.name } }, parseAs: "text" });
        if (r.data === undefined) {
          setLoadErr(explain(r));
          return;
        }
        const parsed: unknown = JSON.parse(String(r.data));
        const f = fieldsOf(parsed && typeof parsed === "object" ? (parsed as Record<string, unknown>) : {});
        setWas(f);
        setNow(f);
      } catch (e) {
        setLoadErr(networkError(e));
      }
    })();
  }, [props.name]);

  if (loadErr) return <Problem err={loadErr} />;
  if (!was || !now) return <Loading />;

  const set = (k: FieldName) => (e: Event) => setNow({ ...now, [k]: (e.currentTarget as HTMLInputElement).value });

  async function save(e: Event) {
    e.preventDefault();
    if (!was || !now) return;
    const found = checkFields(now);
    setErrs(found);
    setFormErr("");
    if (Object.keys(found).length) return;
    const body = patchOf(props.name, was, now);
    if (!body) {
      props.onDone(false);
      return;
    }
    setBusy(true);
    try {
      const r = await api().PATCH("/auth-files/fields", { body: body as { name: string } });
      if (r.response.ok) {
        toast("ok", t("afSaved", { name: props.name }));
        props.onDone(true);
        return;
      }
      const x = explain(r);
      const field = fieldOfMessage(`${x.text} ${x.message}`);
      if (field && field !== "headers") setErrs({ [field]: x.text });
      else setFormErr(x.text);
    } catch (err) {
      setFormErr(networkError(err).text);
    } finally {
      setBusy(false);
    }
  }

  const field = (k: Exclude<FieldName, "headers">, label: TKey, opts: { hint?: TKey; mono?: boolean; numeric?: boolean } = {}) => {
    const fid = `${id}-${k}`;
    const err = errs[k];
    const described = [err ? `${fid}-err` : "", opts.hint ? `${fid}-hint` : ""].filter(Boolean).join(" ") || undefined;
    return (
      <div class="field">
        <label for={fid}>{t(label)}</label>
        <input
          id={fid}
          value={now[k]}
          class={opts.mono ? "mono" : undefined}
          inputMode={opts.numeric ? "numeric" : undefined}
          autocomplete="off"
          spellcheck={false}
          aria-invalid={err ? true : undefined}
          aria-describedby={described}
          data-testid={`af-${k}`}
          onInput={set(k)}
        />
        {err && (
          <small id={`${fid}-err`} class="field-error" role="alert" data-testid={`af-${k}-error`}>
            {err}
          </small>
        )}
        {opts.hint && (
          <small id={`${fid}-hint`} class="hint">
            {t(opts.hint)}
          </small>
        )}
      </div>
    );
  };

  const hid = `${id}-headers`;
  return (
    <form class="af-editor" onSubmit={(e) => void save(e)} data-testid="af-editor" aria-label={t("afTitle", { name: props.name })}>
      <div class="af-grid">
        {field("priority", "fxPriority", { hint: "afPriorityHint", numeric: true })}
        {field("weight", "fxWeight", { hint: "afWeightHint", numeric: true })}
        {field("prefix", "prefix", { hint: "afPrefixHint", mono: true })}
        {field("proxy", "proxyUrl", { hint: "afProxyHint", mono: true })}
      </div>
      {field("note", "afNote")}
      <div class="field">
        <label for={hid}>{t("headers")}</label>
        <textarea
          id={hid}
          class="mono"
          rows={Math.max(2, now.headers.split("\n").length + 1)}
          value={now.headers}
          aria-invalid={errs.lines?.length || errs.headers ? true : undefined}
          aria-describedby={errs.lines?.length ? `${hid}-err` : `${hid}-hint`}
          data-testid="af-headers"
          onInput={set("headers")}
        />
        {errs.lines && errs.lines.length > 0 && (
          <ul id={`${hid}-err`} class="line-errors" role="alert" data-testid="af-headers-error">
            {errs.lines.map((e) => (
              <li key={e.line}>{t("fxLineError", { n: e.line, why: e.text })}</li>
            ))}
          </ul>
        )}
        <small id={`${hid}-hint`} class="hint">
          {t("afHeadersHint")}
        </small>
      </div>
      {formErr && (
        <div class="notice error" role="alert" data-testid="af-error">
          <p>{formErr}</p>
        </div>
      )}
      <div class="row">
        <button type="submit" class="primary" disabled={busy} data-testid="af-save">
          {busy ? t("saving") : t("save")}
        </button>
        <button type="button" onClick={() => props.onDone(false)}>
          {t("cancel")}
        </button>
      </div>
    </form>
  );
}
