package pdfdoc

import (
	"fmt"
	"slices"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// Finding is one piece of active content.
type Finding struct {
	// What it is: "JavaScript action", "document additional actions"...
	What string
	// Where it is: "document OpenAction", "object 12 /AA"...
	Where string
}

// String describes the finding: "JavaScript action (document OpenAction)".
func (f Finding) String() string { return f.What + " (" + f.Where + ")" }

// dangerous action types: they run code, open or fetch other files, or
// send data out.
var dangerous = map[string]bool{
	"JavaScript":       true,
	"Launch":           true,
	"SubmitForm":       true,
	"ImportData":       true,
	"GoToE":            true,
	"GoToR":            true,
	"Rendition":        true,
	"RichMediaExecute": true,
}

const maxDepth = 32

// FindActive lists the active content of ctx without changing it, in a
// stable order.
func FindActive(ctx *model.Context) []Finding { return scan(ctx, false) }

// RemoveActive removes the active content of ctx and lists what it removed:
// the catalog's OpenAction (when it is a dangerous action) and AA, the
// JavaScript and EmbeddedFiles name trees, the AcroForm's XFA, every /AA
// (additional actions) entry, every /A action of a dangerous type
// (JavaScript, Launch, SubmitForm, ImportData, GoToE, GoToR, Rendition,
// RichMediaExecute, also when reached through /Next), and the /EF embedded
// file streams of file specifications. Links to web pages (URI) and
// in-document links (GoTo) stay.
func RemoveActive(ctx *model.Context) []Finding { return scan(ctx, true) }

func scan(ctx *model.Context, remove bool) (found []Finding) {
	x := ctx.XRefTable
	add := func(what, where string) { found = append(found, Finding{What: what, Where: where}) }
	if root, err := x.Catalog(); err == nil && root != nil {
		if v, ok := root.Find("OpenAction"); ok {
			if kind, bad := dangerousAction(x, v, 0); bad {
				add(kind+" action", "document OpenAction")
				if remove {
					root.Delete("OpenAction")
				}
			}
		}
		if _, ok := root.Find("AA"); ok {
			add("document additional actions", "document /AA")
			if remove {
				root.Delete("AA")
			}
		}
		if names := derefDict(x, root, "Names"); names != nil {
			for _, key := range []string{"JavaScript", "EmbeddedFiles"} {
				if _, ok := names.Find(key); ok {
					what := "document JavaScript"
					if key == "EmbeddedFiles" {
						what = "embedded files"
					}
					add(what, "document /Names /"+key)
					if remove {
						names.Delete(key)
						delete(x.Names, key)
					}
				}
			}
		}
		if acro := derefDict(x, root, "AcroForm"); acro != nil {
			if _, ok := acro.Find("XFA"); ok {
				add("XFA form (may hold scripts)", "document /AcroForm /XFA")
				if remove {
					acro.Delete("XFA")
				}
			}
		}
	}
	for _, nr := range sortedObjNrs(x) {
		var d types.Dict
		switch o := x.Table[nr].Object.(type) {
		case types.Dict:
			d = o
		case types.StreamDict:
			d = o.Dict
		default:
			continue
		}
		walk(x, d, fmt.Sprintf("object %d", nr), remove, add, 0)
	}
	return found
}

func walk(x *model.XRefTable, d types.Dict, where string, remove bool, add func(what, where string), depth int) {
	if depth > maxDepth || d == nil {
		return
	}
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := d[k]
		switch k {
		case "AA":
			if t := d.Type(); t != nil && *t == "Catalog" {
				break // reported with the catalog
			}
			add("additional actions", where+" /AA")
			if remove {
				d.Delete("AA")
			}
			continue
		case "A":
			if kind, bad := dangerousAction(x, v, 0); bad {
				add(kind+" action", where+" /A")
				if remove {
					d.Delete("A")
				}
				continue
			}
		case "OpenAction":
			continue // catalog only, handled above
		case "EF":
			add("embedded file", where+" /EF")
			if remove {
				d.Delete("EF")
			}
			continue
		}
		switch c := v.(type) {
		case types.Dict:
			walk(x, c, where+" /"+k, remove, add, depth+1)
		case types.Array:
			for i, e := range c {
				if ed, ok := e.(types.Dict); ok {
					walk(x, ed, fmt.Sprintf("%s /%s[%d]", where, k, i), remove, add, depth+1)
				}
			}
		}
	}
}

// dangerousAction reports whether v (an action dictionary, or a reference
// to one) is of a dangerous type, directly or through /Next.
func dangerousAction(x *model.XRefTable, v types.Object, depth int) (string, bool) {
	if depth > maxDepth {
		return "deeply nested", true
	}
	o, err := x.Dereference(v)
	if err != nil {
		return "", false
	}
	d, ok := o.(types.Dict)
	if !ok {
		return "", false // a destination array: a plain "go to page"
	}
	if s := d.NameEntry("S"); s != nil && dangerous[*s] {
		return *s, true
	}
	if _, ok := d.Find("JS"); ok {
		return "JavaScript", true
	}
	next, ok := d.Find("Next")
	if !ok {
		return "", false
	}
	next, _ = x.Dereference(next)
	switch n := next.(type) {
	case types.Dict:
		return dangerousAction(x, n, depth+1)
	case types.Array:
		for _, e := range n {
			if kind, bad := dangerousAction(x, e, depth+1); bad {
				return kind, true
			}
		}
	}
	return "", false
}

func derefDict(x *model.XRefTable, d types.Dict, key string) types.Dict {
	v, ok := d.Find(key)
	if !ok {
		return nil
	}
	o, err := x.Dereference(v)
	if err != nil {
		return nil
	}
	dd, _ := o.(types.Dict)
	return dd
}
