// The feature pages, each loaded when first opened (keeps the first load
// small), and live updates, which run on every page while signed in.
import type { JSX } from "preact";
import { useEffect, useState } from "preact/hooks";
import "../live";
import { t, useLang, type TKey } from "../i18n";
import { Page, Problem } from "../ui";
import { networkError, type Explained } from "../api";

type View = () => JSX.Element;

/** A view loaded when first shown; until then (or when loading fails) pending says so. */
function lazy(load: () => Promise<View>, pending: (err: Explained | null) => JSX.Element): View {
  let loaded: View | null = null;
  return function Lazy() {
    useLang();
    const [view, setView] = useState<{ v: View } | null>(loaded ? { v: loaded } : null);
    const [err, setErr] = useState<Explained | null>(null);
    useEffect(() => {
      if (view) return;
      load().then(
        (v) => {
          loaded = v;
          setView({ v });
        },
        (e) => setErr(networkError(e)),
      );
    }, []);
    if (view) {
      const V = view.v;
      return <V />;
    }
    return pending(err);
  };
}

function lazyPage(title: TKey, load: () => Promise<View>): View {
  return lazy(load, (err) => (
    <Page title={t(title)}>
      <Problem err={err} />
      {!err && <p class="muted">{t("fxLoading")}</p>}
    </Page>
  ));
}

export const History = lazyPage("history", () => import("./history").then((m) => m.History));
export const Audit = lazyPage("audit", () => import("./audit").then((m) => m.Audit));
export const Cooldowns = lazyPage("cooldowns", () => import("./cooldowns").then((m) => m.Cooldowns));
export const RequestLog = lazyPage("requestLog", () => import("./requestlog").then((m) => m.RequestLog));
export { showRequestLog } from "../links";

/** A part of a page loaded when first shown. */
function lazySection(load: () => Promise<View>): View {
  return lazy(load, (err) => (err ? <Problem err={err} /> : <p class="muted">{t("fxLoading")}</p>));
}

export const PolicyKeys = lazySection(() => import("./clientkeys").then((m) => m.PolicyKeys));
