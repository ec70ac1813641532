package mgmt

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/gen/mgmtapi"
	"github.com/cli-proxy-api/cli-proxy-api/internal/clientkeys"
	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/configstore"
	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
	"github.com/cli-proxy-api/cli-proxy-api/internal/keylists"
)

// clientKeyHandlers serve client-keys (keys with policies) and
// model-prices: config edits through the one write path, standing and
// budget resets from the clientkeys registry the proxy enforces with.
type clientKeyHandlers struct {
	configWriter
	keys *clientkeys.Registry
	now  func() time.Time
}

// newClientKeyHandlers uses keys, the proxy's registry; nil (a Management
// API without a proxy, as in tests) gets a registry of its own that
// follows the config.
func newClientKeyHandlers(w configWriter, keys *clientkeys.Registry) clientKeyHandlers {
	if keys == nil {
		keys = clientkeys.NewRegistry(nil, nil)
		keys.Commit(keys.Compile(w.store.Current().Config))
		w.store.Subscribe(func(_, next *configstore.Snapshot, _ configstore.Source) { keys.Commit(keys.Compile(next.Config)) })
	}
	return clientKeyHandlers{configWriter: w, keys: keys, now: time.Now}
}

func (s *clientKeyHandlers) GetClientKeys(_ context.Context, _ mgmtapi.GetClientKeysRequestObject) (mgmtapi.GetClientKeysResponseObject, error) {
	snap := s.store.Current()
	out := make([]mgmtapi.ClientKey, 0, len(snap.Config.ClientKeys))
	for _, k := range snap.Config.ClientKeys {
		out = append(out, s.view(k))
	}
	return mgmtapi.GetClientKeys200JSONResponse{
		Body:    mgmtapi.ClientKeyList{ClientKeys: out},
		Headers: mgmtapi.GetClientKeys200ResponseHeaders{ETag: etagOf(snap)},
	}, nil
}

func (s *clientKeyHandlers) GetClientKey(_ context.Context, r mgmtapi.GetClientKeyRequestObject) (mgmtapi.GetClientKeyResponseObject, error) {
	if config.ValidClientKeyName(r.Name) != nil {
		return nil, errs.New(errs.Invalid, "invalid name")
	}
	snap := s.store.Current()
	at, err := findClientKey(snap.Config.ClientKeys, r.Name)
	if err != nil {
		return nil, err
	}
	return mgmtapi.GetClientKey200JSONResponse{
		Body:    s.view(snap.Config.ClientKeys[at]),
		Headers: mgmtapi.GetClientKey200ResponseHeaders{ETag: etagOf(snap)},
	}, nil
}

// CreateClientKey adds a key; without a caller-supplied key it generates
// one, stores only its digest and returns it in this answer alone.
func (s *clientKeyHandlers) CreateClientKey(ctx context.Context, r mgmtapi.CreateClientKeyRequestObject) (mgmtapi.CreateClientKeyResponseObject, error) {
	b := r.Body
	k := config.KeyPolicy{Name: strings.TrimSpace(b.Name)}
	applyClientKeyFields(&k, mgmtapi.ClientKeyFields{Description: b.Description, Owner: b.Owner, Disabled: b.Disabled,
		ExpiresAt: b.ExpiresAt, Models: b.Models, Providers: b.Providers, Credentials: b.Credentials, Limits: b.Limits, Budgets: b.Budgets})
	generated := setKey(&k, b.Key)
	ok, err := s.changeCtx(ctx, r.Params.IfMatch, func(c *config.Config) error {
		if at, err := findClientKey(c.ClientKeys, k.Name); err == nil {
			return errs.New(errs.Invalid, "name is already used by client-keys[%d]", at)
		}
		c.ClientKeys = append(c.ClientKeys, k)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return mgmtapi.CreateClientKey200JSONResponse{Body: created(ok, k.Name, generated), Headers: mgmtapi.CreateClientKey200ResponseHeaders(ok.Headers)}, nil
}

func (s *clientKeyHandlers) PatchClientKey(ctx context.Context, r mgmtapi.PatchClientKeyRequestObject) (mgmtapi.PatchClientKeyResponseObject, error) {
	ok, err := s.changeCtx(ctx, r.Params.IfMatch, func(c *config.Config) error {
		at, err := findClientKey(c.ClientKeys, r.Body.Name)
		if err != nil {
			return err
		}
		applyClientKeyFields(&c.ClientKeys[at], r.Body.Value)
		return nil
	})
	return mgmtapi.PatchClientKey200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *clientKeyHandlers) DeleteClientKey(ctx context.Context, r mgmtapi.DeleteClientKeyRequestObject) (mgmtapi.DeleteClientKeyResponseObject, error) {
	ok, err := s.changeCtx(ctx, r.Params.IfMatch, func(c *config.Config) error {
		at, err := findClientKey(c.ClientKeys, r.Params.Name)
		if err != nil {
			return err
		}
		c.ClientKeys, err = keylists.RemoveAt(c.ClientKeys, at)
		return err
	})
	return mgmtapi.DeleteClientKey200JSONResponse{StatusOKJSONResponse: ok}, err
}

// RotateClientKey gives the key a new key and keeps its policy and
// spend (both belong to the name). The write is committed to the proxy
// before this answers, so the old key is refused from then on.
func (s *clientKeyHandlers) RotateClientKey(ctx context.Context, r mgmtapi.RotateClientKeyRequestObject) (mgmtapi.RotateClientKeyResponseObject, error) {
	var name, generated string
	ok, err := s.changeCtx(ctx, r.Params.IfMatch, func(c *config.Config) error {
		at, err := findClientKey(c.ClientKeys, r.Body.Name)
		if err != nil {
			return err
		}
		k := &c.ClientKeys[at]
		k.Key, k.KeySHA256 = "", ""
		generated, name = setKey(k, r.Body.Key), k.Name
		return nil
	})
	if err != nil {
		return nil, err
	}
	return mgmtapi.RotateClientKey200JSONResponse{Body: created(ok, name, generated), Headers: mgmtapi.RotateClientKey200ResponseHeaders(ok.Headers)}, nil
}

// ResetClientKeyBudget starts a budget window again; it is not a config
// change (refuseDryRun answers a dry run: nonConfigRoutes).
func (s *clientKeyHandlers) ResetClientKeyBudget(ctx context.Context, r mgmtapi.ResetClientKeyBudgetRequestObject) (mgmtapi.ResetClientKeyBudgetResponseObject, error) {
	w, err := clientkeys.ParseWindow(string(r.Body.Window))
	if err != nil {
		return nil, errs.New(errs.Invalid, "%s", err.Error())
	}
	if err := s.keys.Reset(ctx, strings.TrimSpace(r.Body.Name), w, s.now()); err != nil {
		if errors.Is(err, clientkeys.ErrNotFound) {
			return nil, keylists.ErrNotFound
		}
		return nil, err
	}
	return mgmtapi.ResetClientKeyBudget200JSONResponse{StatusOKPlainJSONResponse: mgmtapi.StatusOKPlainJSONResponse{Status: mgmtapi.StatusOKStatusOk}}, nil
}

func (s *clientKeyHandlers) GetModelPrices(_ context.Context, _ mgmtapi.GetModelPricesRequestObject) (mgmtapi.GetModelPricesResponseObject, error) {
	snap := s.store.Current()
	return mgmtapi.GetModelPrices200JSONResponse{
		Body:    mgmtapi.ModelPriceList{ModelPrices: mapSlice(snap.Config.ModelPrices, modelPriceOut)},
		Headers: mgmtapi.GetModelPrices200ResponseHeaders{ETag: etagOf(snap)},
	}, nil
}

func (s *clientKeyHandlers) PutModelPrices(ctx context.Context, r mgmtapi.PutModelPricesRequestObject) (mgmtapi.PutModelPricesResponseObject, error) {
	prices := mapSlice(*r.Body, modelPriceIn)
	for i := range prices {
		m, err := keylists.NonEmpty("model", prices[i].Model)
		if err != nil {
			return nil, errs.New(errs.Invalid, "item %d: %s", i, errs.Message(err))
		}
		prices[i].Model = m
	}
	ok, err := s.changeCtx(ctx, r.Params.IfMatch, func(c *config.Config) error { c.ModelPrices = prices; return nil })
	return mgmtapi.PutModelPrices200JSONResponse{StatusOKJSONResponse: ok}, err
}

// findClientKey finds a key by name, ignoring case as names are unique so.
func findClientKey(list []config.KeyPolicy, name string) (int, error) {
	name = strings.TrimSpace(name)
	return keylists.Find(list, func(k config.KeyPolicy) bool { return strings.EqualFold(k.Name, name) })
}

// setKey gives k the supplied key, or a generated one whose digest alone
// is kept; it returns the generated key ("" for a supplied one).
func setKey(k *config.KeyPolicy, supplied *string) string {
	if supplied != nil {
		k.Key = strings.TrimSpace(*supplied)
		return ""
	}
	key, digest := clientkeys.NewKey()
	k.KeySHA256 = digest
	return key
}

// created is the answer to a create or a rotation: the generated key
// unless it was a dry run (nothing was stored, so the key is no key).
func created(ok mgmtapi.StatusOKJSONResponse, name, generated string) mgmtapi.ClientKeyCreated {
	out := mgmtapi.ClientKeyCreated{Status: mgmtapi.ClientKeyCreatedStatus(ok.Body.Status), Name: name,
		DryRun: ok.Body.DryRun, Diff: ok.Body.Diff, Revision: ok.Body.Revision}
	if generated != "" && ok.Body.DryRun == nil {
		out.Key = &generated
	}
	return out
}

func applyClientKeyFields(k *config.KeyPolicy, f mgmtapi.ClientKeyFields) {
	setIf(&k.Description, f.Description)
	setIf(&k.Owner, f.Owner)
	setIf(&k.ExpiresAt, f.ExpiresAt)
	if f.Disabled != nil {
		k.Disabled = *f.Disabled
	}
	if f.Models != nil {
		k.Models = *f.Models
	}
	if f.Providers != nil {
		k.Providers = *f.Providers
	}
	if f.Credentials != nil {
		k.Credentials = *f.Credentials
	}
	if l := f.Limits; l != nil {
		k.Limits = config.KeyLimits{RequestsPerMinute: deref64(l.RequestsPerMinute), TokensPerMinute: deref64(l.TokensPerMinute),
			MaxConcurrency: deref64(l.MaxConcurrency)}
	}
	if b := f.Budgets; b != nil {
		k.Budgets = config.KeyBudgets{RequestsPerDay: deref64(b.RequestsPerDay), RequestsPerMonth: deref64(b.RequestsPerMonth),
			TokensPerDay: deref64(b.TokensPerDay), TokensPerMonth: deref64(b.TokensPerMonth),
			CostPerDay: derefF(b.CostPerDay), CostPerMonth: derefF(b.CostPerMonth)}
	}
}

// view is a key as the API shows it: its policy and standing, never the
// key or its digest.
func (s *clientKeyHandlers) view(k config.KeyPolicy) mgmtapi.ClientKey {
	out := mgmtapi.ClientKey{Name: k.Name, KeyStored: "plaintext", Disabled: &k.Disabled,
		Description: nonEmpty(k.Description), Owner: nonEmpty(k.Owner), ExpiresAt: nonEmpty(k.ExpiresAt),
		Models: nonEmptyList(k.Models), Providers: nonEmptyList(k.Providers), Credentials: nonEmptyList(k.Credentials),
		Limits: &mgmtapi.ClientKeyLimits{RequestsPerMinute: &k.Limits.RequestsPerMinute, TokensPerMinute: &k.Limits.TokensPerMinute,
			MaxConcurrency: &k.Limits.MaxConcurrency},
		Budgets: &mgmtapi.ClientKeyBudgets{RequestsPerDay: &k.Budgets.RequestsPerDay, RequestsPerMonth: &k.Budgets.RequestsPerMonth,
			TokensPerDay: &k.Budgets.TokensPerDay, TokensPerMonth: &k.Budgets.TokensPerMonth,
			CostPerDay: &k.Budgets.CostPerDay, CostPerMonth: &k.Budgets.CostPerMonth},
	}
	if k.Key == "" {
		out.KeyStored = "sha256"
	}
	now := s.now()
	var st clientkeys.Status
	if p := s.keys.Current().Named(k.Name); p != nil {
		st = p.Status(now)
	} else {
		// Not enforced yet (a change still being applied): no spend.
		st.Day = clientkeys.WindowStatus{Start: clientkeys.Day.Start(now), ResetAt: clientkeys.Day.End(now)}
		st.Month = clientkeys.WindowStatus{Start: clientkeys.Month.Start(now), ResetAt: clientkeys.Month.End(now)}
	}
	out.Usage = mgmtapi.ClientKeyUsage{InFlight: st.InFlight, Day: windowOut(st.Day), Month: windowOut(st.Month)}
	return out
}

func windowOut(w clientkeys.WindowStatus) mgmtapi.ClientKeyWindow {
	return mgmtapi.ClientKeyWindow{Start: w.Start, ResetsAt: w.ResetAt,
		Requests: w.Used.Requests, Tokens: w.Used.Tokens, CostUsd: w.Used.Cost.USD(),
		ReservedRequests: w.Reserved.Requests, ReservedTokens: w.Reserved.Tokens, ReservedCostUsd: w.Reserved.Cost.USD()}
}

func modelPriceOut(p config.ModelPrice) mgmtapi.ModelPrice {
	return mgmtapi.ModelPrice{Model: p.Model, Input: &p.Input, Output: &p.Output, CachedInput: p.CachedInput}
}

func modelPriceIn(p mgmtapi.ModelPrice) config.ModelPrice {
	return config.ModelPrice{Model: p.Model, Input: derefF(p.Input), Output: derefF(p.Output), CachedInput: p.CachedInput}
}

func deref64(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

func derefF(p *float64) float64 {
	if p == nil {
		return 0
	}
	return *p
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func nonEmptyList(l []string) *[]string {
	if len(l) == 0 {
		return nil
	}
	return &l
}
