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

type BoolSetting = { path: BoolPath; label: TKey; hint?: TKey; get: (c: ConfigView) => boolean | undefined };

const logging: BoolSetting[] = [
  { path: "/logging-to-file", label: "s_logging-to-file", hint: "h_logging-to-file", get: (c) => c["logging-to-file"] },
  { path: "/request-log", label: "s_request-log", hint: "h_request-log", get: (c) => c["request-log"] },
  { path: "/debug", label: "s_debug", get: (c) => c.debug },
];
const usage: BoolSetting[] = [
  { path: "/usage-statistics-enabled", label: "s_usage-statistics-enabled", hint: "h_usage-statistics-enabled", get: (c) => c["usage-statistics-enabled"] },
];
const quota: BoolSetting[] = [
  { path: "/quota-exceeded/switch-project", label: "s_switch-project", get: (c) => c["quota-exceeded"]?.["switch-project"] },
  {
    path: "/quota-exceeded/switch-preview-model",
    label: "s_switch-preview-model",
    get: (c) => c["quota-exceeded"]?.["switch-preview-model"],
  },
];
const access: BoolSetting[] = [
  { path: "/ws-auth", label: "s_ws-auth", get: (c) => c["ws-auth"] },
  {
    path: "/allow-localhost-unauthenticated",
    label: "s_allow-localhost-unauthenticated",
    hint: "h_allow-localhost-unauthenticated",
    get: (c) => c["allow-localhost-unauthenticated"],
  },
];
const legacy: BoolSetting[] = [{ path: "/force-gpt-5-codex", label: "s_force-gpt-5-codex", get: (c) => c["force-gpt-5-codex"] }];

function Toggles(props: { list: BoolSetting[]; cfg: ConfigView }) {
  return (
    <>
      {props.list.map((b) => (
        <Toggle
          key={b.path}
          label={t(b.label)}
          hint={b.hint ? t(b.hint) : undefined}
          testid={`setting${b.path.replace(/\//g, "-")}`}
          checked={b.get(props.cfg) ?? false}
          onSave={(v) => setBool(b.path, b.get, t(b.label), v)}
        />
      ))}
    </>
  );
}

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
      <div class="settings-grid">
        <fieldset class="settings">
          <legend>{t("grpLogging")}</legend>
          <Toggles list={logging} cfg={cfg} />
        </fieldset>
        <fieldset class="settings">
          <legend>{t("grpUsage")}</legend>
          <Toggles list={usage} cfg={cfg} />
        </fieldset>
        <fieldset class="settings">
          <legend>{t("grpAccess")}</legend>
          <Toggles list={access} cfg={cfg} />
        </fieldset>
        <fieldset class="settings">
          <legend>{t("grpQuota")}</legend>
          <Toggles list={quota} cfg={cfg} />
        </fieldset>
      </div>
      <fieldset class="settings">
        <legend>{t("grpRequests")}</legend>
        <TextField
          label={t("s_proxy-url")}
          hint={t("s_proxy-url_hint")}
          value={proxy}
          testid="setting-proxy-url"
          mono
          onSave={(value) =>
            apply({
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
            return apply({
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
            return apply({
              what: t("s_max-retry-interval"),
              base: interval,
              mine: value,
              current: (c) => c["max-retry-interval"] ?? 0,
              send: (_c, ifMatch) => api().PUT("/max-retry-interval", { body: { value }, params: { header: withIfMatch(ifMatch) } }),
            });
          }}
        />
        <Toggles list={legacy} cfg={cfg} />
      </fieldset>
    </Page>
  );
}
