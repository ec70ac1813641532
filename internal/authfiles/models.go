package authfiles

import (
	"slices"

	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
	"github.com/cli-proxy-api/cli-proxy-api/internal/providers"
)

// Model is one model a credential can serve.
type Model struct {
	ID          string
	DisplayName string
	Type        string
	OwnedBy     string
}

// Catalogue answers which models a provider's credential serves. The
// proxy's model catalogue will satisfy it; until it is wired in, Builtin
// is used.
type Catalogue interface {
	ModelsFor(provider string) []Model
}

// FileCatalogue is a Catalogue that also knows each file's own settings
// (prefix, disabled): Models asks it per file when it can.
type FileCatalogue interface {
	Catalogue
	ModelsForFile(name, provider string) []Model
}

// Builtin answers from the provider registry's catalogues alone (no
// exclusions, no prefixes), for when no proxy catalogue is wired in.
type Builtin struct{}

// ModelsFor returns the registry's catalogue of the kind provider names,
// or none when files of that type are not served.
func (Builtin) ModelsFor(provider string) []Model {
	p, ok := providers.Lookup(string(providers.FileKind(provider)))
	if !ok {
		return nil
	}
	out := make([]Model, 0, len(p.Models))
	for _, m := range p.Models {
		out = append(out, Model{ID: m.ID, Type: p.ModelType, OwnedBy: p.Owner})
	}
	return out
}

// Models lists the models the credential in file name can serve.
func (s *Store) Models(name string, c Catalogue) ([]Model, error) {
	if name == "" {
		return nil, errs.New(errs.Invalid, "name is required")
	}
	f, err := s.Stat(name)
	if err != nil {
		return nil, err
	}
	if c == nil {
		c = Builtin{}
	}
	if fc, ok := c.(FileCatalogue); ok {
		return slices.Clone(fc.ModelsForFile(f.Name, f.Provider)), nil
	}
	return slices.Clone(c.ModelsFor(f.Provider)), nil
}
