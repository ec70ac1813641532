import { withIfMatch, type Schemas } from "@cli-proxy-api/management-client";
import { useState } from "preact/hooks";
import type { ConfigView, Result } from "../api";
import { t, useLang, type TKey } from "../i18n";
import { api, apply, askConfirm, state, useStore } from "../store";
import { Page, Problem, TextField, mask, useId } from "../ui";

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
  del(index: number, ifMatch: string): Promise<Result>;
}

function find(def: ListDef, c: ConfigView, key: string): Obj | undefined {
  return def.items(c).find((x) => x[def.keyField] === key);
}

function indexOf(def: ListDef, c: ConfigView, key: string): number {
  return def.items(c).findIndex((x) => x[def.keyField] === key);
}

function ObjectList(props: { def: ListDef; cfg: ConfigView }) {
  useLang();
  const { def, cfg } = props;
  const items = def.items(cfg);
  return (
    <section class="list" aria-labelledby={`${def.id}-h`} data-testid={`list-${def.id}`}>
      <h2 id={`${def.id}-h`}>{def.title}</h2>
      {items.length === 0 && <p class="muted">{t("empty")}</p>}
      <ol class="entries">
        {items.map((item, i) => (
          <Entry key={`${String(item[def.keyField])}-${i}`} def={def} item={item} index={i} count={items.length} />
        ))}
      </ol>
      <AddForm def={def} />
    </section>
  );
}

function Entry(props: { def: ListDef; item: Obj; index: number; count: number }) {
  const { def, item, index } = props;
  const key = String(item[def.keyField] ?? "");
  const what = `${def.title} #${index + 1} (${def.keyField === "api-key" ? mask(key) : key})`;

  const saveField = (f: FieldDef, text: string) => {
    const value = decode(f.kind, text);
    return apply({
      what,
      base: item,
      mine: { ...item, [f.name]: value },
      current: (c) => find(def, c, key),
      send: (c, ifMatch) => {
        const i = indexOf(def, c, key);
        if (i < 0) return def.put([...def.items(c), { ...item, [f.name]: value }], ifMatch);
        return def.patch(i, { [f.name]: value }, ifMatch);
      },
    });
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
    if (!(await askConfirm(t("confirmDelete", { what })))) return;
    await apply({
      what,
      base: item,
      mine: undefined,
      current: (c) => find(def, c, key),
      send: (c, ifMatch) => def.del(indexOf(def, c, key), ifMatch),
    });
  };

  return (
    <li class="entry" data-testid={`${def.id}-entry`}>
      <fieldset>
        <legend>{t("entryN", { n: index + 1 })}</legend>
        {def.fields.map((f) =>
          f.kind === "secret" ? (
            <SecretField key={f.name} label={t(f.label)} value={key} onSave={(v) => void saveField(f, v)} />
          ) : (
            <TextField
              key={f.name}
              label={t(f.label)}
              value={encode(f.kind, item[f.name])}
              multiline={f.kind !== "text"}
              mono
              testid={`${def.id}-${f.name}`}
              onSave={(v) => void saveField(f, v)}
            />
          ),
        )}
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
    items: (c) => (c["gemini-api-key"] ?? []) as Obj[],
    put: (items, m) => api().PUT("/gemini-api-key", { body: items as Schemas["GeminiKey"][], params: h(m) }),
    patch: (index, value, m) => api().PATCH("/gemini-api-key", { body: { index, value }, params: h(m) }),
    del: (index, m) => api().DELETE("/gemini-api-key", { params: { ...h(m), query: { index } } }),
  },
  {
    id: "codex",
    title: t("providerKind_codex"),
    keyField: "api-key",
    fields: [...common, excludedF, modelsF],
    items: (c) => (c["codex-api-key"] ?? []) as Obj[],
    put: (items, m) => api().PUT("/codex-api-key", { body: items as Schemas["CodexKey"][], params: h(m) }),
    patch: (index, value, m) => api().PATCH("/codex-api-key", { body: { index, value }, params: h(m) }),
    del: (index, m) => api().DELETE("/codex-api-key", { params: { ...h(m), query: { index } } }),
  },
  {
    id: "claude",
    title: t("providerKind_claude"),
    keyField: "api-key",
    fields: [...common, excludedF, modelsF],
    items: (c) => (c["claude-api-key"] ?? []) as Obj[],
    put: (items, m) => api().PUT("/claude-api-key", { body: items as Schemas["ClaudeKey"][], params: h(m) }),
    patch: (index, value, m) => api().PATCH("/claude-api-key", { body: { index, value }, params: h(m) }),
    del: (index, m) => api().DELETE("/claude-api-key", { params: { ...h(m), query: { index } } }),
  },
  {
    id: "xai",
    title: t("providerKind_xai"),
    keyField: "api-key",
    fields: [...common, excludedF, modelsF],
    items: (c) => (c["xai-api-key"] ?? []) as Obj[],
    put: (items, m) => api().PUT("/xai-api-key", { body: items as Schemas["XaiKey"][], params: h(m) }),
    patch: (index, value, m) => api().PATCH("/xai-api-key", { body: { index, value }, params: h(m) }),
    del: (index, m) => api().DELETE("/xai-api-key", { params: { ...h(m), query: { index } } }),
  },
  {
    id: "vertex",
    title: t("providerKind_vertex"),
    keyField: "api-key",
    fields: [...common, modelsF],
    items: (c) => (c["vertex-api-key"] ?? []) as Obj[],
    put: (items, m) => api().PUT("/vertex-api-key", { body: items as Schemas["VertexKey"][], params: h(m) }),
    patch: (index, value, m) => api().PATCH("/vertex-api-key", { body: { index, value }, params: h(m) }),
    del: (index, m) => api().DELETE("/vertex-api-key", { params: { ...h(m), query: { index } } }),
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
  del: (index, m) => api().DELETE("/openai-compatibility", { params: { ...h(m), query: { index } } }),
};

// Titles are computed when the module loads; recompute them per language.
function titled(def: ListDef, key: TKey): ListDef {
  return { ...def, title: t(key) };
}

export function Providers() {
  useLang();
  const s = useStore();
  const keys: TKey[] = ["providerKind_gemini", "providerKind_codex", "providerKind_claude", "providerKind_xai", "providerKind_vertex"];
  return (
    <Page title={t("providers")} intro={t("orderMatters")}>
      <Problem err={s.cfgError} />
      {s.cfg && providerDefs.map((d, i) => <ObjectList key={d.id} def={titled(d, keys[i]!)} cfg={s.cfg!} />)}
    </Page>
  );
}

export function OpenAICompat() {
  useLang();
  const s = useStore();
  return (
    <Page title={t("openaiCompat")} intro={t("orderMatters")}>
      <Problem err={s.cfgError} />
      {s.cfg && <ObjectList def={titled(openaiDef, "openaiCompat")} cfg={s.cfg} />}
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
          {shown ? t("hideKey") : t("showKey")}
        </button>
      }
    >
      <Problem err={s.cfgError} />
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
                if (!(await askConfirm(t("confirmDelete", { what: mask(k) })))) return;
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
    </Page>
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
    <Page title={t("excludedModels")}>
      <Problem err={s.cfgError} />
      {Object.keys(map).length === 0 && <p class="muted">{t("empty")}</p>}
      <ul class="entries" data-testid="list-excluded">
        {Object.entries(map).map(([provider, models]) => (
          <li key={provider} class="entry">
            <fieldset>
              <legend>{provider}</legend>
              <TextField
                label={t("patterns")}
                value={models.join("\n")}
                multiline
                mono
                testid={`excluded-${provider}`}
                onSave={(v) => void save(provider, lines(v), models)}
              />
              <button
                type="button"
                class="danger"
                aria-label={`${t("delete")}: ${provider}`}
                onClick={async () => {
                  if (!(await askConfirm(t("confirmDelete", { what: provider })))) return;
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
            {["gemini-cli", "vertex", "aistudio", "antigravity", "claude", "codex", "qwen", "iflow", "kimi", "xai"].map((p) => (
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
    </Page>
  );
}
