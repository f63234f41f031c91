package jsonv

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// dump is v in a form that shows what Parse kept: members in order with
// duplicates, numbers as written (#text), strings quoted.
func dump(v *Value) string {
	switch v.Kind {
	case Null:
		return "null"
	case Bool:
		return strconv.FormatBool(v.Bool)
	case Number:
		return "#" + v.Str
	case String:
		return strconv.QuoteToASCII(v.Str)
	case Array:
		s := make([]string, len(v.Elems))
		for i := range v.Elems {
			s[i] = dump(&v.Elems[i])
		}
		return "[" + strings.Join(s, " ") + "]"
	case Object:
		s := make([]string, len(v.Members))
		for i, m := range v.Members {
			s[i] = strconv.Quote(m.Key) + "=" + dump(&m.Value)
		}
		return "{" + strings.Join(s, " ") + "}"
	}
	return "?"
}

func TestParse(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`null`, `null`},
		{` true `, `true`},
		{"\t\r\nfalse\n", `false`},
		{`0`, `#0`}, {`-0`, `#-0`}, {`12.50`, `#12.50`}, {`-1e+9`, `#-1e+9`}, {`1E-2`, `#1E-2`}, {`0.0e0`, `#0.0e0`},
		{`123456789012345678901234567890`, `#123456789012345678901234567890`},
		{`""`, `""`},
		{`"a\"b\\c\/d\b\f\n\r\t"`, `"a\"b\\c/d\b\f\n\r\t"`},
		{`"\u0041\u00e9\u20AC\u0000"`, `"A\u00e9\u20ac\x00"`},
		{`"é€😀"`, `"\u00e9\u20ac\U0001f600"`},
		{`"\ud83d\ude00"`, `"\U0001f600"`},             // a surrogate pair
		{`"\ud83dx"`, `"\ufffdx"`},                     // half a pair: U+FFFD, as encoding/json
		{`"\ude00\ud83d"`, `"\ufffd\ufffd"`},           // the halves the wrong way round
		{`"\ud83d\u0041"`, `"\ufffdA"`},                // a high half, then another character
		{`"\ud83d\ud83d\ude00"`, `"\ufffd\U0001f600"`}, // a high half, then a pair
		{"\"\x7f\u2028\"", `"\x7f\u2028"`},             // DEL and U+2028 need no escape
		{`[]`, `[]`}, {`{}`, `{}`}, {` [ 1 , [ ] , { } ] `, `[#1 [] {}]`},
		{`{"a":1,"b":[true,null],"a":"x"}`, `{"a"=#1 "b"=[true null] "a"="x"}`},
		{`{"\u0061":1,"a":2}`, `{"a"=#1 "a"=#2}`},
	} {
		v, err := Parse([]byte(c.in))
		if err != nil {
			t.Errorf("Parse(%s): %v", c.in, err)
			continue
		}
		if got := dump(v); got != c.want {
			t.Errorf("Parse(%s) = %s, want %s", c.in, got, c.want)
		}
	}
}

// Raw is each value as written, spaces inside kept.
func TestRaw(t *testing.T) {
	v, err := Parse([]byte(` {"a" : { "b" : [ 1 ,2 ] } , "c":"\u0041"} `))
	if err != nil {
		t.Fatal(err)
	}
	a := v.Members[0].Value
	if string(v.Raw) != `{"a" : { "b" : [ 1 ,2 ] } , "c":"\u0041"}` || string(a.Raw) != `{ "b" : [ 1 ,2 ] }` ||
		string(a.Members[0].Value.Raw) != `[ 1 ,2 ]` || string(v.Members[1].Value.Raw) != `"\u0041"` {
		t.Errorf("Raw: %q, %q", v.Raw, a.Raw)
	}
}

// Every refusal says where: line and column of the offending byte.
func TestParseErrors(t *testing.T) {
	for _, c := range []struct {
		in        string
		line, col int
		msg       string
	}{
		{``, 1, 1, "unexpected end of input, expecting a value"},
		{`   `, 1, 4, "end of input"},
		{`{"a":1} }`, 1, 9, "unexpected '}', expecting the end"},
		{`{"a":1}]`, 1, 8, "unexpected ']'"},
		{`{} {}`, 1, 4, "unexpected '{', expecting the end"},
		{`1 2`, 1, 3, "expecting the end"},
		{`{"a":1,}`, 1, 8, "expecting a string (an object's key)"},
		{`[1,]`, 1, 4, "expecting a value"},
		{`[1 2]`, 1, 4, "',' or ']'"},
		{`{"a" 1}`, 1, 6, "':'"},
		{`{"a":1 "b":2}`, 1, 8, "',' or '}'"},
		{`{a:1}`, 1, 2, "unexpected 'a'"},
		{"{\n  \"a\": tru\n}", 2, 11, "'e' of true"},
		{`nul`, 1, 4, "end of input"},
		{`True`, 1, 1, "unexpected 'T'"},
		{`01`, 1, 2, "expecting the end"},
		{`-`, 1, 2, "a digit"},
		{`-x`, 1, 2, "a digit"},
		{`1.`, 1, 3, "a digit"},
		{`.5`, 1, 1, "unexpected '.'"},
		{`1e`, 1, 3, "a digit"},
		{`1e+`, 1, 4, "a digit"},
		{`+1`, 1, 1, "unexpected '+'"},
		{`0x1`, 1, 2, "unexpected 'x'"},
		{`NaN`, 1, 1, "unexpected 'N'"},
		{`"abc`, 1, 5, "end of input in a string"},
		{"\"a\tb\"", 1, 3, "control character '\\t' in a string"},
		{"\"a\nb\"", 1, 3, "control character"},
		{`"\x"`, 1, 3, "an escape"},
		{`"\u12"`, 1, 6, "hexadecimal digit"},
		{`"\ud83d\u12"`, 1, 12, "hexadecimal digit"},
		{"\"a\xffb\"", 1, 3, "invalid UTF-8 (byte 0xff)"},
		{"\"\xed\xa0\x80\"", 1, 2, "invalid UTF-8"}, // a surrogate written as UTF-8
		{"\xef\xbb\xbf{}", 1, 1, "unexpected '\\ufeff'"},
		{"[1,\n2,\n\xff]", 3, 1, "unexpected byte 0xff"},
	} {
		_, err := Parse([]byte(c.in))
		var se *SyntaxError
		if !errors.As(err, &se) || se.Line != c.line || se.Column != c.col || !strings.Contains(se.Msg, c.msg) {
			t.Errorf("Parse(%q) = %v, want line %d, column %d: ...%s...", c.in, err, c.line, c.col, c.msg)
		}
	}
	_, err := Parse([]byte("{\n\"a\":\n!}"))
	if err == nil || err.Error() != "line 3, column 1: unexpected '!', expecting a value" {
		t.Errorf("Error() = %v", err)
	}
}

func TestDepth(t *testing.T) {
	deep := func(n int) []byte {
		return []byte(strings.Repeat(`{"a":[`, n/2) + strings.Repeat("{}", n%2) + strings.Repeat(`]}`, n/2))
	}
	if _, err := Parse(deep(MaxDepth)); err != nil {
		t.Errorf("depth %d: %v", MaxDepth, err)
	}
	_, err := Parse(deep(MaxDepth + 1))
	if err == nil || !strings.Contains(err.Error(), "nested deeper than 10000") || !json.Valid(deep(MaxDepth)) || json.Valid(deep(MaxDepth+1)) {
		t.Errorf("depth %d: %v", MaxDepth+1, err)
	}
}

func TestDecode(t *testing.T) {
	parse := func(s string) *Value {
		v, err := Parse([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	s, b, n, u := "old", true, 7, uint(7)
	if parse(`null`).DecodeString(&s) != nil || parse(`null`).DecodeBool(&b) != nil || parse(`null`).DecodeInt(&n) != nil ||
		parse(`null`).DecodeUint(&u) != nil || s != "old" || !b || n != 7 || u != 7 {
		t.Errorf("null changed a value: %q %v %d %d", s, b, n, u)
	}
	if parse(`"x"`).DecodeString(&s) != nil || parse(`false`).DecodeBool(&b) != nil || parse(`-12`).DecodeInt(&n) != nil ||
		parse(`12`).DecodeUint(&u) != nil || s != "x" || b || n != -12 || u != 12 {
		t.Errorf("decoded: %q %v %d %d", s, b, n, u)
	}
	for _, c := range []struct {
		in   string
		f    func(*Value) error
		want string
	}{
		{`1`, func(v *Value) error { return v.DecodeString(&s) }, "expected a string, got a number"},
		{`"1"`, func(v *Value) error { return v.DecodeInt(&n) }, "expected an integer, got a string"},
		{`1.5`, func(v *Value) error { return v.DecodeInt(&n) }, "expected an integer, got the number 1.5"},
		{`1e2`, func(v *Value) error { return v.DecodeInt(&n) }, "expected an integer, got the number 1e2"},
		{`9223372036854775808`, func(v *Value) error { return v.DecodeInt(&n) }, "expected an integer, got the number 9223372036854775808"},
		{`-1`, func(v *Value) error { return v.DecodeUint(&u) }, "expected an unsigned integer, got the number -1"},
		{`"true"`, func(v *Value) error { return v.DecodeBool(&b) }, "expected a boolean, got a string"},
		{`["a",1]`, func(v *Value) error { var ss []string; return v.DecodeStrings(&ss) }, "expected a string, got a number"},
		{`{}`, func(v *Value) error { var ss []string; return v.DecodeStrings(&ss) }, "expected an array of strings, got an object"},
		{`[]`, func(v *Value) error { var m map[string]*Value; return v.DecodeMap(&m) }, "expected an object, got an array"},
		{`true`, func(v *Value) error { return v.DecodeArray(func(*Value) error { return nil }) }, "expected an array, got a boolean"},
		{`"x"`, func(v *Value) error { return v.DecodeFields(func(string, *Value) error { return nil }, "a") }, "expected an object, got a string"},
	} {
		if err := c.f(parse(c.in)); err == nil || err.Error() != c.want {
			t.Errorf("%s: %v, want %q", c.in, err, c.want)
		}
	}
	ss := []string{"old"}
	if err := parse(`["a",null,""]`).DecodeStrings(&ss); err != nil || !reflect.DeepEqual(ss, []string{"a", "", ""}) {
		t.Errorf("DecodeStrings: %q, %v", ss, err)
	}
	if err := parse(`null`).DecodeStrings(&ss); err != nil || ss != nil {
		t.Errorf("DecodeStrings(null): %q, %v", ss, err)
	}
}

// Map and DecodeFields take the last of duplicate keys; DecodeFields
// matches keys as encoding/json matches struct fields.
func TestDuplicatesAndFields(t *testing.T) {
	v, _ := Parse([]byte(`{"a":1,"b":2,"a":3}`))
	if m := v.Map(); len(m) != 2 || m["a"].Str != "3" || len(v.Members) != 3 {
		t.Errorf("Map: %v", m)
	}
	v, _ = Parse([]byte(`{"cniVersion":"1.0.0","Name":"n","CNIVERSION":"0.4.0","other":1,"cniverſion":"1.1.0"}`))
	var got []string
	err := v.DecodeFields(func(name string, m *Value) error { got = append(got, name+"="+m.Str); return nil }, "cniVersion", "name")
	if err != nil || strings.Join(got, " ") != "cniVersion=1.0.0 name=n cniVersion=0.4.0 cniVersion=1.1.0" {
		t.Errorf("DecodeFields: %v, %v", got, err)
	}
	var want struct {
		CNIVersion string `json:"cniVersion"`
		Name       string `json:"name"`
	}
	if json.Unmarshal(v.Raw, &want); want.CNIVersion != "1.1.0" || want.Name != "n" {
		t.Errorf("encoding/json matches differently: %+v", want)
	}
}

func TestWriter(t *testing.T) {
	var w Writer
	w.BeginObject()
	w.Key("cniVersion")
	w.String("1.1.0")
	w.Key("list")
	w.BeginArray()
	w.BeginObject()
	w.Key("n")
	w.Int(-3)
	w.Key("u")
	w.Uint(1 << 63)
	w.EndObject()
	w.BeginObject()
	w.EndObject()
	w.Bool(true)
	w.Null()
	w.EndArray()
	w.Key("<s>")
	w.Strings([]string{"a&b", ""})
	w.Key("e")
	w.Strings(nil)
	w.EndObject()
	want := `{"cniVersion":"1.1.0","list":[{"n":-3,"u":9223372036854775808},{},true,null],"\u003cs\u003e":["a\u0026b",""],"e":[]}`
	if got := string(w.Bytes()); got != want {
		t.Errorf("Writer:\n%s\nwant\n%s", got, want)
	}
}

func TestAppendString(t *testing.T) {
	for _, s := range []string{
		"", "plain", `"quoted" \ back/slash`, "<a href='x'>&amp;</a>", "\x00\x01\x08\x09\x0a\x0c\x0d\x1f\x20\x7f",
		"é€😀", "\u2028\u2029", "bad\xffutf8\xc3", "\xed\xa0\x80", "\ufffd",
	} {
		want, _ := json.Marshal(s)
		if got := AppendString([]byte("x"), s); string(got) != "x"+string(want) {
			t.Errorf("AppendString(%q) = %s, want %s", s, got[1:], want)
		}
	}
}

// toAny is v as encoding/json decodes into an interface{} with UseNumber.
func toAny(v *Value) any {
	switch v.Kind {
	case Bool:
		return v.Bool
	case Number:
		return json.Number(v.Str)
	case String:
		return v.Str
	case Array:
		out := make([]any, len(v.Elems))
		for i := range v.Elems {
			out[i] = toAny(&v.Elems[i])
		}
		return out
	case Object:
		out := map[string]any{}
		for i := range v.Members {
			out[v.Members[i].Key] = toAny(&v.Members[i].Value)
		}
		return out
	}
	return nil
}

// FuzzParse compares Parse with encoding/json on the same input: the same
// documents accepted (but for text that is not UTF-8, which Parse refuses
// and encoding/json reads with U+FFFD in place of the bad bytes), the same
// values decoded, each string written back as Marshal writes it, each
// number decoded into an int as Unmarshal does.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"cniVersion":"1.1.0","name":"n","ipam":{"type":"host-local","ranges":[[{"subnet":"10.1.0.0/24"}]]},"mtu":1400}`,
		`[1,-0,2.5e-3,1E9,true,false,null,"",{}]`, `"\ud83d\ude00\ud83d\u0041\\\/\b"`, `{"a":1,"a":{"b":[]}}`,
		`{"a":1}]`, `[1,]`, `01`, `1.`, "\"\xff\"", `"\u00zz"`, " \t\n\r1\n", `-9223372036854775809`, `18446744073709551616`,
		"\"<>&\u2028\x7f\"", `[[[[[[[[[[]]]]]]]]]]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := Parse(b)
		valid := json.Valid(b)
		if !utf8.Valid(b) {
			valid = false
		}
		if (err == nil) != valid {
			t.Fatalf("Parse(%q): %v; encoding/json valid: %v", b, err, json.Valid(b))
		}
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) || se.Offset < 0 || se.Offset > len(b) {
				t.Fatalf("Parse(%q): %v", b, err)
			}
			return
		}
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		var want any
		if err := d.Decode(&want); err != nil {
			t.Fatal(err)
		}
		if got := toAny(v); !reflect.DeepEqual(got, want) {
			t.Fatalf("Parse(%q) = %#v, encoding/json %#v", b, got, want)
		}
		if string(v.Raw) != string(bytes.Trim(b, " \t\r\n")) {
			t.Fatalf("Raw %q of %q", v.Raw, b)
		}
		check(t, v)
	})
}

// check compares, over the tree v, each string written back and each
// number decoded as an int with encoding/json.
func check(t *testing.T, v *Value) {
	switch v.Kind {
	case String:
		want, _ := json.Marshal(v.Str)
		if got := AppendString(nil, v.Str); string(got) != string(want) {
			t.Fatalf("AppendString(%q) = %s, Marshal %s", v.Str, got, want)
		}
	case Number:
		var got, want int
		errGot, errWant := v.DecodeInt(&got), json.Unmarshal(v.Raw, &want)
		if (errGot == nil) != (errWant == nil) || got != want {
			t.Fatalf("DecodeInt(%s) = %d, %v; Unmarshal %d, %v", v.Str, got, errGot, want, errWant)
		}
	}
	for i := range v.Elems {
		check(t, &v.Elems[i])
	}
	for i := range v.Members {
		check(t, &v.Members[i].Value)
	}
}

// FuzzAppendString: any bytes, written as encoding/json's Marshal writes
// them, and read back as Marshal's text reads.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "a\"b\\c", "<&>", "\x00\x1f\x7f", "\u2028\u2029", "\xff\xc3(", "😀"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		got := AppendString(nil, s)
		if string(got) != string(want) {
			t.Fatalf("AppendString(%q) = %s, Marshal %s", s, got, want)
		}
		v, err := Parse(got)
		var back string
		json.Unmarshal(want, &back)
		if err != nil || v.Kind != String || v.Str != back {
			t.Fatalf("Parse(%s) = %q, %v; want %q", got, v.Str, err, back)
		}
	})
}
