package jsonv

import (
	"strconv"
	"strings"
)

// TypeError is a value of the wrong type for where it is stored.
type TypeError struct {
	Want string // what was wanted: "a string", "an integer"...
	Got  string // what the value is: "a number", "the number 1.5"...
}

func (e *TypeError) Error() string { return "expected " + e.Want + ", got " + e.Got }

// kindNames are the kinds as a TypeError names them.
var kindNames = [...]string{Null: "null", Bool: "a boolean", Number: "a number", String: "a string", Array: "an array", Object: "an object"}

func (v *Value) typeError(want string) error {
	got := "?"
	if int(v.Kind) < len(kindNames) {
		got = kindNames[v.Kind]
	}
	return &TypeError{Want: want, Got: got}
}

// IsNull reports whether v is null.
func (v *Value) IsNull() bool { return v.Kind == Null }

// DecodeString stores the string v in *s; null leaves *s as it is.
func (v *Value) DecodeString(s *string) error {
	switch v.Kind {
	case Null:
	case String:
		*s = v.Str
	default:
		return v.typeError("a string")
	}
	return nil
}

// DecodeBool stores the boolean v in *b; null leaves *b as it is.
func (v *Value) DecodeBool(b *bool) error {
	switch v.Kind {
	case Null:
	case Bool:
		*b = v.Bool
	default:
		return v.typeError("a boolean")
	}
	return nil
}

// DecodeInt stores the number v in *n: it must be written as an integer
// (no fraction, no exponent) within int's range. Null leaves *n as it is.
func (v *Value) DecodeInt(n *int) error {
	switch v.Kind {
	case Null:
	case Number:
		x, err := strconv.ParseInt(v.Str, 10, strconv.IntSize)
		if err != nil {
			return &TypeError{Want: "an integer", Got: "the number " + v.Str}
		}
		*n = int(x)
	default:
		return v.typeError("an integer")
	}
	return nil
}

// DecodeUint stores the number v in *n: it must be written as an integer
// within uint's range. Null leaves *n as it is.
func (v *Value) DecodeUint(n *uint) error {
	switch v.Kind {
	case Null:
	case Number:
		x, err := strconv.ParseUint(v.Str, 10, strconv.IntSize)
		if err != nil {
			return &TypeError{Want: "an unsigned integer", Got: "the number " + v.Str}
		}
		*n = uint(x)
	default:
		return v.typeError("an unsigned integer")
	}
	return nil
}

// DecodeStrings stores the array of strings v in *ss (a null element is
// ""); null stores nil.
func (v *Value) DecodeStrings(ss *[]string) error {
	switch v.Kind {
	case Null:
		*ss = nil
	case Array:
		out := make([]string, len(v.Elems))
		for i := range v.Elems {
			if err := v.Elems[i].DecodeString(&out[i]); err != nil {
				return err
			}
		}
		*ss = out
	default:
		return v.typeError("an array of strings")
	}
	return nil
}

// Map is the object v by key, the last of duplicate keys; nil for any
// other kind.
func (v *Value) Map() map[string]*Value {
	if v.Kind != Object {
		return nil
	}
	m := make(map[string]*Value, len(v.Members))
	for i := range v.Members {
		m[v.Members[i].Key] = &v.Members[i].Value
	}
	return m
}

// DecodeMap stores the object v in *m, by key (Map); null stores nil.
func (v *Value) DecodeMap(m *map[string]*Value) error {
	switch v.Kind {
	case Null:
		*m = nil
	case Object:
		*m = v.Map()
	default:
		return v.typeError("an object")
	}
	return nil
}

// DecodeArray calls f with each element of the array v, in order; null
// calls it for none.
func (v *Value) DecodeArray(f func(e *Value) error) error {
	switch v.Kind {
	case Null:
	case Array:
		for i := range v.Elems {
			if err := f(&v.Elems[i]); err != nil {
				return err
			}
		}
	default:
		return v.typeError("an array")
	}
	return nil
}

// DecodeFields decodes the object v as encoding/json decodes an object
// into a struct whose fields are names: it calls f with the field's name
// and the value of each member whose key is one of names, compared
// without regard to case (strings.EqualFold), in document order, so that
// the last of duplicates is stored last; members of other keys are
// ignored. Null calls f for none. The names must differ from each other
// in more than case.
func (v *Value) DecodeFields(f func(name string, m *Value) error, names ...string) error {
	switch v.Kind {
	case Null:
		return nil
	case Object:
	default:
		return v.typeError("an object")
	}
	for i := range v.Members {
		mb := &v.Members[i]
		for _, name := range names {
			if mb.Key == name || strings.EqualFold(mb.Key, name) {
				if err := f(name, &mb.Value); err != nil {
					return err
				}
				break
			}
		}
	}
	return nil
}

// DecodeObjects stores the array v of objects in *out as encoding/json
// decodes an array into a slice of structs whose fields are names: for
// each element a T, each of its fields set by field (as DecodeFields calls
// it); a null element is a zero T. Null stores nil.
func DecodeObjects[T any](v *Value, out *[]T, field func(t *T, name string, m *Value) error, names ...string) error {
	if v.Kind != Array {
		*out = nil
		return v.DecodeArray(nil) // null: nil; another kind: its TypeError
	}
	list := make([]T, len(v.Elems))
	*out = list
	return v.eachObject(func(i int, name string, m *Value) error { return field(&list[i], name, m) }, names)
}

// eachObject calls f for the fields of each element of the array v (the
// work of DecodeObjects that does not depend on its type).
func (v *Value) eachObject(f func(i int, name string, m *Value) error, names []string) error {
	for i := range v.Elems {
		if err := v.Elems[i].DecodeFields(func(name string, m *Value) error { return f(i, name, m) }, names...); err != nil {
			return err
		}
	}
	return nil
}
