// Package segment reads the marker segments of a JPEG file without decoding
// its image data, and strips metadata from it losslessly: the entropy-coded
// scans are copied byte for byte, so nothing is re-encoded.
//
// [Parse] reports the frame type (baseline, progressive, lossless...),
// whether Huffman tables are present, the EXIF orientation and the metadata
// segments found. [Strip] drops EXIF, XMP, IPTC/Photoshop, comments, MPF
// and any other application segment that decoding does not need (keeping
// JFIF, ICC profiles and Adobe's colour transform) and anything after the
// end of the image; when the EXIF orientation is 2 to 8 it writes a minimal
// EXIF segment holding only that tag, so viewers still turn the picture the
// right way up while no GPS position, device or date leaks.
package segment

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// Sentinel errors, for errors.Is.
var (
	// ErrNotJPEG: the data does not start with a JPEG SOI marker.
	ErrNotJPEG = errors.New("not a JPEG file (no SOI marker)")
	// ErrMalformed: a segment length runs past the end of the data, or no
	// frame header comes before the first scan.
	ErrMalformed = errors.New("malformed JPEG segment structure")
)

// Marker bytes.
const (
	SOI   = 0xD8 // start of image
	EOI   = 0xD9 // end of image
	SOS   = 0xDA // start of scan
	DHT   = 0xC4 // define Huffman tables
	DAC   = 0xCC // define arithmetic coding conditioning
	DQT   = 0xDB // define quantisation tables
	DRI   = 0xDD // define restart interval
	DNL   = 0xDC // define number of lines
	APP0  = 0xE0 // JFIF
	APP1  = 0xE1 // EXIF, XMP
	APP2  = 0xE2 // ICC profile, MPF
	APP14 = 0xEE // Adobe
	COM   = 0xFE // comment
)

// Info describes a JPEG file's structure.
type Info struct {
	// SOF is the first frame marker (0xC0 baseline, 0xC1 extended,
	// 0xC2 progressive, 0xC3 lossless, 0xC5-0xC7 hierarchical,
	// 0xC9-0xCB and 0xCD-0xCF arithmetic); 0 if none was found.
	SOF byte
	// HasDHT reports a Huffman table segment (Motion-JPEG frames omit them
	// and rely on the standard's default tables).
	HasDHT bool
	// Orientation is the EXIF Orientation tag, 1 to 8; 0 when absent or
	// invalid.
	Orientation int
	// Metadata names the segments Strip would remove, in file order.
	Metadata []string
	// HasEOI reports an end-of-image marker; Trailing counts the bytes
	// after it.
	HasEOI   bool
	Trailing int
	// Incomplete says why a progressive image's scans leave it unfinished
	// (cut off part-way, though the file may still end with EOI); "" when
	// every coefficient of every component reaches full precision.
	Incomplete string
}

// FrameType names a frame marker.
func FrameType(sof byte) string {
	switch sof {
	case 0xC0:
		return "baseline"
	case 0xC1:
		return "extended sequential"
	case 0xC2:
		return "progressive"
	case 0xC3:
		return "lossless (SOF3)"
	case 0xC5, 0xC6, 0xC7:
		return fmt.Sprintf("hierarchical (SOF%d)", sof-0xC0)
	case 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF:
		return fmt.Sprintf("arithmetic-coded (SOF%d)", sof-0xC0)
	}
	return "unknown"
}

// Unsupported returns why Go's image/jpeg cannot decode a file of this
// structure, or "" if it can (as far as the structure tells).
func (in Info) Unsupported() string {
	switch {
	case in.SOF == 0xC3:
		return "lossless JPEG (SOF3)"
	case in.SOF >= 0xC5 && in.SOF != DAC && in.SOF <= 0xCF && in.SOF != 0xC8:
		return FrameType(in.SOF) + " JPEG"
	case in.SOF != 0 && !in.HasDHT:
		return "Motion-JPEG frame without Huffman tables (it relies on the default tables)"
	}
	return ""
}

// Segment is one marker segment of a JPEG file.
type Segment struct {
	// Marker is the marker byte (the one after 0xFF).
	Marker byte
	// Start is the offset of the marker's 0xFF; End the offset after the
	// segment (and after its entropy-coded data, for SOS).
	Start, End int
	// Data is the payload after the length field (nil for EOI).
	Data []byte
}

// Header calls visit for each marker segment before the first scan
// (SOS), in file order, until visit returns false. It reads no
// entropy-coded data. It is as lenient as [Parse] and fails as it does.
func Header(data []byte, visit func(Segment) bool) error {
	_, err := walk(data, true, visit)
	return err
}

// walk splits data into segments. It is as lenient as libjpeg between
// segments (fill bytes and stray bytes are skipped) but refuses lengths
// that run past the data. With header set it stops at the first SOS
// (without visiting it); it stops when visit returns false.
func walk(data []byte, header bool, visit func(Segment) bool) (Info, error) {
	var info Info
	var done coverage
	if len(data) < 2 || data[0] != 0xFF || data[1] != SOI {
		return info, ErrNotJPEG
	}
	pos := 2
	for pos < len(data) {
		// Find the next marker: 0xFF followed by a byte that is neither
		// 0xFF (fill) nor 0x00 (a stray stuffed byte).
		for pos < len(data) && data[pos] != 0xFF {
			pos++
		}
		for pos+1 < len(data) && data[pos+1] == 0xFF {
			pos++
		}
		if pos+1 >= len(data) {
			break
		}
		m := data[pos+1]
		start := pos
		switch {
		case m == 0x00 || m == 0x01 || (m >= 0xD0 && m <= 0xD7) || m == SOI:
			pos += 2
			continue
		case m == EOI:
			info.HasEOI = true
			info.Trailing = len(data) - (pos + 2)
			if info.SOF == 0xC2 {
				info.Incomplete = done.missing()
			}
			visit(Segment{Marker: m, Start: start, End: pos + 2})
			return info, nil
		}
		if pos+4 > len(data) {
			return info, fmt.Errorf("%w: marker 0x%02X at offset %d has no length", ErrMalformed, m, pos)
		}
		n := int(binary.BigEndian.Uint16(data[pos+2:]))
		if n < 2 || pos+2+n > len(data) {
			return info, fmt.Errorf("%w: segment 0x%02X at offset %d claims %d bytes, past the end", ErrMalformed, m, pos, n)
		}
		payload := data[pos+4 : pos+2+n]
		end := pos + 2 + n
		switch {
		case m == SOS && header:
			return info, nil
		case m == SOS:
			if info.SOF == 0 {
				return info, fmt.Errorf("%w: scan before any frame header", ErrMalformed)
			}
			if info.SOF == 0xC2 {
				done.scan(payload)
			}
			end = scanEnd(data, end)
		case m == DHT:
			info.HasDHT = true
		case m >= 0xC0 && m <= 0xCF && m != DHT && m != 0xC8 && m != DAC:
			if info.SOF == 0 {
				info.SOF = m
				done = newCoverage(payload)
			}
		case m == APP14 && bytes.HasPrefix(payload, []byte("Adobe")) && len(payload) < adobeLen:
			return info, fmt.Errorf("%w: Adobe APP14 segment at offset %d holds %d bytes, fewer than the %d its fields need", ErrMalformed, pos, len(payload), adobeLen)
		}
		if name := metadataName(m, payload); name != "" {
			info.Metadata = append(info.Metadata, name)
			if m == APP1 && info.Orientation == 0 {
				info.Orientation = ExifOrientation(payload)
			}
		}
		if !visit(Segment{Marker: m, Start: start, End: end, Data: payload}) {
			return info, nil
		}
		pos = end
	}
	return info, nil
}

// scanEnd returns the offset of the marker that ends the entropy-coded data
// starting at pos (or len(data)).
func scanEnd(data []byte, pos int) int {
	for pos+1 < len(data) {
		if data[pos] != 0xFF {
			pos++
			continue
		}
		m := data[pos+1]
		if m == 0x00 || m == 0xFF || (m >= 0xD0 && m <= 0xD7) {
			pos += 2
			if m == 0xFF {
				pos-- // fill byte: look at the next 0xFF again
			}
			continue
		}
		return pos
	}
	return len(data)
}

// metadataName names an application or comment segment that decoding does
// not need, or returns "" for one that is kept.
func metadataName(m byte, p []byte) string {
	switch {
	case m == COM:
		return "comment (COM)"
	case m == APP0:
		if bytes.HasPrefix(p, []byte("JFIF\x00")) {
			return ""
		}
		if bytes.HasPrefix(p, []byte("JFXX\x00")) {
			return "JFIF thumbnail (APP0 JFXX)"
		}
		return "APP0 segment"
	case m == APP1:
		switch {
		case bytes.HasPrefix(p, []byte("Exif\x00")):
			return "EXIF metadata (APP1)"
		case bytes.HasPrefix(p, []byte("http://ns.adobe.com/xap/1.0/")), bytes.HasPrefix(p, []byte("http://ns.adobe.com/xmp/extension/")):
			return "XMP metadata (APP1)"
		}
		return "APP1 segment"
	case m == APP2:
		switch {
		case bytes.HasPrefix(p, []byte("ICC_PROFILE\x00")):
			return ""
		case bytes.HasPrefix(p, []byte("MPF\x00")):
			return "multi-picture index (APP2 MPF)"
		}
		return "APP2 segment"
	case m == APP14:
		if bytes.HasPrefix(p, []byte("Adobe")) {
			return ""
		}
		return "APP14 segment"
	case m == 0xED:
		return "Photoshop/IPTC metadata (APP13)"
	case m > APP2 && m <= 0xEF:
		return fmt.Sprintf("APP%d segment", m-APP0)
	}
	return ""
}

// ExifOrientation reads the Orientation tag (0x0112) of IFD0 from an APP1
// EXIF payload (starting "Exif\x00\x00"), stored as a SHORT or a LONG. It
// returns 0 when the tag is absent, damaged or not 1 to 8. It never
// allocates.
func ExifOrientation(p []byte) int {
	if !bytes.HasPrefix(p, []byte("Exif\x00")) || len(p) < 6+8 {
		return 0
	}
	t := p[6:]
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 0
	}
	if bo.Uint16(t[2:]) != 42 {
		return 0
	}
	off := int64(bo.Uint32(t[4:]))
	if off < 8 || off+2 > int64(len(t)) {
		return 0
	}
	n := int64(bo.Uint16(t[off:]))
	for i := int64(0); i < n; i++ {
		e := off + 2 + 12*i
		if e+12 > int64(len(t)) {
			return 0
		}
		if bo.Uint16(t[e:]) != 0x0112 {
			continue
		}
		var v int
		switch bo.Uint16(t[e+2:]) {
		case 3: // SHORT
			v = int(bo.Uint16(t[e+8:]))
		case 4: // LONG
			v = int(bo.Uint32(t[e+8:]))
		default:
			return 0
		}
		if v < 1 || v > 8 {
			return 0
		}
		return v
	}
	return 0
}

// Parse reads data's segment structure.
func Parse(data []byte) (Info, error) {
	return walk(data, false, func(Segment) bool { return true })
}

// OrientationSegment returns a complete APP1 EXIF segment (marker included)
// that holds only the Orientation tag.
func OrientationSegment(orientation int) []byte {
	tiff := []byte{
		'M', 'M', 0, 42, 0, 0, 0, 8, // big-endian TIFF header, IFD0 at 8
		0, 1, // one entry
		0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, byte(orientation), 0, 0, // Orientation SHORT 1
		0, 0, 0, 0, // no next IFD
	}
	payload := append([]byte("Exif\x00\x00"), tiff...)
	seg := []byte{0xFF, APP1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(payload)+2))
	return append(seg, payload...)
}

// Result is what Strip did.
type Result struct {
	// Data is the stripped file; it is the input itself when nothing was
	// removed.
	Data []byte
	// Removed names what was removed, in file order.
	Removed []string
	// Orientation is the EXIF orientation kept (2 to 8), or 0.
	Orientation int
}

// Strip removes metadata from data losslessly (see the package comment).
func Strip(data []byte) (Result, error) {
	info, err := Parse(data)
	if err != nil {
		return Result{}, err
	}
	res := Result{Data: data}
	if len(info.Metadata) == 0 && info.Trailing == 0 {
		return res, nil
	}
	out := make([]byte, 0, len(data))
	out = append(out, 0xFF, SOI)
	keepOrientation := info.Orientation >= 2
	wroteOrientation := false
	writeOrientation := func() {
		if keepOrientation && !wroteOrientation {
			out = append(out, OrientationSegment(info.Orientation)...)
			wroteOrientation = true
		}
	}
	first := true
	_, err = walk(data, false, func(s Segment) bool {
		isJFIF := s.Marker == APP0 && metadataName(s.Marker, s.Data) == ""
		if first && !isJFIF {
			writeOrientation()
		}
		first = false
		if s.Marker != EOI && metadataName(s.Marker, s.Data) != "" {
			return true
		}
		out = append(out, data[s.Start:s.End]...)
		if isJFIF {
			writeOrientation()
		}
		return true
	})
	if err != nil {
		return Result{}, err
	}
	writeOrientation()
	if bytes.Equal(out, data) {
		return res, nil // already stripped: only the orientation segment
	}
	res.Data = out
	res.Removed = append(res.Removed, info.Metadata...)
	if info.Trailing > 0 {
		res.Removed = append(res.Removed, fmt.Sprintf("%d bytes after the end of the image", info.Trailing))
	}
	if keepOrientation {
		res.Orientation = info.Orientation
	}
	return res, nil
}

// adobeLen is the payload of an Adobe APP14 segment: "Adobe", version,
// flags0, flags1 and the colour transform.
const adobeLen = 12

// coverage tracks, for a progressive frame, which DCT coefficients of each
// component have been coded to full precision (a scan with Al = 0).
type coverage struct {
	ids  []byte   // component ids, in frame order
	full []uint64 // bit k: coefficient k is complete
}

func newCoverage(sof []byte) coverage {
	var c coverage
	if len(sof) < 6 {
		return c
	}
	nf := int(sof[5])
	for i := 0; i < nf && 6+3*i < len(sof); i++ {
		c.ids = append(c.ids, sof[6+3*i])
	}
	c.full = make([]uint64, len(c.ids))
	return c
}

// scan records what one progressive scan header completes.
func (c *coverage) scan(sos []byte) {
	if len(sos) < 1 {
		return
	}
	ns := int(sos[0])
	if len(sos) < 1+2*ns+3 {
		return
	}
	ss, se, al := int(sos[1+2*ns]), int(sos[2+2*ns]), sos[3+2*ns]&0x0F
	if al != 0 || ss > se || se > 63 {
		return
	}
	var bands uint64
	for k := ss; k <= se; k++ {
		bands |= 1 << k
	}
	for i := range ns {
		for j, id := range c.ids {
			if id == sos[1+2*i] {
				c.full[j] |= bands
			}
		}
	}
}

// missing says what is left incomplete, or "".
func (c *coverage) missing() string {
	for j, id := range c.ids {
		if c.full[j] != ^uint64(0) {
			return fmt.Sprintf("progressive scans end before component %d is complete (coefficients coded: %d of 64); the file was cut off", id, bitsSet(c.full[j]))
		}
	}
	return ""
}

func bitsSet(x uint64) int {
	n := 0
	for ; x != 0; x &= x - 1 {
		n++
	}
	return n
}
