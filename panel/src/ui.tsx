import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import type { Explained } from "./api";
import { getLang, t, type TKey } from "./i18n";
import { state, update, useStore } from "./store";

/** A modal built on <dialog>: focus stays inside, Esc cancels. */
export function Modal(props: { title: string; onCancel: () => void; children: ComponentChildren; wide?: boolean }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    const onCancel = (e: Event) => {
      e.preventDefault();
      props.onCancel();
    };
    d?.addEventListener("cancel", onCancel);
    return () => d?.removeEventListener("cancel", onCancel);
  }, []);
  return (
    <dialog ref={ref} class={props.wide ? "modal wide" : "modal"} aria-labelledby="modal-title">
      <h2 id="modal-title">{props.title}</h2>
      {props.children}
    </dialog>
  );
}

export function Dialogs() {
  const s = useStore();
  const c = s.conflict;
  const q = s.confirm;
  return (
    <>
      {q && (
        <Modal title={t("confirm")} onCancel={() => q.resolve(false)}>
          <p>{q.text}</p>
          <div class="row end">
            <button type="button" onClick={() => q.resolve(false)} autofocus>
              {t("cancel")}
            </button>
            <button type="button" class="danger" onClick={() => q.resolve(true)}>
              {t("confirm")}
            </button>
          </div>
        </Modal>
      )}
      {c && (
        <Modal title={t("conflictTitle")} onCancel={() => c.resolve(false)} wide>
          <p>{t("conflictIntro", { what: c.what })}</p>
          <div class="compare">
            <section>
              <h3>{t("conflictBase")}</h3>
              <pre data-testid="conflict-base">{show(c.base)}</pre>
            </section>
            <section>
              <h3>{t("conflictTheirs")}</h3>
              <pre data-testid="conflict-theirs">{show(c.theirs)}</pre>
            </section>
            <section>
              <h3>{t("conflictMine")}</h3>
              <pre data-testid="conflict-mine">{show(c.mine)}</pre>
            </section>
          </div>
          <div class="row end">
            <button type="button" onClick={() => c.resolve(false)} autofocus>
              {t("keepTheirs")}
            </button>
            <button type="button" class="primary" onClick={() => c.resolve(true)}>
              {t("applyMine")}
            </button>
          </div>
        </Modal>
      )}
    </>
  );
}

function show(v: unknown): string {
  if (v === undefined || v === null) return t("deletedItem");
  if (typeof v === "string") return v;
  return JSON.stringify(v, null, 2);
}

export function Toasts() {
  const s = useStore();
  return (
    <div class="toasts" role="status" aria-live="polite" data-testid="toasts">
      {s.toasts.map((x) => (
        <div
          key={x.id}
          class={`toast ${x.kind}`}
          title={t("dismiss")}
          onClick={() => update({ toasts: state.toasts.filter((y) => y.id !== x.id) })}
        >
          {x.text}
        </div>
      ))}
    </div>
  );
}

/** A failed load: "not implemented yet" for 501, the explained error otherwise. */
export function Problem(props: { err: Explained | null; onRetry?: () => void }) {
  if (!props.err) return null;
  const cls = props.err.kind === "notimpl" ? "notice notimpl" : "notice error";
  return (
    <div class={cls} role="alert">
      <p>{props.err.text}</p>
      {props.onRetry && (
        <button type="button" onClick={props.onRetry}>
          {t("reload")}
        </button>
      )}
    </div>
  );
}

export function Page(props: { title: string; intro?: string; children: ComponentChildren; actions?: ComponentChildren }) {
  useEffect(() => {
    document.title = `${props.title} · ${t("appTitle")}`;
  }, [props.title]);
  return (
    <section class="page" aria-labelledby="page-title">
      <div class="page-head">
        <h1 id="page-title" tabIndex={-1}>
          {props.title}
        </h1>
        {props.actions && <div class="row">{props.actions}</div>}
      </div>
      {props.intro && <p class="intro">{props.intro}</p>}
      {props.children}
    </section>
  );
}

let uid = 0;
export function useId(prefix: string): string {
  const [id] = useState(() => `${prefix}-${++uid}`);
  return id;
}

/**
 * A text field saved when it changes (blur or Enter), not on every key.
 * What the user types is a draft of its own: a refresh of `value` (another
 * operator's edit, a live update) never replaces it. The draft is dropped
 * when a save succeeds (`onSave` resolving to anything but false) or when
 * `value` changes while the field is not being edited; a refused save
 * keeps it, so nothing typed is lost.
 */
export function TextField(props: {
  label: string;
  value: string;
  onSave: (v: string) => unknown;
  hint?: string;
  multiline?: boolean;
  type?: string;
  testid?: string;
  mono?: boolean;
}) {
  const id = useId("f");
  const hintId = props.hint ? `${id}-hint` : undefined;
  const [draft, setDraft] = useState<string | null>(null);
  // The value the draft started from: when `value` moves away from it the
  // field says so, and the save goes through the caller's If-Match check.
  const [from, setFrom] = useState<string | null>(null);
  const [refused, setRefused] = useState(false);
  const focused = useRef(false);
  const shown = draft ?? props.value;
  useEffect(() => {
    if (!focused.current && !refused) {
      setDraft(null);
      setFrom(null);
    }
  }, [props.value]);
  const commit = async (v: string) => {
    if (v === props.value) {
      setDraft(null);
      setFrom(null);
      return;
    }
    setRefused(false);
    const ok = await props.onSave(v);
    if (ok === false) setRefused(true);
    else {
      setDraft((d) => (d === v ? null : d));
      setFrom(null);
    }
  };
  const common = {
    id,
    // The attribute keeps the stored value (what selectors and the
    // browser's form reset see); the property shows the draft.
    defaultValue: props.value,
    value: shown,
    "aria-describedby": hintId,
    class: props.mono ? "mono" : undefined,
    "data-testid": props.testid,
    onFocus: () => {
      focused.current = true;
    },
    onInput: (e: Event) => {
      if (draft === null) setFrom(props.value);
      setRefused(false);
      setDraft((e.currentTarget as HTMLInputElement).value);
    },
    onChange: (e: Event) => void commit((e.currentTarget as HTMLInputElement).value),
    onBlur: () => {
      focused.current = false;
    },
  };
  const movedUnder = draft !== null && from !== null && from !== props.value;
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      {props.multiline ? (
        <textarea rows={Math.max(2, shown.split("\n").length + 1)} {...common} />
      ) : (
        <input
          type={props.type ?? "text"}
          autocomplete="off"
          spellcheck={false}
          {...common}
          onKeyDown={(e) => {
            if (e.key === "Enter") (e.currentTarget as HTMLInputElement).blur();
          }}
        />
      )}
      {movedUnder && (
        <small class="hint warn" role="status" data-testid={props.testid ? `${props.testid}-moved` : undefined}>
          {t("changedWhileTyping", { value: props.value || "—" })}
        </small>
      )}
      {refused && draft !== null && (
        <small class="hint warn" data-testid={props.testid ? `${props.testid}-refused` : undefined}>
          {t("draftKept")}
        </small>
      )}
      {props.hint && (
        <small id={hintId} class="hint">
          {props.hint}
        </small>
      )}
    </div>
  );
}

export function Toggle(props: { label: string; checked: boolean; onSave: (v: boolean) => Promise<unknown>; testid?: string; hint?: string }) {
  const id = useId("t");
  // While a change is being saved the box shows the new value; afterwards
  // it shows the server's (the old one again if the change was refused).
  const [pending, setPending] = useState<boolean | null>(null);
  return (
    <div class="field toggle">
      <input
        id={id}
        type="checkbox"
        role="switch"
        aria-describedby={props.hint ? `${id}-hint` : undefined}
        checked={pending ?? props.checked}
        aria-busy={pending !== null}
        data-testid={props.testid}
        onChange={async (e) => {
          const v = (e.currentTarget as HTMLInputElement).checked;
          setPending(v);
          try {
            await props.onSave(v);
          } finally {
            setPending(null);
          }
        }}
      />
      <div>
        <label for={id}>{props.label}</label>
        {props.hint && (
          <small id={`${id}-hint`} class="hint">
            {props.hint}
          </small>
        )}
      </div>
    </div>
  );
}

/** A page part that is loading: a spinner and a label, announced politely. */
export function Loading(props: { label?: string }) {
  return (
    <div class="state loading" role="status" data-testid="state-loading">
      <span class="spinner" aria-hidden="true" />
      <span>{props.label ?? t("loading")}</span>
    </div>
  );
}

/** Nothing to show yet: what it would hold, and what to do about it. */
export function Empty(props: { text?: string; children?: ComponentChildren }) {
  return (
    <div class="state empty" data-testid="state-empty">
      <p>{props.text ?? t("empty")}</p>
      {props.children}
    </div>
  );
}

/** A value, its loading state, its error: the three states of every load. */
export function Loadable<T>(props: {
  value: T | null | undefined;
  err: Explained | null;
  onRetry?: () => void;
  children: (v: T) => ComponentChildren;
}) {
  if (props.err) return <Problem err={props.err} onRetry={props.onRetry} />;
  if (props.value === null || props.value === undefined) return <Loading />;
  return <>{props.children(props.value)}</>;
}

/** A block of code (a command) with a button that copies it. */
export function CodeBlock(props: { code: string; label: string; testid?: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <div class="codeblock">
      <pre tabIndex={0} aria-label={props.label} data-testid={props.testid}>
        <code>{props.code}</code>
      </pre>
      <button
        type="button"
        class="small"
        onClick={async () => {
          try {
            await navigator.clipboard.writeText(props.code);
            setCopied(true);
            setTimeout(() => setCopied(false), 2000);
          } catch {
            setCopied(false);
          }
        }}
      >
        {copied ? t("copied") : t("copy")}
      </button>
    </div>
  );
}

/** The locale of the chosen language, for numbers and dates. */
export function locale(): string {
  return getLang();
}

export function fmtNum(n: number | undefined): string {
  return (n ?? 0).toLocaleString(locale());
}

/** A cost in US dollars: cents for ordinary sums, more digits for tiny ones. */
export function fmtUSD(n: number | undefined): string {
  const v = n ?? 0;
  return v.toLocaleString(locale(), { style: "currency", currency: "USD", maximumFractionDigits: v !== 0 && Math.abs(v) < 1 ? 4 : 2 });
}

/** "3 lines" / "1 line": the count with the singular or plural text. */
export function count(n: number, one: TKey, other: TKey): string {
  return t(n === 1 ? one : other, { n: fmtNum(n) });
}

function toDate(v: Date | string | number): Date {
  return v instanceof Date ? v : typeof v === "number" ? new Date(v < 1e12 ? v * 1000 : v) : new Date(v);
}

/** A date and time in the chosen language's format (numbers: Unix seconds or ms). */
export function fmtDate(v: Date | string | number | undefined, withSeconds = false): string {
  if (v === undefined || v === "") return "";
  const d = toDate(v);
  if (Number.isNaN(d.getTime())) return String(v);
  return d.toLocaleString(locale(), {
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    ...(withSeconds ? { second: "2-digit" } : {}),
  });
}

/** "5 minutes ago" / "in 3 hours", in the chosen language. */
export function fmtRelative(v: Date | string | number, now = Date.now()): string {
  const d = toDate(v);
  if (Number.isNaN(d.getTime())) return String(v);
  const s = (d.getTime() - now) / 1000;
  const rtf = new Intl.RelativeTimeFormat(locale(), { numeric: "auto" });
  const a = Math.abs(s);
  if (a < 45) return rtf.format(Math.round(s), "second");
  if (a < 2700) return rtf.format(Math.round(s / 60), "minute");
  if (a < 64800) return rtf.format(Math.round(s / 3600), "hour");
  if (a < 30 * 86400) return rtf.format(Math.round(s / 86400), "day");
  if (a < 365 * 86400) return rtf.format(Math.round(s / (30 * 86400)), "month");
  return rtf.format(Math.round(s / (365 * 86400)), "year");
}

/** A time shown relative, with the exact date as its tooltip and machine value. */
export function Time(props: { at: Date | string | number }) {
  const d = toDate(props.at);
  if (Number.isNaN(d.getTime())) return <span>{String(props.at)}</span>;
  return (
    <time dateTime={d.toISOString()} title={fmtDate(d, true)}>
      {fmtRelative(d)}
    </time>
  );
}

/** A duration in the chosen language ("2 d 3 h", "5 min 3 s"). */
export function fmtDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const unit = (n: number, u: "day" | "hour" | "minute" | "second") =>
    new Intl.NumberFormat(locale(), { style: "unit", unit: u, unitDisplay: "narrow" }).format(n);
  if (d) return `${unit(d, "day")} ${unit(h, "hour")}`;
  if (h) return `${unit(h, "hour")} ${unit(m, "minute")}`;
  return `${unit(m, "minute")} ${unit(s % 60, "second")}`;
}

export function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

export function mask(key: string): string {
  if (key.length <= 8) return "•".repeat(key.length);
  return `${key.slice(0, 4)}…${key.slice(-4)}`;
}
