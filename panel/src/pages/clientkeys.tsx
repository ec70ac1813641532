// Client keys with policies (client-keys in config.yaml): create one with a
// policy, see the new key once with a copy button, follow its spend against
// its limits and budgets, change its policy, rotate, reset a budget, revoke.
import { withIfMatch, type Schemas } from "@cli-proxy-api/management-client";
import { useEffect, useState } from "preact/hooks";
import { explain, networkError, ok, type Explained, type Result } from "../api";
import { getLang, t, useLang, type TKey } from "../i18n";
import { useLiveTick } from "../live";
import { api, loadConfig, state, toast } from "../store";
import { Problem, Toggle, fmtNum, useId } from "../ui";
import { Badge, CopyButton, When, askPreview } from "../widgets";
import { previewChange } from "./lists";

type Key = Schemas["ClientKey"];
type Fields = Schemas["ClientKeyFields"];
type Window = Schemas["ClientKeyWindow"];

/** A config write with If-Match on the revision the panel holds; a 412 re-reads and tries again. */
async function write(send: (ifMatch: string) => Promise<Result>): Promise<Result | Explained> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const etag = state.etag ?? (await loadConfig())?.etag ?? "";
    let r: Result;
    try {
      r = await send(etag);
    } catch (err) {
      return networkError(err);
    }
    if (r.response.status === 412) {
      await loadConfig();
      continue;
    }
    if (ok(r)) {
      await loadConfig();
      return r;
    }
    return explain(r);
  }
  return { status: 412, kind: "conflict", text: t("failed"), message: "" };
}

function failed(x: Result | Explained): x is Explained {
  return "kind" in x;
}

const LIMITS: { name: keyof NonNullable<Fields["limits"]>; label: TKey }[] = [
  { name: "requests-per-minute", label: "ckRpm" },
  { name: "tokens-per-minute", label: "ckTpm" },
  { name: "max-concurrency", label: "fxMaxConcurrency" },
];
const BUDGETS: { name: keyof NonNullable<Fields["budgets"]>; label: TKey; money?: boolean }[] = [
  { name: "requests-per-day", label: "ckReqDay" },
  { name: "requests-per-month", label: "ckReqMonth" },
  { name: "tokens-per-day", label: "ckTokDay" },
  { name: "tokens-per-month", label: "ckTokMonth" },
  { name: "cost-per-day", label: "ckCostDay", money: true },
  { name: "cost-per-month", label: "ckCostMonth", money: true },
];

function splitList(v: string): string[] {
  return v
    .split(/[\n,]/)
    .map((x) => x.trim())
    .filter(Boolean);
}

function num(form: HTMLFormElement, name: string): number | undefined {
  const el = form.elements.namedItem(name) as HTMLInputElement | null;
  const v = el?.value.trim() ?? "";
  return v === "" ? undefined : Number(v);
}

function text(form: HTMLFormElement, name: string): string {
  return ((form.elements.namedItem(name) as HTMLInputElement | null)?.value ?? "").trim();
}

function localInput(iso: string | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (!Number.isFinite(d.getTime())) return "";
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** The policy fields read from a form (every field sent, so an emptied one is cleared). */
function readPolicy(form: HTMLFormElement): Fields {
  const limits: Record<string, number> = {};
  for (const l of LIMITS) limits[l.name] = num(form, l.name) ?? 0;
  const budgets: Record<string, number> = {};
  for (const b of BUDGETS) budgets[b.name] = num(form, b.name) ?? 0;
  const expires = text(form, "expires-at");
  return {
    owner: text(form, "owner"),
    description: text(form, "description"),
    models: splitList(text(form, "models")),
    providers: splitList(text(form, "providers")),
    limits,
    budgets,
    "expires-at": expires ? new Date(expires).toISOString() : "",
  };
}

function PolicyFields(props: { initial?: Key; prefix: string }) {
  useLang();
  const base = useId(props.prefix);
  const k = props.initial;
  const input = (name: string, label: TKey, value: string | number | undefined, extra: Record<string, unknown> = {}) => (
    <div class="field" key={name}>
      <label for={`${base}-${name}`}>{t(label)}</label>
      <input id={`${base}-${name}`} name={name} defaultValue={value === undefined || value === 0 ? "" : String(value)} autocomplete="off" spellcheck={false} data-testid={`${props.prefix}-${name}`} {...extra} />
    </div>
  );
  return (
    <>
      <div class="steer">
        {input("owner", "ckOwner", k?.owner)}
        {input("description", "ckDescription", k?.description)}
        {input("expires-at", "ckExpires", localInput(k?.["expires-at"]), { type: "datetime-local" })}
      </div>
      <div class="steer">
        <div class="field">
          <label for={`${base}-models`}>{t("ckModels")}</label>
          <textarea id={`${base}-models`} name="models" rows={2} class="mono" defaultValue={(k?.models ?? []).join("\n")} aria-describedby={`${base}-models-hint`} data-testid={`${props.prefix}-models`} />
          <small id={`${base}-models-hint`} class="hint">
            {t("ckModelsHint")}
          </small>
        </div>
        <div class="field">
          <label for={`${base}-providers`}>{t("ckProviders")}</label>
          <textarea id={`${base}-providers`} name="providers" rows={2} class="mono" defaultValue={(k?.providers ?? []).join("\n")} aria-describedby={`${base}-providers-hint`} />
          <small id={`${base}-providers-hint`} class="hint">
            {t("ckProvidersHint")}
          </small>
        </div>
      </div>
      <fieldset>
        <legend>{t("ckLimits")}</legend>
        <div class="steer">{LIMITS.map((l) => input(l.name, l.label, k?.limits?.[l.name], { type: "number", min: 0, step: 1, inputMode: "numeric" }))}</div>
      </fieldset>
      <fieldset>
        <legend>{t("ckBudgets")}</legend>
        <div class="steer">
          {BUDGETS.map((b) => input(b.name, b.label, k?.budgets?.[b.name], { type: "number", min: 0, step: b.money ? 0.01 : 1, inputMode: b.money ? "decimal" : "numeric" }))}
        </div>
      </fieldset>
    </>
  );
}

/** The key shown once after create or rotate. */
function NewKey(props: { name: string; secret: string; onDone: () => void }) {
  useLang();
  return (
    <div class="newkey" role="alert" data-testid="ck-newkey">
      <p>
        <strong>{t("ckNewKeyTitle", { name: props.name })}</strong> {t("ckNewKeyOnce")}
      </p>
      <p>
        <code class="mono" data-testid="ck-newkey-value">
          {props.secret}
        </code>
      </p>
      <div class="row">
        <CopyButton text={props.secret} testid="ck-copy" />
        <button type="button" onClick={props.onDone}>
          {t("ckNewKeyDone")}
        </button>
      </div>
    </div>
  );
}

function money(n: number): string {
  return new Intl.NumberFormat(getLang(), { style: "currency", currency: "USD", maximumFractionDigits: 4 }).format(n);
}

function Spend(props: { label: string; used: number; reserved: number; limit: number | undefined; fmt: (n: number) => string }) {
  const limit = props.limit ?? 0;
  const total = props.used + props.reserved;
  const pct = limit > 0 ? Math.min(100, (total / limit) * 100) : 0;
  return (
    <div>
      <dt>{props.label}</dt>
      <dd>
        {props.fmt(props.used)}
        {props.reserved > 0 && <span class="muted"> (+{props.fmt(props.reserved)})</span>}
        {limit > 0 ? ` / ${props.fmt(limit)}` : ""}
        {limit > 0 && (
          <div class={total >= limit ? "meter over" : "meter"} role="meter" aria-valuemin={0} aria-valuemax={limit} aria-valuenow={total} aria-label={props.label}>
            <span style={{ width: `${pct}%` }} />
          </div>
        )}
      </dd>
    </div>
  );
}

function WindowSpend(props: { title: TKey; w: Window; k: Key; suffix: "day" | "month" }) {
  const b = props.k.budgets ?? {};
  const s = props.suffix;
  return (
    <section>
      <h4>
        {t(props.title)} <span class="muted">· {t("ckResets")} <When at={props.w["resets-at"]} /></span>
      </h4>
      <dl class="kv">
        <Spend label={t("ckRequests")} used={props.w.requests} reserved={props.w["reserved-requests"]} limit={b[`requests-per-${s}`]} fmt={fmtNum} />
        <Spend label={t("ckTokens")} used={props.w.tokens} reserved={props.w["reserved-tokens"]} limit={b[`tokens-per-${s}`]} fmt={fmtNum} />
        <Spend label={t("ckCost")} used={props.w["cost-usd"]} reserved={props.w["reserved-cost-usd"]} limit={b[`cost-per-${s}`]} fmt={money} />
      </dl>
    </section>
  );
}

function KeyCard(props: { k: Key; reload: () => Promise<void>; onSecret: (name: string, secret: string) => void }) {
  useLang();
  const { k } = props;
  const [editing, setEditing] = useState(false);
  const [err, setErr] = useState<Explained | null>(null);
  const expired = k["expires-at"] ? new Date(k["expires-at"]).getTime() < Date.now() : false;
  const lim = k.limits ?? {};

  async function patch(value: Fields) {
    const r = await write((m) => api().PATCH("/client-keys", { params: { header: withIfMatch(m) }, body: { name: k.name, value } }));
    if (failed(r)) {
      setErr(r);
      return false;
    }
    setErr(null);
    toast("ok", t("saved"));
    await props.reload();
    return true;
  }

  async function rotate() {
    const yes = await askPreview({ title: t("ckRotateTitle", { name: k.name }), intro: t("ckRotateIntro"), confirm: t("ckRotate"), danger: true });
    if (!yes) return;
    const r = await write((m) => api().POST("/client-keys/rotate", { params: { header: withIfMatch(m) }, body: { name: k.name } }));
    if (failed(r)) {
      setErr(r);
      return;
    }
    const secret = (r.data as Schemas["ClientKeyCreated"]).key;
    if (secret) props.onSecret(k.name, secret);
    await props.reload();
  }

  async function revoke() {
    const yes = await previewChange(
      t("ckRevokeTitle", { name: k.name }),
      t("previewIntro"),
      (_c, m) => api().DELETE("/client-keys", { params: { header: withIfMatch(m), query: { name: k.name, dryRun: true } } }),
      t("ckRevoke"),
    );
    if (!yes) return;
    const r = await write((m) => api().DELETE("/client-keys", { params: { header: withIfMatch(m), query: { name: k.name } } }));
    if (failed(r)) {
      setErr(r);
      return;
    }
    toast("ok", t("ckRevoked", { name: k.name }));
    await props.reload();
  }

  async function resetBudget(window: "day" | "month") {
    try {
      const r = await api().POST("/client-keys/reset-budget", { body: { name: k.name, window } });
      if (!ok(r)) {
        setErr(explain(r));
        return;
      }
      toast("ok", t("ckBudgetReset", { name: k.name }));
      await props.reload();
    } catch (e) {
      setErr(networkError(e));
    }
  }

  return (
    <li data-testid="ck-card">
      <div class="head">
        <span class="title mono">{k.name}</span>
        {k.disabled && <Badge kind="warn">{t("fxDisabled")}</Badge>}
        {expired && <Badge kind="bad">{t("ckExpired")}</Badge>}
        <Badge kind="info" title={t("ckStoredHint")}>
          {k["key-stored"] === "sha256" ? t("ckStoredHash") : t("ckStoredPlain")}
        </Badge>
        {k.owner && <span class="meta">{k.owner}</span>}
      </div>
      {k.description && <p class="meta">{k.description}</p>}
      <dl class="kv">
        <div>
          <dt>{t("ckModels")}</dt>
          <dd class="mono">{k.models?.length ? k.models.join(", ") : t("ckAnyModel")}</dd>
        </div>
        {k.providers?.length ? (
          <div>
            <dt>{t("ckProviders")}</dt>
            <dd class="mono">{k.providers.join(", ")}</dd>
          </div>
        ) : null}
        {LIMITS.map((l) =>
          lim[l.name] ? (
            <div key={l.name}>
              <dt>{t(l.label)}</dt>
              <dd>{fmtNum(lim[l.name])}</dd>
            </div>
          ) : null,
        )}
        <div>
          <dt>{t("ckInFlight")}</dt>
          <dd>{fmtNum(k.usage["in-flight"])}</dd>
        </div>
        {k["expires-at"] && (
          <div>
            <dt>{t("ckExpires")}</dt>
            <dd>
              <When at={k["expires-at"]} />
            </dd>
          </div>
        )}
      </dl>
      <WindowSpend title="ckToday" w={k.usage.day} k={k} suffix="day" />
      <WindowSpend title="ckThisMonth" w={k.usage.month} k={k} suffix="month" />
      <Problem err={err} />
      <div class="row">
        <Toggle label={t("fxEnabled")} checked={!k.disabled} testid="ck-enabled" onSave={(v) => patch({ disabled: !v })} />
        <button type="button" aria-expanded={editing} onClick={() => setEditing(!editing)}>
          {t("ckEditPolicy")}
        </button>
        <button type="button" onClick={() => void rotate()} data-testid="ck-rotate" aria-label={`${t("ckRotate")}: ${k.name}`}>
          {t("ckRotate")}
        </button>
        <button type="button" onClick={() => void resetBudget("day")} aria-label={`${t("ckResetDay")}: ${k.name}`}>
          {t("ckResetDay")}
        </button>
        <button type="button" onClick={() => void resetBudget("month")} aria-label={`${t("ckResetMonth")}: ${k.name}`}>
          {t("ckResetMonth")}
        </button>
        <button type="button" class="danger" onClick={() => void revoke()} data-testid="ck-revoke" aria-label={`${t("ckRevoke")}: ${k.name}`}>
          {t("ckRevoke")}
        </button>
      </div>
      {editing && (
        <form
          class="add"
          aria-label={`${t("ckEditPolicy")}: ${k.name}`}
          onSubmit={async (e) => {
            e.preventDefault();
            if (await patch(readPolicy(e.currentTarget as HTMLFormElement))) setEditing(false);
          }}
        >
          <PolicyFields initial={k} prefix="ck-edit" />
          <div class="row end">
            <button type="submit" class="primary">
              {t("save")}
            </button>
          </div>
        </form>
      )}
    </li>
  );
}

export function PolicyKeys() {
  useLang();
  const tick = useLiveTick();
  const [keys, setKeys] = useState<Key[] | null>(null);
  const [err, setErr] = useState<Explained | null>(null);
  const [createErr, setCreateErr] = useState<Explained | null>(null);
  const [secret, setSecret] = useState<{ name: string; secret: string } | null>(null);
  const nameId = useId("ckname");
  const keyId = useId("ckkey");

  async function reload() {
    try {
      const r = await api().GET("/client-keys");
      if (r.data) {
        setKeys(r.data["client-keys"]);
        setErr(null);
      } else setErr(explain(r));
    } catch (e) {
      setErr(networkError(e));
    }
  }
  useEffect(() => void reload(), [tick]);

  return (
    <section aria-labelledby="ck-h" data-testid="policy-keys">
      <h2 id="ck-h">{t("ckTitle")}</h2>
      <p class="intro">{t("ckIntro")}</p>
      <Problem err={err} onRetry={() => void reload()} />
      {secret && <NewKey name={secret.name} secret={secret.secret} onDone={() => setSecret(null)} />}
      {keys && keys.length === 0 && <p class="muted">{t("ckEmpty")}</p>}
      {keys && keys.length > 0 && (
        <ul class="cards">
          {keys.map((k) => (
            <KeyCard key={k.name} k={k} reload={reload} onSecret={(name, s) => setSecret({ name, secret: s })} />
          ))}
        </ul>
      )}
      <details class="add" data-testid="ck-create">
        <summary>{t("ckCreate")}</summary>
        <form
          onSubmit={async (e) => {
            e.preventDefault();
            const form = e.currentTarget as HTMLFormElement;
            const name = text(form, "name");
            const own = text(form, "key");
            const body: Schemas["ClientKeyCreate"] = { ...readPolicy(form), name, ...(own ? { key: own } : {}) };
            if (!body["expires-at"]) delete body["expires-at"];
            const r = await write((m) => api().POST("/client-keys", { params: { header: withIfMatch(m) }, body }));
            if (failed(r)) {
              setCreateErr(r);
              return;
            }
            setCreateErr(null);
            const made = (r.data as Schemas["ClientKeyCreated"]).key;
            if (made) setSecret({ name, secret: made });
            else toast("ok", t("ckCreated", { name }));
            form.reset();
            await reload();
          }}
        >
          <div class="steer">
            <div class="field">
              <label for={nameId}>{t("name")}</label>
              <input id={nameId} name="name" required pattern="[A-Za-z0-9][A-Za-z0-9._\-]{0,63}" autocomplete="off" spellcheck={false} data-testid="ck-name" aria-describedby={`${nameId}-hint`} />
              <small id={`${nameId}-hint`} class="hint">
                {t("ckNameHint")}
              </small>
            </div>
            <div class="field">
              <label for={keyId}>{t("ckOwnKey")}</label>
              <input id={keyId} name="key" minLength={8} autocomplete="off" spellcheck={false} class="mono" aria-describedby={`${keyId}-hint`} />
              <small id={`${keyId}-hint`} class="hint">
                {t("ckOwnKeyHint")}
              </small>
            </div>
          </div>
          <PolicyFields prefix="ck-new" />
          <Problem err={createErr} />
          <div class="row end">
            <button type="submit" class="primary" data-testid="ck-submit">
              {t("ckCreate")}
            </button>
          </div>
        </form>
      </details>
    </section>
  );
}
