package conneqttest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/gpdoc/gpdoc/conneqt"
)

var (
	numberType = reflect.TypeFor[conneqt.Number]()
	bytesType  = reflect.TypeFor[[]byte]()
)

// ErrNotJSON is returned by DecodeMessage for a body that is not a JSON object.
var ErrNotJSON = errors.New("request body is not a JSON object")

// DecodeMessage decodes a request body strictly, as the simulator does
// before validating it. Every member the API does not define (exact case:
// "MessageId" is not "messageId"; gpdoc's own manifest members such as
// "path" and "route" are not API members), every member of the wrong JSON
// type, and every attachment content that is not standard padded Base64
// without line breaks is a Problem with its JSON path. Offending members are
// dropped and the rest is decoded, so that validation can still report
// everything else. The error is non-nil (ErrNotJSON) only when body is not a
// JSON object at all.
//
// Long Base64 values (attachment contents) are set aside before the JSON
// decode and put back into the decoded tree (bigValues), so that
// encoding/json does not scan and copy megabytes of Base64 twice; the
// result is the same as decoding the whole body.
func DecodeMessage(body []byte) (*conneqt.Message, []conneqt.Problem, error) {
	if small, big := bigValues(body); big != nil {
		if tree, err := decodeTree(small); err == nil && restoreBig(tree, big) {
			return walkTree(tree)
		}
	}
	tree, err := decodeTree(body)
	if err != nil {
		return nil, nil, err
	}
	return walkTree(tree)
}

// decodeTree decodes body, which must hold one JSON value and nothing more.
func decodeTree(body []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotJSON, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the JSON object", ErrNotJSON)
	}
	return tree, nil
}

// walkTree checks a decoded body and fills the message from it.
func walkTree(tree any) (*conneqt.Message, []conneqt.Problem, error) {
	obj, ok := tree.(map[string]any)
	if !ok {
		return nil, nil, fmt.Errorf("%w: got %s", ErrNotJSON, jsonKind(tree))
	}
	// One pass over the decoded tree both checks it and fills the message:
	// no second JSON decode, no re-encoding.
	var msg conneqt.Message
	var probs []conneqt.Problem
	walkStruct("", obj, reflect.ValueOf(&msg).Elem(), &probs)
	return &msg, probs, nil
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// jsonFields maps a struct's JSON member names to their field indexes.
func jsonFields(t reflect.Type) map[string]int {
	m := map[string]int{}
	for f := range t.Fields() {
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		m[name] = f.Index[0]
	}
	return m
}

// walkStruct checks obj against the struct dst and sets dst's fields from
// it, leaving out (and reporting) members that are unknown or of the wrong
// type.
func walkStruct(path string, obj map[string]any, dst reflect.Value, probs *[]conneqt.Problem) {
	fields := jsonFields(dst.Type())
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fi, ok := fields[k]
		if !ok {
			reason := "unknown field: not part of the API"
			for name := range fields {
				if strings.EqualFold(name, k) {
					reason = fmt.Sprintf("unknown field (member names are case-sensitive: did you mean %q?)", name)
				}
			}
			*probs = append(*probs, conneqt.Problem{Name: join(path, k), Reason: reason})
			continue
		}
		walk(join(path, k), obj[k], dst.Field(fi), probs)
	}
}

// walk checks v against dst's type and, if it fits, sets dst from it. It
// reports whether dst was set (null leaves dst as it is and counts as set:
// validation reports a required member that is absent).
func walk(path string, v any, dst reflect.Value, probs *[]conneqt.Problem) bool {
	if v == nil {
		return true
	}
	bad := func(want string) bool {
		*probs = append(*probs, conneqt.Problem{Name: path, Reason: fmt.Sprintf("must be %s, got %s", want, jsonKind(v))})
		return false
	}
	t := dst.Type()
	if t.Kind() == reflect.Pointer {
		elem := reflect.New(t.Elem())
		if !walk(path, v, elem.Elem(), probs) {
			return false
		}
		dst.Set(elem)
		return true
	}
	switch {
	case t == numberType:
		var n conneqt.Number
		switch x := v.(type) {
		case json.Number:
			n = conneqt.Number{Text: x.String(), Valid: true}
		case string:
			quoted, _ := json.Marshal(x)
			if err := n.UnmarshalJSON(quoted); err != nil {
				return bad("a number")
			}
		default:
			return bad("a number")
		}
		dst.Set(reflect.ValueOf(n))
		return true
	case t == bytesType:
		s, ok := v.(string)
		if !ok {
			return bad("a Base64 string")
		}
		if strings.ContainsAny(s, "\r\n") {
			*probs = append(*probs, conneqt.Problem{Name: path, Reason: "Base64 content must not contain line breaks"})
			return false
		}
		data, err := base64.StdEncoding.Strict().DecodeString(s)
		if err != nil {
			*probs = append(*probs, conneqt.Problem{Name: path, Reason: "is not standard padded Base64 (RFC 4648 §4): " + err.Error()})
			return false
		}
		dst.SetBytes(data)
		return true
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return bad("an object")
		}
		walkStruct(path, m, dst, probs)
		return true
	case reflect.Slice:
		arr, ok := v.([]any)
		if !ok {
			return bad("an array")
		}
		name, prefix := path, ""
		if i := strings.LastIndexByte(path, '.'); i >= 0 {
			prefix, name = path[:i], path[i+1:]
		}
		out := reflect.MakeSlice(t, len(arr), len(arr))
		for i := range arr {
			ip := conneqt.IndexField(name, i, "")
			if prefix != "" {
				ip = prefix + "." + ip
			}
			walk(ip, arr[i], out.Index(i), probs) // a bad element stays zero (nil)
		}
		dst.Set(out)
		return true
	case reflect.String:
		s, ok := v.(string)
		if !ok {
			return bad("a string")
		}
		dst.SetString(s)
		return true
	case reflect.Int, reflect.Int64, reflect.Int32:
		n, ok := v.(json.Number)
		if !ok {
			return bad("an integer")
		}
		i, err := strconv.ParseInt(n.String(), 10, 32)
		if err != nil {
			return bad("an integer")
		}
		dst.SetInt(i)
		return true
	case reflect.Bool:
		b, ok := v.(bool)
		if !ok {
			return bad("true or false")
		}
		dst.SetBool(b)
		return true
	}
	return bad("a value of the API's type")
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}
