import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import type { Explained } from "./api";
import { t } from "./i18n";
import { useStore } from "./store";

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
    <div class="toasts" role="status" aria-live="polite">
      {s.toasts.map((x) => (
        <div key={x.id} class={`toast ${x.kind}`}>
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

/** A text field saved when it changes (blur or Enter), not on every key. */
export function TextField(props: {
  label: string;
  value: string;
  onSave: (v: string) => void;
  hint?: string;
  multiline?: boolean;
  type?: string;
  testid?: string;
  mono?: boolean;
}) {
  const id = useId("f");
  const hintId = props.hint ? `${id}-hint` : undefined;
  const common = {
    id,
    "aria-describedby": hintId,
    class: props.mono ? "mono" : undefined,
    "data-testid": props.testid,
    onChange: (e: Event) => {
      const v = (e.currentTarget as HTMLInputElement).value;
      if (v !== props.value) props.onSave(v);
    },
  };
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      {props.multiline ? (
        <textarea key={props.value} rows={Math.max(2, props.value.split("\n").length + 1)} defaultValue={props.value} {...common} />
      ) : (
        <input
          key={props.value}
          type={props.type ?? "text"}
          defaultValue={props.value}
          autocomplete="off"
          spellcheck={false}
          {...common}
          onKeyDown={(e) => {
            if (e.key === "Enter") (e.currentTarget as HTMLInputElement).blur();
          }}
        />
      )}
      {props.hint && (
        <small id={hintId} class="hint">
          {props.hint}
        </small>
      )}
    </div>
  );
}

export function Toggle(props: { label: string; checked: boolean; onSave: (v: boolean) => Promise<unknown>; testid?: string }) {
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
      <label for={id}>{props.label}</label>
    </div>
  );
}

export function fmtNum(n: number | undefined): string {
  return (n ?? 0).toLocaleString();
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
