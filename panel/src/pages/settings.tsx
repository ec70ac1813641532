import { withIfMatch } from "@cli-proxy-api/management-client";
import type { ConfigView } from "../api";
import { t, useLang, type TKey } from "../i18n";
import { api, apply, state, useStore } from "../store";
import { Page, Problem, TextField, Toggle } from "../ui";

type BoolPath =
  | "/debug"
  | "/logging-to-file"
  | "/usage-statistics-enabled"
  | "/quota-exceeded/switch-project"
  | "/quota-exceeded/switch-preview-model"
  | "/request-log"
  | "/ws-auth"
  | "/allow-localhost-unauthenticated"
  | "/force-gpt-5-codex";

const bools: { path: BoolPath; label: TKey; get: (c: ConfigView) => boolean | undefined }[] = [
  { path: "/debug", label: "s_debug", get: (c) => c.debug },
  { path: "/logging-to-file", label: "s_logging-to-file", get: (c) => c["logging-to-file"] },
  { path: "/usage-statistics-enabled", label: "s_usage-statistics-enabled", get: (c) => c["usage-statistics-enabled"] },
  { path: "/request-log", label: "s_request-log", get: (c) => c["request-log"] },
  { path: "/quota-exceeded/switch-project", label: "s_switch-project", get: (c) => c["quota-exceeded"]?.["switch-project"] },
  {
    path: "/quota-exceeded/switch-preview-model",
    label: "s_switch-preview-model",
    get: (c) => c["quota-exceeded"]?.["switch-preview-model"],
  },
  { path: "/ws-auth", label: "s_ws-auth", get: (c) => c["ws-auth"] },
  { path: "/allow-localhost-unauthenticated", label: "s_allow-localhost-unauthenticated", get: (c) => c["allow-localhost-unauthenticated"] },
  { path: "/force-gpt-5-codex", label: "s_force-gpt-5-codex", get: (c) => c["force-gpt-5-codex"] },
];

/** Saves one boolean setting with If-Match (re-applied on an unrelated 412). */
export function setBool(path: BoolPath, get: (c: ConfigView) => boolean | undefined, label: string, value: boolean) {
  const cfg = state.cfg;
  return apply({
    what: label,
    base: cfg ? get(cfg) ?? false : undefined,
    mine: value,
    current: (c) => get(c) ?? false,
    send: (_c, ifMatch) => api().PUT(path, { body: { value }, params: { header: withIfMatch(ifMatch) } }),
  });
}

export function setLoggingToFile(value: boolean) {
  return setBool("/logging-to-file", (c) => c["logging-to-file"], t("s_logging-to-file"), value);
}

export function Settings() {
  useLang();
  const s = useStore();
  const cfg = s.cfg;
  if (!cfg) return <Page title={t("settings")}><Problem err={s.cfgError} /></Page>;
  const proxy = cfg["proxy-url"] ?? "";
  const retry = cfg["request-retry"] ?? 0;
  const interval = cfg["max-retry-interval"] ?? 0;
  return (
    <Page title={t("settings")} intro={t("settingsIntro")}>
      <Problem err={s.cfgError} />
      <fieldset class="settings">
        {bools.map((b) => (
          <Toggle
            key={b.path}
            label={t(b.label)}
            testid={`setting${b.path.replace(/\//g, "-")}`}
            checked={b.get(cfg) ?? false}
            onSave={(v) => setBool(b.path, b.get, t(b.label), v)}
          />
        ))}
        <TextField
          label={t("s_proxy-url")}
          hint={t("s_proxy-url_hint")}
          value={proxy}
          testid="setting-proxy-url"
          mono
          onSave={(value) =>
            void apply({
              what: t("s_proxy-url"),
              base: proxy,
              mine: value,
              current: (c) => c["proxy-url"] ?? "",
              send: (_c, ifMatch) =>
                value === ""
                  ? api().DELETE("/proxy-url", { params: { header: withIfMatch(ifMatch) } })
                  : api().PUT("/proxy-url", { body: { value }, params: { header: withIfMatch(ifMatch) } }),
            })
          }
        />
        <TextField
          label={t("s_request-retry")}
          type="number"
          value={String(retry)}
          testid="setting-request-retry"
          onSave={(v) => {
            const value = Number(v);
            void apply({
              what: t("s_request-retry"),
              base: retry,
              mine: value,
              current: (c) => c["request-retry"] ?? 0,
              send: (_c, ifMatch) => api().PUT("/request-retry", { body: { value }, params: { header: withIfMatch(ifMatch) } }),
            });
          }}
        />
        <TextField
          label={t("s_max-retry-interval")}
          type="number"
          value={String(interval)}
          testid="setting-max-retry-interval"
          onSave={(v) => {
            const value = Number(v);
            void apply({
              what: t("s_max-retry-interval"),
              base: interval,
              mine: value,
              current: (c) => c["max-retry-interval"] ?? 0,
              send: (_c, ifMatch) => api().PUT("/max-retry-interval", { body: { value }, params: { header: withIfMatch(ifMatch) } }),
            });
          }}
        />
      </fieldset>
    </Page>
  );
}
