package conneqt

import "strconv"

// AttachmentField returns the API's JSON path of a field of attachment i,
// e.g. AttachmentField(2, "fileName") == "attachments[2].fileName". An empty
// field gives "attachments[2]".
func AttachmentField(i int, field string) string {
	return IndexField("attachments", i, field)
}

// IndexField returns name[i].field, or name[i] when field is empty.
func IndexField(name string, i int, field string) string {
	p := name + "[" + strconv.Itoa(i) + "]"
	if field != "" {
		p += "." + field
	}
	return p
}
