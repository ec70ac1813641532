// Credentials resting after upstream errors (GET /cooldowns): which, for
// which model, why and until when; each can be ended at once.
import { useLang, t, type TKey } from "../i18n";
import { useCooldowns, type Cooldown } from "../credentials";
import { toast } from "../store";
import { Page, Problem } from "../ui";
import { Badge, When } from "../widgets";

export function reasonText(c: Cooldown): string {
  return t(`cooldown_${c.reason.replace("-", "_")}` as TKey) ?? c.reason;
}

export function Cooldowns() {
  useLang();
  const cd = useCooldowns();
  const list = cd.list;
  async function reset(credential?: string) {
    const r = await cd.reset(credential);
    if (r.ok) toast("ok", t("cooldownsCleared", { n: r.cleared }));
    else toast("error", `${t("failed")}: ${r.err?.text ?? ""}`);
  }
  return (
    <Page
      title={t("cooldowns")}
      intro={t("cooldownsIntro")}
      actions={
        <button type="button" disabled={!list?.length} onClick={() => void reset()} data-testid="cooldowns-reset-all">
          {t("resetAllCooldowns")}
        </button>
      }
    >
      <Problem err={cd.err} onRetry={() => void cd.reload()} />
      {!list && !cd.err && <p class="muted">{t("fxLoading")}</p>}
      {list && list.length === 0 && <p class="muted">{t("cooldownsEmpty")}</p>}
      {list && list.length > 0 && (
        <div class="scroll">
          <table class="table-cards" data-testid="cooldowns-table">
            <thead>
              <tr>
                <th scope="col">{t("fxCredential")}</th>
                <th scope="col">{t("provider")}</th>
                <th scope="col">{t("fxModel")}</th>
                <th scope="col">{t("fxReason")}</th>
                <th scope="col">{t("fxUntil")}</th>
                <th scope="col">
                  <span class="sr-only">{t("fxActions")}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((c) => (
                <tr key={`${c.credential}-${c.model}`} data-testid="cooldown-row">
                  <td data-label={t("fxCredential")} class="mono">
                    {c.label || c.credential}
                  </td>
                  <td data-label={t("provider")}>{c.provider}</td>
                  <td data-label={t("fxModel")} class="mono">
                    {c.model}
                  </td>
                  <td data-label={t("fxReason")}>
                    <Badge kind={c.reason === "transient" ? "warn" : "bad"}>{reasonText(c)}</Badge>
                  </td>
                  <td data-label={t("fxUntil")}>
                    <When at={c.until} />
                  </td>
                  <td>
                    <button type="button" onClick={() => void reset(c.credential)} aria-label={`${t("resetCooldown")}: ${c.label || c.credential}`}>
                      {t("resetCooldown")}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Page>
  );
}
