package config

import "reflect"

// DeepCopy returns an exact copy of c that shares no mutable memory with
// it: nil and empty lists and maps stay as they are and free-form values
// keep their Go types, so the copy is reflect.DeepEqual to c. It is the
// config package's only copier. Its Go values may differ from what a YAML
// round trip of c would load (a nil list written as [] comes back empty, a
// JSON-decoded param 1.0 comes back the int 1), never its YAML: Equal, which
// compares as YAML does, holds between them, and Encode writes them alike.
// It copies by reflection, not by a YAML round trip, because encoding a
// whole config with a 100,000-item list took longer than the rest of an
// edit.
func (c *Config) DeepCopy() *Config {
	if c == nil {
		return nil
	}
	cp := &Config{}
	deepCopyValue(reflect.ValueOf(cp).Elem(), reflect.ValueOf(c).Elem())
	return cp
}

// deepCopyValue sets dst, which is settable and zero, to a deep copy of src.
func deepCopyValue(dst, src reflect.Value) {
	switch src.Kind() {
	case reflect.Struct:
		dst.Set(src) // unexported fields and scalars; reference fields are replaced below
		for i := range src.NumField() {
			if dst.Field(i).CanSet() {
				f := dst.Field(i)
				f.SetZero()
				deepCopyValue(f, src.Field(i))
			}
		}
	case reflect.Slice:
		if src.IsNil() {
			return
		}
		out := reflect.MakeSlice(src.Type(), src.Len(), src.Len())
		if k := src.Type().Elem().Kind(); k == reflect.String || k <= reflect.Complex128 {
			reflect.Copy(out, src)
		} else {
			for i := range src.Len() {
				deepCopyValue(out.Index(i), src.Index(i))
			}
		}
		dst.Set(out)
	case reflect.Array:
		for i := range src.Len() {
			deepCopyValue(dst.Index(i), src.Index(i))
		}
	case reflect.Map:
		if src.IsNil() {
			return
		}
		out := reflect.MakeMapWithSize(src.Type(), src.Len())
		for it := src.MapRange(); it.Next(); {
			v := reflect.New(src.Type().Elem()).Elem()
			deepCopyValue(v, it.Value())
			out.SetMapIndex(it.Key(), v)
		}
		dst.Set(out)
	case reflect.Pointer:
		if src.IsNil() {
			return
		}
		p := reflect.New(src.Type().Elem())
		deepCopyValue(p.Elem(), src.Elem())
		dst.Set(p)
	case reflect.Interface:
		if src.IsNil() {
			return
		}
		v := reflect.New(src.Elem().Type()).Elem()
		deepCopyValue(v, src.Elem())
		dst.Set(v)
	default:
		dst.Set(src)
	}
}
