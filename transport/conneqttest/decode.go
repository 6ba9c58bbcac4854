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

	"github.com/gpdoc/gpdoc/pipeline"
)

var (
	messageType = reflect.TypeFor[pipeline.Message]()
	numberType  = reflect.TypeFor[pipeline.Number]()
	bytesType   = reflect.TypeFor[[]byte]()
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
func DecodeMessage(body []byte) (*pipeline.Message, []pipeline.Problem, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrNotJSON, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, fmt.Errorf("%w: data after the JSON object", ErrNotJSON)
	}
	obj, ok := tree.(map[string]any)
	if !ok {
		return nil, nil, fmt.Errorf("%w: got %s", ErrNotJSON, jsonKind(tree))
	}
	var probs []pipeline.Problem
	walkStruct("", obj, messageType, &probs)
	clean, err := json.Marshal(obj)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrNotJSON, err)
	}
	var msg pipeline.Message
	if err := json.Unmarshal(clean, &msg); err != nil {
		// walk should have removed anything that fails here; report it anyway.
		probs = append(probs, pipeline.Problem{Name: "body", Reason: "could not be decoded: " + err.Error()})
	}
	return &msg, probs, nil
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// jsonFields maps a struct's JSON member names to their field types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	m := map[string]reflect.Type{}
	for f := range t.Fields() {
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		m[name] = f.Type
	}
	return m
}

// walkStruct checks obj against struct type t, deleting members that are
// unknown or of the wrong type.
func walkStruct(path string, obj map[string]any, t reflect.Type, probs *[]pipeline.Problem) {
	fields := jsonFields(t)
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		ft, ok := fields[k]
		if !ok {
			reason := "unknown field: not part of the API"
			for name := range fields {
				if strings.EqualFold(name, k) {
					reason = fmt.Sprintf("unknown field (member names are case-sensitive: did you mean %q?)", name)
				}
			}
			*probs = append(*probs, pipeline.Problem{Name: join(path, k), Reason: reason})
			delete(obj, k)
			continue
		}
		if !walk(join(path, k), obj[k], ft, probs) {
			delete(obj, k)
		}
	}
}

// walk checks v against t and reports false if v must be dropped.
func walk(path string, v any, t reflect.Type, probs *[]pipeline.Problem) bool {
	if v == nil {
		return true // null: absent; validation reports it if required
	}
	bad := func(want string) bool {
		*probs = append(*probs, pipeline.Problem{Name: path, Reason: fmt.Sprintf("must be %s, got %s", want, jsonKind(v))})
		return false
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == numberType:
		switch v.(type) {
		case json.Number, string:
			return true
		}
		return bad("a number")
	case t == bytesType:
		s, ok := v.(string)
		if !ok {
			return bad("a Base64 string")
		}
		if strings.ContainsAny(s, "\r\n") {
			*probs = append(*probs, pipeline.Problem{Name: path, Reason: "Base64 content must not contain line breaks"})
			return false
		}
		if _, err := base64.StdEncoding.Strict().DecodeString(s); err != nil {
			*probs = append(*probs, pipeline.Problem{Name: path, Reason: "is not standard padded Base64 (RFC 4648 §4): " + err.Error()})
			return false
		}
		return true
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return bad("an object")
		}
		walkStruct(path, m, t, probs)
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
		for i := range arr {
			ip := pipeline.IndexField(name, i, "")
			if prefix != "" {
				ip = prefix + "." + ip
			}
			if !walk(ip, arr[i], t.Elem(), probs) {
				arr[i] = nil
			}
		}
		return true
	case reflect.String:
		if _, ok := v.(string); !ok {
			return bad("a string")
		}
		return true
	case reflect.Int, reflect.Int64, reflect.Int32:
		n, ok := v.(json.Number)
		if !ok {
			return bad("an integer")
		}
		if _, err := strconv.ParseInt(n.String(), 10, 32); err != nil {
			return bad("an integer")
		}
		return true
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			return bad("true or false")
		}
		return true
	}
	return true
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
