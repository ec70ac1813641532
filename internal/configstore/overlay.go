package configstore

import (
	"reflect"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
)

// overlay returns the config the file should literally hold after a change
// from cur to next: next's value for every top-level setting the change
// touched, and the file's own, possibly untidy, spelling (file) for every
// other one. Diffing file against the overlay edits exactly the touched
// settings, and list positions match what the file holds rather than its
// normalised form (a hand-written list may have blanks or duplicates that
// normalisation removed).
func overlay(file, cur, next *config.Config) *config.Config {
	out := file.DeepCopy()
	o, c, n := reflect.ValueOf(out).Elem(), reflect.ValueOf(cur).Elem(), reflect.ValueOf(next).Elem()
	for i := range o.NumField() {
		if o.Type().Field(i).Name == "Legacy" {
			continue // never written; migrated at load
		}
		if !reflect.DeepEqual(c.Field(i).Interface(), n.Field(i).Interface()) {
			o.Field(i).Set(n.Field(i))
		}
	}
	return out
}
