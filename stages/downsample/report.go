package downsample

// Report says what a fit did.
type Report struct {
	InputMIME, OutputMIME         string
	OriginalBytes, FinalBytes     int64
	OriginalWidth, OriginalHeight int // upright (after EXIF orientation)
	FinalWidth, FinalHeight       int
	Orientation                   int     // EXIF orientation applied (1: none)
	Quality                       float64 // JPEG quality of the output, to 0.1; 0 when lossless
	Flattened                     bool
	// Transcoded is true when a JPEG was re-quantised in the DCT domain
	// (its pixels were never decoded).
	Transcoded bool
	// OnlyTurned is true when a JPEG within the limit, stored with an EXIF
	// orientation of 2 to 8, was turned upright and nothing else.
	OnlyTurned bool
	// Lossless is true when it was turned in the DCT domain: blocks moved,
	// every quantisation step kept (Transcoded is then true too).
	Lossless bool
	// LossyReason says why a JPEG that was OnlyTurned is not Lossless: its
	// pixels were re-encoded at Quality instead.
	LossyReason        string
	Steps              []string // what was done, in order
	Encodes            int      // full-size encodes
	SampleEncodes      int      // encodes of the small sample mosaic
	ImagesRecompressed int      // PDF: image XObjects replaced
}

func (r *Report) step(s string) { r.Steps = append(r.Steps, s) }

// Data returns the report as a map for pipeline.Change.Data.
func (r *Report) Data() map[string]any {
	m := map[string]any{
		"originalBytes": r.OriginalBytes,
		"finalBytes":    r.FinalBytes,
		"inputMime":     r.InputMIME,
		"outputMime":    r.OutputMIME,
		"steps":         append([]string(nil), r.Steps...),
		"encodes":       r.Encodes,
		"sampleEncodes": r.SampleEncodes,
	}
	if r.OriginalWidth > 0 {
		m["originalWidth"], m["originalHeight"] = r.OriginalWidth, r.OriginalHeight
		m["finalWidth"], m["finalHeight"] = r.FinalWidth, r.FinalHeight
	}
	if r.Quality > 0 {
		m["quality"] = r.Quality
	}
	if r.Orientation > 1 {
		m["orientation"] = r.Orientation
	}
	if r.Flattened {
		m["flattenedTransparency"] = true
	}
	if r.Transcoded {
		m["transcoded"] = true
	}
	if r.OnlyTurned {
		m["onlyTurned"] = true
		m["lossless"] = r.Lossless
		if r.LossyReason != "" {
			m["lossyReason"] = r.LossyReason
		}
	}
	if r.ImagesRecompressed > 0 {
		m["imagesRecompressed"] = r.ImagesRecompressed
	}
	return m
}
