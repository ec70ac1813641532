import { withIfMatch, type Schemas } from "@cli-proxy-api/management-client";
import { useEffect, useState } from "preact/hooks";
import { explain, networkError, ok, type ConfigView, type Result } from "../api";
import { keyEntryID, openaiKeyID, useCooldowns, type Cooldown, type CooldownState } from "../credentials";
import { t, useLang, type TKey } from "../i18n";
import { useLiveTick } from "../live";
import { api, apply, loadConfig, state, toast, useStore } from "../store";
import { Empty, Page, Problem, TextField, Toggle, count, fmtNum, mask, useId } from "../ui";
import { BuiltinModels, ModelAliases, OAUTH_CHANNELS } from "./modelcatalog";
import { Badge, LinesField, NumberField, When, askPreview, type LineError } from "../widgets";
import { PolicyKeys } from "./features";

type Obj = Record<string, unknown>;

// ---- text encodings of structured fields -------------------------------

type FieldKind = "text" | "secret" | "lines" | "headers" | "models" | "entries";

function encode(kind: FieldKind, v: unknown): string {
  switch (kind) {
    case "lines":
      return ((v as string[] | undefined) ?? []).join("\n");
    case "headers":
      return Object.entries((v as Record<string, string> | undefined) ?? {})
        .map(([k, x]) => `${k}: ${x}`)
        .join("\n");
    case "models":
      return ((v as Schemas["ModelAlias"][] | undefined) ?? [])
        .map((m) => (m.alias && m.alias !== m.name ? `${m.name ?? ""} => ${m.alias}` : m.name ?? ""))
        .join("\n");
    case "entries":
      return ((v as Schemas["ApiKeyEntry"][] | undefined) ?? [])
        .map((e) => (e["proxy-url"] ? `${e["api-key"]} ${e["proxy-url"]}` : e["api-key"]))
        .join("\n");
    default:
      return (v as string | undefined) ?? "";
  }
}

function lines(s: string): string[] {
  return s
    .split("\n")
    .map((x) => x.trim())
    .filter(Boolean);
}

function decode(kind: FieldKind, s: string): unknown {
  switch (kind) {
    case "lines":
      return lines(s);
    case "headers": {
      const out: Record<string, string> = {};
      for (const l of lines(s)) {
        const i = l.indexOf(":");
        if (i > 0) out[l.slice(0, i).trim()] = l.slice(i + 1).trim();
      }
      return out;
    }
    case "models":
      return lines(s).map((l) => {
        const [name, alias] = l.split("=>").map((x) => x.trim());
        return alias ? { name, alias } : { name, alias: name };
      });
    case "entries":
      return lines(s).map((l) => {
        const [key, proxy] = l.split(/\s+/);
        return proxy ? { "api-key": key, "proxy-url": proxy } : { "api-key": key };
      });
    default:
      return s.trim();
  }
}

/** Entries decoded from text keep the routing fields of the keys they keep. */
function mergeEntries(decoded: Obj[], old: unknown): Obj[] {
  const prev = new Map(((old as Obj[] | undefined) ?? []).map((e) => [String(e["api-key"]), e]));
  return decoded.map((e) => {
    const was = prev.get(String(e["api-key"]));
    if (!was) return e;
    const { "proxy-url": _p, ...rest } = was;
    return { ...rest, ...e };
  });
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const PROXY_SCHEMES = new Set(["http:", "https:", "socks5:", "socks5h:"]);

/** Every invalid line of a structured field, with its number and why (nothing is dropped). */
export function checkLines(kind: FieldKind, all: string[]): LineError[] {
  const errs: LineError[] = [];
  const seen = new Map<string, number>();
  all.forEach((raw, i) => {
    const l = raw.trim();
    const n = i + 1;
    if (!l) return;
    const dup = (key: string) => {
      const k = key.toLowerCase();
      const first = seen.get(k);
      if (first !== undefined) errs.push({ line: n, text: t("errDuplicateLine", { n: first }) });
      else seen.set(k, n);
    };
    switch (kind) {
      case "headers": {
        const c = l.indexOf(":");
        if (c <= 0) {
          errs.push({ line: n, text: t("errHeaderLine") });
          return;
        }
        const name = l.slice(0, c).trim();
        if (!HEADER_NAME.test(name)) errs.push({ line: n, text: t("errHeaderName", { name }) });
        else if (!l.slice(c + 1).trim()) errs.push({ line: n, text: t("errHeaderValue", { name }) });
        else dup(name);
        return;
      }
      case "models": {
        const parts = l.split("=>").map((x) => x.trim());
        if (parts.length > 2 || parts.some((x) => !x || /\s/.test(x))) errs.push({ line: n, text: t("errModelLine") });
        else dup(parts[1] ?? parts[0]!);
        return;
      }
      case "entries": {
        const parts = l.split(/\s+/);
        if (parts.length > 2) {
          errs.push({ line: n, text: t("errEntryLine") });
          return;
        }
        if (parts[1]) {
          let u: URL | null = null;
          try {
            u = new URL(parts[1]);
          } catch {
            u = null;
          }
          if (!u || !PROXY_SCHEMES.has(u.protocol) || !u.host) {
            errs.push({ line: n, text: t("errProxyUrl") });
            return;
          }
        }
        dup(parts[0]!);
        return;
      }
      case "lines":
        if (/\s/.test(l)) errs.push({ line: n, text: t("errSpaceInLine") });
        else dup(l);
        return;
      default:
        return;
    }
  });
  return errs.sort((a, b) => a.line - b.line);
}

// ---- dry runs before risky saves ------------------------------------------

/**
 * Runs `dry` (the change with ?dryRun=true) on the current revision and shows
 * the diff it would make; resolves true when the user confirms.
 */
export async function previewChange(title: string, intro: string, dry: (c: ConfigView, ifMatch: string) => Promise<Result>, confirm = t("confirm")): Promise<boolean> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const cur = state.cfg && state.etag ? { cfg: state.cfg, etag: state.etag } : await loadConfig();
    if (!cur) return false;
    let r: Result;
    try {
      r = await dry(cur.cfg, cur.etag ?? "");
    } catch (err) {
      toast("error", networkError(err).text);
      return false;
    }
    if (r.response.status === 412) {
      await loadConfig();
      continue;
    }
    if (!ok(r)) {
      toast("error", `${t("failed")}: ${explain(r).text}`);
      return false;
    }
    const diff = (r.data as { diff?: string } | undefined)?.diff ?? "";
    return askPreview({ title, intro, diff, confirm, danger: true });
  }
  return false;
}

// ---- a generic list of objects ------------------------------------------

interface FieldDef {
  name: string;
  label: TKey;
  kind: FieldKind;
}

interface ListDef {
  id: string;
  title: string;
  keyField: string;
  fields: FieldDef[];
  items(c: ConfigView): Obj[];
  put(items: Obj[], ifMatch: string): Promise<Result>;
  patch(index: number, value: Obj, ifMatch: string): Promise<Result>;
  del(index: number, ifMatch: string, dryRun?: boolean): Promise<Result>;
  /** The config list name (the kind part of credential IDs); routing fields are edited for provider lists. */
  list?: string;
}

function find(def: ListDef, c: ConfigView, key: string): Obj | undefined {
  return def.items(c).find((x) => x[def.keyField] === key);
}

function indexOf(def: ListDef, c: ConfigView, key: string): number {
  return def.items(c).findIndex((x) => x[def.keyField] === key);
}

function ObjectList(props: { def: ListDef; cfg: ConfigView; cooldowns?: CooldownState; usage?: KeyUsage | null; pageTitled?: boolean }) {
  useLang();
  const { def, cfg } = props;
  const items = def.items(cfg);
  return (
    <section class="list" aria-labelledby={`${def.id}-h`} data-testid={`list-${def.id}`}>
      {/* The only list of a page named like it: its heading is for screen readers only. */}
      <h2 id={`${def.id}-h`} class={props.pageTitled ? "sr-only" : undefined}>
        {def.title}
      </h2>
      {items.length === 0 && <p class="muted">{t("listEmpty")}</p>}
      <ol class="entries">
        {items.map((item, i) => (
          <Entry key={`${String(item[def.keyField])}-${i}`} def={def} item={item} index={i} count={items.length} cooldowns={props.cooldowns} usage={props.usage ?? null} />
        ))}
      </ol>
      <AddForm def={def} />
    </section>
  );
}

/** The credential IDs of an entry: one for a provider key, one per key of an OpenAI-compatible provider. */
function useEntryIDs(def: ListDef, item: Obj): string[] {
  const [ids, setIds] = useState<string[]>([]);
  const apiKey = String(item["api-key"] ?? "");
  const base = String(item["base-url"] ?? "");
  const entries = def.id === "openai" ? ((item["api-key-entries"] as Obj[] | undefined) ?? []).map((e) => String(e["api-key"] ?? "")) : [];
  const sig = `${apiKey}\0${base}\0${entries.join("\0")}\0${String(item["name"] ?? "")}`;
  useEffect(() => {
    let live = true;
    const all =
      def.id === "openai"
        ? Promise.all((entries.length ? entries : [""]).map((k) => openaiKeyID(String(item["name"] ?? ""), base, k)))
        : def.list
          ? Promise.all([keyEntryID(def.list, apiKey, base)])
          : Promise.resolve([]);
    void all.then((x) => live && setIds(x.filter((v): v is string => Boolean(v))));
    return () => void (live = false);
  }, [sig]);
  return ids;
}

function CooldownLine(props: { mine: Cooldown[]; onReset: () => void; what: string }) {
  useLang();
  if (!props.mine.length) return null;
  return (
    <div class="notice" data-testid="entry-cooldown">
      <ul class="links">
        {props.mine.map((c) => (
          <li key={`${c.credential}-${c.model}`}>
            {t("coolingDown", { model: c.model, reason: t(`cooldown_${c.reason.replace("-", "_")}` as TKey) ?? c.reason })} <When at={c.until} />
          </li>
        ))}
      </ul>
      <button type="button" onClick={props.onReset} aria-label={`${t("resetCooldown")}: ${props.what}`} data-testid="entry-cooldown-reset">
        {t("resetCooldown")}
      </button>
    </div>
  );
}

type KeyUsage = Schemas["APIKeyUsage"];

/** GET /api-key-usage: success and failure counts per configured key, re-read on live changes. */
function useKeyUsage(): KeyUsage | null {
  const tick = useLiveTick();
  const [usage, setUsage] = useState<KeyUsage | null>(null);
  useEffect(() => {
    void api()
      .GET("/api-key-usage")
      .then((r) => setUsage(r.data ?? null))
      .catch(() => setUsage(null));
  }, [tick]);
  return usage;
}

/** The counts of an entry: its key's, or the sum over an OpenAI-compatible provider's keys. */
function entryCounts(def: ListDef, item: Obj, usage: KeyUsage | null): { success: number; failed: number } | null {
  if (!usage) return null;
  const base = String(item["base-url"] ?? "").trim();
  const provider = def.id === "openai" ? String(item["name"] ?? "").trim().toLowerCase() : def.id;
  const byKey = usage[provider];
  if (!byKey) return null;
  const keys = def.id === "openai" ? ((item["api-key-entries"] as Obj[] | undefined) ?? []).map((e) => String(e["api-key"] ?? "").trim()) : [String(item["api-key"] ?? "").trim()];
  let success = 0;
  let failed = 0;
  let found = false;
  for (const k of keys) {
    const e = byKey[`${base}|${k}`];
    if (!e) continue;
    found = true;
    success += e.success;
    failed += e.failed;
  }
  return found ? { success, failed } : null;
}

type TestResult = Schemas["ProviderTestResult"];

/** "Test connection": the entry's upstream lists its models with the entry's key; the models can be added. */
function ProviderTest(props: { def: ListDef; item: Obj; what: string; onAddModels?: (ids: string[]) => void }) {
  useLang();
  const { def, item } = props;
  const [busy, setBusy] = useState(false);
  const [results, setResults] = useState<{ label: string; r: TestResult }[] | null>(null);
  const [err, setErr] = useState<string | null>(null);
  const [picked, setPicked] = useState<Set<string>>(new Set());
  const list = def.list ?? (def.id === "openai" ? "openai-compatibility" : "");
  if (!list) return null;
  const keys = def.id === "openai" ? ((item["api-key-entries"] as Obj[] | undefined) ?? []) : [];

  async function run() {
    setBusy(true);
    setErr(null);
    setPicked(new Set());
    const cfg = state.cfg;
    const index = cfg ? indexOf(def, cfg, String(item[def.keyField] ?? "")) : -1;
    if (index < 0) {
      setBusy(false);
      return;
    }
    const out: { label: string; r: TestResult }[] = [];
    // One test per key of an OpenAI-compatible provider (at most 10), else the entry's key.
    const targets = def.id === "openai" ? (keys.length ? keys.slice(0, 10).map((k, i) => ({ label: mask(String(k["api-key"] ?? "")), ki: i })) : [{ label: t("noKey"), ki: undefined }]) : [{ label: "", ki: undefined }];
    for (const tg of targets) {
      try {
        const r = await api().POST("/providers/test", {
          body: { list: list as Schemas["ProviderTestRequest"]["list"], index, ...(tg.ki !== undefined ? { "key-index": tg.ki } : {}) },
        });
        if (r.data) out.push({ label: tg.label, r: r.data });
        else {
          setErr(explain(r).text);
          break;
        }
      } catch (e) {
        setErr(networkError(e).text);
        break;
      }
    }
    setResults(out);
    setBusy(false);
  }

  const have = new Set(((item["models"] as Schemas["ModelAlias"][] | undefined) ?? []).map((m) => m.name ?? ""));
  const fetched = Array.from(new Set((results ?? []).flatMap((x) => x.r.models)));
  return (
    <div class="provider-test">
      <button type="button" onClick={() => void run()} disabled={busy} aria-label={`${t("testConnection")}: ${props.what}`} data-testid={`${def.id}-test`}>
        {busy ? t("testing") : t("testConnection")}
      </button>
      {err && (
        <p class="bad" role="alert">
          {err}
        </p>
      )}
      {results && (
        <div role="status" data-testid={`${def.id}-test-result`}>
          {results.map(({ label, r }, i) => (
            <p key={i}>
              {label && <span class="mono">{label}: </span>}
              <Badge kind={r.ok ? "ok" : "bad"}>{r.ok ? t("testOk") : t("testFailed")}</Badge>{" "}
              {r.status ? `HTTP ${r.status} · ` : ""}
              {t("fxLatencyMs", { ms: r["latency-ms"] })}
              {r.ok ? ` · ${count(r.models.length, "modelsFoundOne", "modelsFound")}` : ""}
              {r.reason && <span class="muted"> · {r.reason}</span>}
            </p>
          ))}
          {fetched.length > 0 && (
            <details>
              <summary>{t("fetchedModels", { n: fetched.length })}</summary>
              <ul class="model-picks" data-testid={`${def.id}-fetched`}>
                {fetched.map((m) => (
                  <li key={m}>
                    <label class="toggle">
                      <input
                        type="checkbox"
                        checked={have.has(m) || picked.has(m)}
                        disabled={have.has(m) || !props.onAddModels}
                        onChange={(e) => {
                          const next = new Set(picked);
                          if ((e.currentTarget as HTMLInputElement).checked) next.add(m);
                          else next.delete(m);
                          setPicked(next);
                        }}
                      />
                      <span class="mono">{m}</span>
                    </label>
                  </li>
                ))}
              </ul>
              {props.onAddModels && (
                <button
                  type="button"
                  class="primary"
                  disabled={picked.size === 0}
                  data-testid={`${def.id}-add-models`}
                  onClick={() => {
                    props.onAddModels!(Array.from(picked));
                    setPicked(new Set());
                  }}
                >
                  {t("addPickedModels", { n: picked.size })}
                </button>
              )}
            </details>
          )}
        </div>
      )}
    </div>
  );
}

function Entry(props: { def: ListDef; item: Obj; index: number; count: number; cooldowns?: CooldownState; usage: KeyUsage | null }) {
  useLang();
  const { def, item, index } = props;
  const key = String(item[def.keyField] ?? "");
  const what = `${def.title} #${index + 1} (${def.keyField === "api-key" ? mask(key) : key})`;
  const ids = useEntryIDs(def, item);
  const mine = (props.cooldowns?.list ?? []).filter((c) => ids.includes(c.credential));

  const saveValue = (name: string, value: unknown) =>
    apply({
      what,
      base: item,
      mine: { ...item, [name]: value },
      current: (c) => find(def, c, key),
      send: (c, ifMatch) => {
        const i = indexOf(def, c, key);
        if (i < 0) return def.put([...def.items(c), { ...item, [name]: value }], ifMatch);
        return def.patch(i, { [name]: value }, ifMatch);
      },
    });

  const saveField = (f: FieldDef, text: string) => {
    let value = decode(f.kind, text);
    if (f.kind === "entries") value = mergeEntries(value as Obj[], item[f.name]);
    return saveValue(f.name, value);
  };

  const move = (dir: -1 | 1) => {
    const other = def.items(stateCfg())[index + dir];
    if (!other) return;
    const otherKey = String(other[def.keyField]);
    return apply({
      what,
      base: [item, other],
      mine: t(dir < 0 ? "moveUp" : "moveDown"),
      current: (c) => {
        const a = indexOf(def, c, key);
        const b = indexOf(def, c, otherKey);
        return b - a === dir ? [find(def, c, key), find(def, c, otherKey)] : undefined;
      },
      send: (c, ifMatch) => {
        const list = [...def.items(c)];
        const a = indexOf(def, c, key);
        const b = indexOf(def, c, otherKey);
        [list[a], list[b]] = [list[b]!, list[a]!];
        return def.put(list, ifMatch);
      },
    });
  };

  const remove = async () => {
    const yes = await previewChange(t("confirmDelete", { what }), t("previewIntro"), (c, ifMatch) => def.del(indexOf(def, c, key), ifMatch, true));
    if (!yes) return;
    await apply({
      what,
      base: item,
      mine: undefined,
      current: (c) => find(def, c, key),
      send: (c, ifMatch) => def.del(indexOf(def, c, key), ifMatch),
    });
  };

  const resetCooldowns = async () => {
    if (!props.cooldowns) return;
    let cleared = 0;
    for (const id of new Set(mine.map((c) => c.credential))) {
      const r = await props.cooldowns.reset(id);
      if (!r.ok) {
        toast("error", `${t("failed")}: ${r.err?.text ?? ""}`);
        return;
      }
      cleared += r.cleared;
    }
    toast("ok", t("cooldownsCleared", { n: cleared }));
  };

  const disabled = item["disabled"] === true;
  const counts = entryCounts(def, item, props.usage);
  return (
    <li class="entry" data-testid={`${def.id}-entry`}>
      <fieldset>
        <legend>
          {t("entryN", { n: index + 1 })}
          {key && <span class="legend-name"> · {def.keyField === "api-key" ? mask(key) : key}</span>}{" "}
          {disabled && <Badge kind="warn">{t("fxDisabled")}</Badge>}
          {mine.length > 0 && <Badge kind="bad">{t("coolingBadge")}</Badge>}
        </legend>
        <CooldownLine mine={mine} onReset={() => void resetCooldowns()} what={what} />
        {counts && (
          <p class="meta" data-testid={`${def.id}-counts`}>
            {t("successFailed")}: <span class="good">{fmtNum(counts.success)}</span> / <span class={counts.failed ? "bad" : ""}>{fmtNum(counts.failed)}</span>
          </p>
        )}
        {def.list && (
          <div class="steer">
            <Toggle label={t("fxEnabled")} checked={!disabled} testid={`${def.id}-enabled`} onSave={(v) => saveValue("disabled", !v)} />
            <NumberField label={t("fxPriority")} value={item["priority"] as number | undefined} min={-1000000000} max={1000000000} testid={`${def.id}-priority`} onSave={(v) => void saveValue("priority", v ?? 0)} />
            <NumberField label={t("fxWeight")} value={item["weight"] as number | undefined} min={0} max={1000000} testid={`${def.id}-weight`} onSave={(v) => void saveValue("weight", v ?? 0)} />
            <NumberField label={t("fxMaxConcurrency")} value={item["max-concurrency"] as number | undefined} min={0} max={1000000} testid={`${def.id}-max-concurrency`} onSave={(v) => void saveValue("max-concurrency", v ?? 0)} />
          </div>
        )}
        {def.fields.map((f) =>
          f.kind === "secret" ? (
            <SecretField key={f.name} label={t(f.label)} value={key} onSave={(v) => void saveField(f, v)} />
          ) : f.kind === "text" ? (
            <TextField key={f.name} label={t(f.label)} value={encode(f.kind, item[f.name])} mono testid={`${def.id}-${f.name}`} onSave={(v) => saveField(f, v)} />
          ) : (
            <LinesField
              key={f.name}
              label={t(f.label)}
              value={encode(f.kind, item[f.name])}
              hint={t(`hint_${f.kind}` as TKey)}
              check={(l) => checkLines(f.kind, l)}
              testid={`${def.id}-${f.name}`}
              onSave={(v) => void saveField(f, v)}
            />
          ),
        )}
        <ProviderTest
          def={def}
          item={item}
          what={what}
          onAddModels={
            def.fields.some((f) => f.name === "models")
              ? (ids) => {
                  const cur = (item["models"] as Schemas["ModelAlias"][] | undefined) ?? [];
                  void saveValue("models", [...cur, ...ids.map((name) => ({ name, alias: name }))]);
                }
              : undefined
          }
        />
        <div class="row">
          <button type="button" disabled={index === 0} onClick={() => void move(-1)} aria-label={`${t("moveUp")}: ${what}`}>
            ↑ {t("moveUp")}
          </button>
          <button type="button" disabled={index === props.count - 1} onClick={() => void move(1)} aria-label={`${t("moveDown")}: ${what}`}>
            ↓ {t("moveDown")}
          </button>
          <button type="button" class="danger" onClick={() => void remove()} aria-label={`${t("delete")}: ${what}`}>
            {t("delete")}
          </button>
        </div>
      </fieldset>
    </li>
  );
}

function stateCfg(): ConfigView {
  return state.cfg ?? {};
}

function SecretField(props: { label: string; value: string; onSave: (v: string) => void }) {
  const [shown, setShown] = useState(false);
  const id = useId("s");
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <div class="row">
        <input
          id={id}
          key={props.value + shown}
          class="mono"
          type={shown ? "text" : "password"}
          defaultValue={props.value}
          autocomplete="off"
          spellcheck={false}
          data-testid="secret-input"
          onChange={(e) => {
            const v = (e.currentTarget as HTMLInputElement).value.trim();
            if (v && v !== props.value) props.onSave(v);
          }}
        />
        <button type="button" aria-pressed={shown} onClick={() => setShown(!shown)}>
          {shown ? t("hideKey") : t("showKey")}
        </button>
      </div>
    </div>
  );
}

function AddForm(props: { def: ListDef }) {
  const { def } = props;
  const first = def.fields.filter((f) => f.kind === "text" || f.kind === "secret").slice(0, 3);
  const baseId = useId("add");
  return (
    <form
      class="add"
      aria-label={`${t("addEntry")}: ${def.title}`}
      onSubmit={async (e) => {
        e.preventDefault();
        const form = e.currentTarget as HTMLFormElement;
        const item: Obj = {};
        for (const f of first) {
          const v = (form.elements.namedItem(f.name) as HTMLInputElement).value.trim();
          if (v) item[f.name] = v;
        }
        const key = String(item[def.keyField] ?? "");
        if (!key) return;
        if (state.cfg && find(def, state.cfg, key)) {
          toast("error", t("alreadyExists", { what: def.keyField === "api-key" ? mask(key) : key }));
          return;
        }
        const done = await apply({
          what: `${def.title}: ${def.keyField === "api-key" ? mask(key) : key}`,
          base: undefined,
          mine: item,
          current: (c) => find(def, c, key),
          send: (c, ifMatch) => def.put([...def.items(c), item], ifMatch),
        });
        if (done) form.reset();
      }}
    >
      <div class="add-grid">
      {first.map((f) => (
        <div class="field" key={f.name}>
          <label for={`${baseId}-${f.name}`}>{t(f.label)}</label>
          <input
            id={`${baseId}-${f.name}`}
            name={f.name}
            class="mono"
            autocomplete="off"
            spellcheck={false}
            required={f.name === def.keyField}
            data-testid={`${def.id}-new-${f.name}`}
          />
        </div>
      ))}
      </div>
      <button type="submit" class="primary" data-testid={`${def.id}-add`}>
        {t("addEntry")}
      </button>
    </form>
  );
}

// ---- provider key lists ---------------------------------------------------

const common: FieldDef[] = [
  { name: "api-key", label: "apiKey", kind: "secret" },
  { name: "base-url", label: "baseUrl", kind: "text" },
  { name: "prefix", label: "prefix", kind: "text" },
  { name: "proxy-url", label: "proxyUrl", kind: "text" },
  { name: "headers", label: "headers", kind: "headers" },
];
const excludedF: FieldDef = { name: "excluded-models", label: "excluded", kind: "lines" };
const modelsF: FieldDef = { name: "models", label: "models", kind: "models" };

function h(ifMatch: string) {
  return { header: withIfMatch(ifMatch) };
}

const providerDefs: ListDef[] = [
  {
    id: "gemini",
    title: t("providerKind_gemini"),
    keyField: "api-key",
    fields: [...common, excludedF],
    list: "gemini-api-key",
    items: (c) => (c["gemini-api-key"] ?? []) as Obj[],
    put: (items, m) => api().PUT("/gemini-api-key", { body: items as Schemas["GeminiKey"][], params: h(m) }),
    patch: (index, value, m) => api().PATCH("/gemini-api-key", { body: { index, value }, params: h(m) }),
    del: (index, m, dryRun) => api().DELETE("/gemini-api-key", { params: { ...h(m), query: { index, ...(dryRun ? { dryRun } : {}) } } }),
  },
  {
    id: "codex",
    title: t("providerKind_codex"),
    keyField: "api-key",
    fields: [...common, excludedF, modelsF],
    list: "codex-api-key",
    items: (c) => (c["codex-api-key"] ?? []) as Obj[],
    put: (items, m) => api().PUT("/codex-api-key", { body: items as Schemas["CodexKey"][], params: h(m) }),
    patch: (index, value, m) => api().PATCH("/codex-api-key", { body: { index, value }, params: h(m) }),
    del: (index, m, dryRun) => api().DELETE("/codex-api-key", { params: { ...h(m), query: { index, ...(dryRun ? { dryRun } : {}) } } }),
  },
  {
    id: "claude",
    title: t("providerKind_claude"),
    keyField: "api-key",
    fields: [...common, excludedF, modelsF],
    list: "claude-api-key",
    items: (c) => (c["claude-api-key"] ?? []) as Obj[],
    put: (items, m) => api().PUT("/claude-api-key", { body: items as Schemas["ClaudeKey"][], params: h(m) }),
    patch: (index, value, m) => api().PATCH("/claude-api-key", { body: { index, value }, params: h(m) }),
    del: (index, m, dryRun) => api().DELETE("/claude-api-key", { params: { ...h(m), query: { index, ...(dryRun ? { dryRun } : {}) } } }),
  },
  {
    id: "xai",
    title: t("providerKind_xai"),
    keyField: "api-key",
    fields: [...common, excludedF, modelsF],
    list: "xai-api-key",
    items: (c) => (c["xai-api-key"] ?? []) as Obj[],
    put: (items, m) => api().PUT("/xai-api-key", { body: items as Schemas["XaiKey"][], params: h(m) }),
    patch: (index, value, m) => api().PATCH("/xai-api-key", { body: { index, value }, params: h(m) }),
    del: (index, m, dryRun) => api().DELETE("/xai-api-key", { params: { ...h(m), query: { index, ...(dryRun ? { dryRun } : {}) } } }),
  },
  {
    id: "vertex",
    title: t("providerKind_vertex"),
    keyField: "api-key",
    fields: [...common, modelsF],
    list: "vertex-api-key",
    items: (c) => (c["vertex-api-key"] ?? []) as Obj[],
    put: (items, m) => api().PUT("/vertex-api-key", { body: items as Schemas["VertexKey"][], params: h(m) }),
    patch: (index, value, m) => api().PATCH("/vertex-api-key", { body: { index, value }, params: h(m) }),
    del: (index, m, dryRun) => api().DELETE("/vertex-api-key", { params: { ...h(m), query: { index, ...(dryRun ? { dryRun } : {}) } } }),
  },
];

const openaiDef: ListDef = {
  id: "openai",
  title: t("openaiCompat"),
  keyField: "name",
  fields: [
    { name: "name", label: "name", kind: "text" },
    { name: "base-url", label: "baseUrl", kind: "text" },
    { name: "prefix", label: "prefix", kind: "text" },
    { name: "api-key-entries", label: "apiKeyEntries", kind: "entries" },
    { name: "models", label: "models", kind: "models" },
    { name: "headers", label: "headers", kind: "headers" },
  ],
  items: (c) => (c["openai-compatibility"] ?? []) as Obj[],
  put: (items, m) => api().PUT("/openai-compatibility", { body: items as Schemas["OpenaiCompatibility"][], params: h(m) }),
  patch: (index, value, m) => api().PATCH("/openai-compatibility", { body: { index, value }, params: h(m) }),
  del: (index, m, dryRun) => api().DELETE("/openai-compatibility", { params: { ...h(m), query: { index, ...(dryRun ? { dryRun } : {}) } } }),
};

// Titles are computed when the module loads; recompute them per language.
function titled(def: ListDef, key: TKey): ListDef {
  return { ...def, title: t(key) };
}

export function Providers() {
  useLang();
  const s = useStore();
  const cooldowns = useCooldowns();
  const usage = useKeyUsage();
  const keys: TKey[] = ["providerKind_gemini", "providerKind_codex", "providerKind_claude", "providerKind_xai", "providerKind_vertex"];
  return (
    <Page title={t("providers")} intro={t("orderMatters")}>
      <Problem err={s.cfgError} />
      {s.cfg && providerDefs.map((d, i) => <ObjectList key={d.id} def={titled(d, keys[i]!)} cfg={s.cfg!} cooldowns={cooldowns} usage={usage} />)}
    </Page>
  );
}

export function OpenAICompat() {
  useLang();
  const s = useStore();
  const cooldowns = useCooldowns();
  const usage = useKeyUsage();
  return (
    <Page title={t("openaiCompat")} intro={t("orderMatters")}>
      <Problem err={s.cfgError} />
      {s.cfg && <ObjectList def={titled(openaiDef, "openaiCompat")} cfg={s.cfg} cooldowns={cooldowns} usage={usage} pageTitled />}
    </Page>
  );
}

// ---- client API keys (a list of strings) --------------------------------

function randomKey(): string {
  const b = new Uint8Array(24);
  crypto.getRandomValues(b);
  return "cpa-" + Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

export function ClientKeys() {
  useLang();
  const s = useStore();
  const [shown, setShown] = useState(false);
  const newId = useId("newkey");
  const keys = s.cfg?.["api-keys"] ?? [];
  const at = (c: ConfigView) => c["api-keys"] ?? [];
  return (
    <Page
      title={t("clientKeys")}
      actions={
        <button type="button" aria-pressed={shown} onClick={() => setShown(!shown)}>
          {shown ? t("hideKeys") : t("showKeys")}
        </button>
      }
    >
      <Problem err={s.cfgError} />
      <PolicyKeys />
      <h2>{t("plainKeys")}</h2>
      <p class="intro">{t("plainKeysIntro")}</p>
      {keys.length === 0 && <p class="muted">{t("empty")}</p>}
      <ol class="keys" data-testid="list-api-keys">
        {keys.map((k, i) => (
          <li key={`${k}-${i}`} class="row">
            <div class="grow">
              <KeyInput label={t("keyN", { n: i + 1 })} value={k} shown={shown} onSave={(v) =>
                void apply({
                  what: t("keyN", { n: i + 1 }),
                  base: k,
                  mine: v,
                  current: (c) => (at(c).includes(k) ? k : undefined),
                  send: (c, ifMatch) =>
                    api().PATCH("/api-keys", { body: { index: at(c).indexOf(k), value: v }, params: h(ifMatch) }),
                })
              } />
            </div>
            <button
              type="button"
              class="danger"
              aria-label={`${t("delete")}: ${t("keyN", { n: i + 1 })}`}
              onClick={async () => {
                const yes = await previewChange(t("confirmDelete", { what: mask(k) }), t("previewIntro"), (c, ifMatch) =>
                  api().DELETE("/api-keys", { params: { ...h(ifMatch), query: { index: at(c).indexOf(k), dryRun: true } } }),
                );
                if (!yes) return;
                await apply({
                  what: t("keyN", { n: i + 1 }),
                  base: k,
                  mine: undefined,
                  current: (c) => (at(c).includes(k) ? k : undefined),
                  send: (c, ifMatch) => api().DELETE("/api-keys", { params: { ...h(ifMatch), query: { index: at(c).indexOf(k) } } }),
                });
              }}
            >
              {t("delete")}
            </button>
          </li>
        ))}
      </ol>
      <form
        class="add"
        onSubmit={async (e) => {
          e.preventDefault();
          const form = e.currentTarget as HTMLFormElement;
          const input = form.elements.namedItem("key") as HTMLInputElement;
          const v = input.value.trim();
          if (!v) return;
          // Re-adding a key the list holds would change nothing: say so instead of "Saved".
          const fresh = (await loadConfig())?.cfg ?? state.cfg;
          if (fresh && at(fresh).includes(v)) {
            toast("error", t("alreadyExists", { what: mask(v) }));
            return;
          }
          const done = await apply({
            what: mask(v),
            base: undefined,
            mine: v,
            current: (c) => (at(c).includes(v) ? v : undefined),
            send: (c, ifMatch) => api().PUT("/api-keys", { body: [...at(c), v], params: h(ifMatch) }),
          });
          if (done) form.reset();
        }}
      >
        <div class="field">
          <label for={newId}>{t("newKey")}</label>
          <div class="row">
            <input id={newId} name="key" class="mono" autocomplete="off" spellcheck={false} required data-testid="new-api-key" />
            <button
              type="button"
              onClick={(e) => {
                const input = (e.currentTarget as HTMLButtonElement).form?.elements.namedItem("key") as HTMLInputElement;
                input.value = randomKey();
              }}
            >
              {t("generateKey")}
            </button>
          </div>
        </div>
        <button type="submit" class="primary" data-testid="add-api-key">
          {t("add")}
        </button>
      </form>
      <ReplaceKeys current={keys} />
    </Page>
  );
}

/** Replaces the whole api-keys list with pasted keys, after showing the dry run's diff. */
function ReplaceKeys(props: { current: string[] }) {
  useLang();
  const id = useId("replace");
  const [text, setText] = useState<string | null>(null);
  const [errors, setErrors] = useState<LineError[]>([]);
  const value = text ?? props.current.join("\n");
  return (
    <details class="add" data-testid="replace-keys">
      <summary>{t("replaceKeys")}</summary>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          const errs = checkLines("lines", value.split("\n"));
          setErrors(errs);
          if (errs.length) return;
          const next = lines(value);
          const yes = await previewChange(t("replaceKeysTitle", { n: next.length }), t("previewIntro"), (_c, ifMatch) =>
            api().PUT("/api-keys", { body: next, params: { ...h(ifMatch), query: { dryRun: true } } }),
          );
          if (!yes) return;
          const done = await apply({
            what: t("plainKeys"),
            base: props.current,
            mine: next,
            current: (c) => c["api-keys"] ?? [],
            send: (_c, ifMatch) => api().PUT("/api-keys", { body: next, params: h(ifMatch) }),
          });
          if (done) setText(null);
        }}
      >
        <div class="field">
          <label for={id}>{t("replaceKeysLabel")}</label>
          <textarea
            id={id}
            class="mono"
            rows={Math.max(3, value.split("\n").length + 1)}
            value={value}
            aria-invalid={errors.length > 0}
            data-testid="replace-keys-text"
            onInput={(e) => setText((e.currentTarget as HTMLTextAreaElement).value)}
          />
          {errors.length > 0 && (
            <ul class="line-errors" role="alert">
              {errors.map((x) => (
                <li key={x.line}>{t("fxLineError", { n: x.line, why: x.text })}</li>
              ))}
            </ul>
          )}
        </div>
        <button type="submit" class="danger" data-testid="replace-keys-submit">
          {t("replaceKeysDo")}
        </button>
      </form>
    </details>
  );
}

function KeyInput(props: { label: string; value: string; shown: boolean; onSave: (v: string) => void }) {
  const id = useId("k");
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <input
        id={id}
        key={props.value + props.shown}
        class="mono"
        type={props.shown ? "text" : "password"}
        defaultValue={props.value}
        autocomplete="off"
        spellcheck={false}
        data-testid="api-key-input"
        onChange={(e) => {
          const v = (e.currentTarget as HTMLInputElement).value.trim();
          if (v && v !== props.value) props.onSave(v);
        }}
      />
    </div>
  );
}

// ---- oauth-excluded-models (provider -> patterns) -------------------------

export function ExcludedModels() {
  useLang();
  const s = useStore();
  const map = s.cfg?.["oauth-excluded-models"] ?? {};
  const provId = useId("prov");
  const patId = useId("pat");
  const cur = (c: ConfigView, p: string) => c["oauth-excluded-models"]?.[p];
  const save = (provider: string, models: string[], base: string[] | undefined) =>
    apply({
      what: `${t("excludedModels")}: ${provider}`,
      base,
      mine: models,
      current: (c) => cur(c, provider),
      send: (_c, ifMatch) => api().PATCH("/oauth-excluded-models", { body: { provider, models }, params: h(ifMatch) }),
    });
  return (
    <Page title={t("excludedModels")} intro={t("excludedIntro")}>
      <Problem err={s.cfgError} />
      {s.cfg && Object.keys(map).length === 0 && <Empty text={t("excludedEmpty")} />}
      <ul class="entries" data-testid="list-excluded">
        {Object.entries(map).map(([provider, models]) => (
          <li key={provider} class="entry">
            <fieldset>
              <legend>{provider}</legend>
              <LinesField
                label={t("patterns")}
                value={models.join("\n")}
                check={(l) => checkLines("lines", l)}
                testid={`excluded-${provider}`}
                onSave={(v) => void save(provider, lines(v), models)}
              />
              <button
                type="button"
                class="danger"
                aria-label={`${t("delete")}: ${provider}`}
                onClick={async () => {
                  const yes = await previewChange(t("confirmDelete", { what: provider }), t("previewIntro"), (_c, ifMatch) =>
                    api().DELETE("/oauth-excluded-models", { params: { ...h(ifMatch), query: { provider, dryRun: true } } }),
                  );
                  if (!yes) return;
                  await apply({
                    what: `${t("excludedModels")}: ${provider}`,
                    base: models,
                    mine: undefined,
                    current: (c) => cur(c, provider),
                    send: (_c, ifMatch) => api().DELETE("/oauth-excluded-models", { params: { ...h(ifMatch), query: { provider } } }),
                  });
                }}
              >
                {t("delete")}
              </button>
            </fieldset>
          </li>
        ))}
      </ul>
      <form
        class="add"
        onSubmit={async (e) => {
          e.preventDefault();
          const f = e.currentTarget as HTMLFormElement;
          const provider = (f.elements.namedItem("provider") as HTMLInputElement).value.trim().toLowerCase();
          const models = lines((f.elements.namedItem("patterns") as HTMLTextAreaElement).value);
          if (!provider || models.length === 0) return;
          if (await save(provider, models, s.cfg ? cur(s.cfg, provider) : undefined)) f.reset();
        }}
      >
        <div class="field">
          <label for={provId}>{t("provider")}</label>
          <input id={provId} name="provider" list={`${provId}-list`} required autocomplete="off" data-testid="excluded-new-provider" />
          <datalist id={`${provId}-list`}>
            {OAUTH_CHANNELS.map((p) => (
              <option key={p} value={p} />
            ))}
          </datalist>
        </div>
        <div class="field">
          <label for={patId}>{t("patterns")}</label>
          <textarea id={patId} name="patterns" rows={2} required class="mono" data-testid="excluded-new-patterns" />
        </div>
        <button type="submit" class="primary" data-testid="excluded-add">
          {t("addProvider")}
        </button>
      </form>
      <BuiltinModels />
      <ModelAliases />
    </Page>
  );
}
