package pngmeta

import "context"

// CheckViaImageDecode is Check following image.Decode's reader instead of
// png.Decode's over a bytes.Reader.
func CheckViaImageDecode(ctx context.Context, data []byte) error {
	return check(ctx, data, true)
}
