// Generic pieces the feature pages share: diffs, a preview dialog shown
// before a risky save, copy buttons, relative times, paging, and a lines
// field that points at each invalid line instead of dropping it.
import "./features.css";
import { render, type ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { getLang, t, useLang, type TKey } from "./i18n";
import { Modal, fmtDate, fmtRelative, useId } from "./ui";

/** A unified diff, each line marked as added, removed, a hunk header or context. */
export function DiffView(props: { diff: string; testid?: string }) {
  useLang();
  if (!props.diff.trim()) return <p class="muted" data-testid={props.testid}>{t("diffNone")}</p>;
  const lines = props.diff.replace(/\n$/, "").split("\n");
  return (
    <pre class="diff" data-testid={props.testid} tabIndex={0} aria-label={t("diffLabel")}>
      {lines.map((l, i) => {
        const cls = l.startsWith("+++") || l.startsWith("---") ? "file" : l.startsWith("@@") ? "hunk" : l.startsWith("+") ? "add" : l.startsWith("-") ? "del" : "ctx";
        return (
          <span key={i} class={cls}>
            {cls === "add" && <span class="sr-only">{t("diffAdded")} </span>}
            {cls === "del" && <span class="sr-only">{t("diffRemoved")} </span>}
            {l}
            {"\n"}
          </span>
        );
      })}
    </pre>
  );
}

/** Renders `body` in a dialog of its own (outside the page tree) until it calls close. */
export function openDialog(body: (close: () => void) => ComponentChildren): void {
  const host = document.createElement("div");
  document.body.append(host);
  const close = () => {
    render(null, host);
    host.remove();
  };
  render(<>{body(close)}</>, host);
}

/**
 * Shows what a change would do (the dry run's diff, or a list) and asks
 * before doing it. Resolves true when the user confirms.
 */
export function askPreview(opts: { title: string; intro: string; diff?: string; items?: string[]; confirm: string; danger?: boolean }): Promise<boolean> {
  return new Promise((resolve) =>
    openDialog((close) => {
      const done = (yes: boolean) => {
        close();
        resolve(yes);
      };
      return (
        <Modal title={opts.title} onCancel={() => done(false)} wide>
          <div data-testid="preview">
            <p>{opts.intro}</p>
            {opts.diff !== undefined && <DiffView diff={opts.diff} testid="preview-diff" />}
            {opts.items && (
              <ul class="preview-items" data-testid="preview-items">
                {opts.items.map((x) => (
                  <li key={x} class="mono">
                    {x}
                  </li>
                ))}
              </ul>
            )}
          </div>
          <div class="row end">
            <button type="button" onClick={() => done(false)} autofocus>
              {t("cancel")}
            </button>
            <button type="button" class={opts.danger ? "danger" : "primary"} data-testid="preview-confirm" onClick={() => done(true)}>
              {opts.confirm}
            </button>
          </div>
        </Modal>
      );
    }),
  );
}

/** A button copying `text`; says so when done. */
export function CopyButton(props: { text: string; label?: string; testid?: string }) {
  useLang();
  const [done, setDone] = useState(false);
  return (
    <button
      type="button"
      data-testid={props.testid}
      onClick={async () => {
        try {
          await navigator.clipboard.writeText(props.text);
        } catch {
          // Without clipboard access (plain http on a remote host): select-and-copy.
          const ta = document.createElement("textarea");
          ta.value = props.text;
          document.body.append(ta);
          ta.select();
          document.execCommand("copy");
          ta.remove();
        }
        setDone(true);
      }}
    >
      {done ? t("fxCopied") : (props.label ?? t("fxCopy"))}
    </button>
  );
}

/** "3 minutes ago" / "in 2 hours", in the panel's language (ui.tsx's fmtRelative). */
export function relative(at: string | number | Date, now = Date.now()): string {
  return Number.isFinite(new Date(at).getTime()) ? fmtRelative(at, now) : "";
}

/** The exact date and time in the panel's language (ui.tsx's fmtDate). */
export function absolute(at: string | number | Date): string {
  return Number.isFinite(new Date(at).getTime()) ? fmtDate(at, true) : "";
}

/** A time shown relative, with the exact date on hover and for screen readers. */
export function When(props: { at: string | undefined }) {
  useLang();
  const [, tick] = useState(0);
  useEffect(() => {
    const id = setInterval(() => tick((n) => n + 1), 30_000);
    return () => clearInterval(id);
  }, []);
  if (!props.at) return <span class="muted">—</span>;
  return (
    <time dateTime={props.at} title={absolute(props.at)} class="nowrap">
      {relative(props.at)}
    </time>
  );
}

/** Previous / next page, with "page x of y". */
export function Pager(props: { page: number; pages: number; onPage: (p: number) => void; testid?: string }) {
  useLang();
  if (props.pages <= 1) return null;
  return (
    <nav class="row pager" aria-label={t("fxPagination")} data-testid={props.testid}>
      <button type="button" disabled={props.page <= 0} onClick={() => props.onPage(props.page - 1)}>
        ← {t("fxPrevPage")}
      </button>
      <span aria-live="polite">{t("fxPageOf", { page: props.page + 1, pages: props.pages })}</span>
      <button type="button" disabled={props.page >= props.pages - 1} onClick={() => props.onPage(props.page + 1)}>
        {t("fxNextPage")} →
      </button>
    </nav>
  );
}

export interface LineError {
  line: number; // 1-based
  text: string;
}

/**
 * A textarea of one item per line, checked before it is saved: every
 * invalid line is named (number and reason) and nothing is saved until all
 * are valid, so no line is dropped silently. The text being typed survives
 * a refresh of the value from elsewhere until it is saved or reverted.
 */
export function LinesField(props: {
  label: string;
  value: string;
  check: (lines: string[]) => LineError[];
  onSave: (text: string) => void;
  hint?: string;
  testid?: string;
}) {
  useLang();
  const id = useId("lf");
  const [draft, setDraft] = useState<string | null>(null);
  const [errors, setErrors] = useState<LineError[]>([]);
  const text = draft ?? props.value;
  const errId = `${id}-err`;
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <textarea
        id={id}
        class="mono"
        rows={Math.max(2, text.split("\n").length + 1)}
        value={text}
        aria-invalid={errors.length > 0}
        aria-describedby={errors.length ? errId : props.hint ? `${id}-hint` : undefined}
        data-testid={props.testid}
        onInput={(e) => setDraft((e.currentTarget as HTMLTextAreaElement).value)}
        onBlur={() => {
          if (draft === null || draft === props.value) {
            setDraft(null);
            setErrors([]);
            return;
          }
          const errs = props.check(draft.split("\n"));
          setErrors(errs);
          if (errs.length === 0) {
            props.onSave(draft);
            setDraft(null);
          }
        }}
      />
      {errors.length > 0 && (
        <ul id={errId} class="line-errors" role="alert" data-testid={props.testid ? `${props.testid}-errors` : undefined}>
          {errors.map((e) => (
            <li key={e.line}>{t("fxLineError", { n: e.line, why: e.text })}</li>
          ))}
        </ul>
      )}
      {props.hint && !errors.length && (
        <small id={`${id}-hint`} class="hint">
          {props.hint}
        </small>
      )}
    </div>
  );
}

/** A labelled number input saved on change; empty means "unset". */
export function NumberField(props: { label: string; value: number | undefined; min?: number; max?: number; onSave: (v: number | undefined) => void; testid?: string; hint?: string }) {
  const id = useId("n");
  const current = props.value === undefined ? "" : String(props.value);
  // Typed text is a draft of its own: a refresh of the value while the user
  // types does not replace it (no re-mount, focus kept).
  const [draft, setDraft] = useState<string | null>(null);
  const focused = useRef(false);
  useEffect(() => {
    if (!focused.current) setDraft(null);
  }, [props.value]);
  return (
    <div class="field num">
      <label for={id}>{props.label}</label>
      <input
        id={id}
        type="number"
        inputMode="numeric"
        min={props.min}
        max={props.max}
        step={1}
        value={draft ?? current}
        data-testid={props.testid}
        aria-describedby={props.hint ? `${id}-hint` : undefined}
        onFocus={() => {
          focused.current = true;
        }}
        onBlur={() => {
          focused.current = false;
        }}
        onInput={(e) => setDraft((e.currentTarget as HTMLInputElement).value)}
        onChange={(e) => {
          const raw = (e.currentTarget as HTMLInputElement).value.trim();
          const v = raw === "" ? undefined : Number(raw);
          if (v !== undefined && !Number.isInteger(v)) return;
          setDraft(null);
          if (v !== props.value) props.onSave(v);
        }}
      />
      {props.hint && (
        <small id={`${id}-hint`} class="hint">
          {props.hint}
        </small>
      )}
    </div>
  );
}

/** A small coloured label: ok, warn, bad or plain. */
export function Badge(props: { kind?: "ok" | "warn" | "bad" | "info"; children: ComponentChildren; title?: string; testid?: string }) {
  return (
    <span class={`badge ${props.kind ?? ""}`} title={props.title} data-testid={props.testid}>
      {props.children}
    </span>
  );
}

/** `config-key`, `env-password`, `file`, `none` in words. */
export function actorText(actor: string): string {
  const k = `actor_${actor.replace(/-/g, "_")}` as TKey;
  const s = t(k);
  return s === undefined || s === k ? actor : s;
}

export function sourceText(source: string): string {
  const k = `source_${source}` as TKey;
  const s = t(k);
  return s === undefined || s === k ? source : s;
}
