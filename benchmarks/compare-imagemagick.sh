#!/usr/bin/env bash
# compare-imagemagick.sh: fit the same generated photos under a byte budget
# with gpdoc's downsample core and with ImageMagick's
# `convert IN -define jpeg:extent=BUDGET OUT`, and print, side by side, the
# best wall time of N runs (process start to exit, both tools), the output
# size, and a quality score of each output: SSIM and PSNR (dB) against the
# input image resized to the output's size, computed by the same Go code
# (benchmarks/cmd/imgtool score) for both.
#
# usage: benchmarks/compare-imagemagick.sh [runs]   (default 3)
# needs: Go, and ImageMagick (apt-get install -y imagemagick). A `convert`
# that is not ImageMagick is ignored (/usr/bin/convert is tried first).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}

im=""
for c in /usr/bin/convert "$(command -v convert || true)"; do
	if [ -n "$c" ] && [ -x "$c" ] && "$c" -version 2>/dev/null | grep -q ImageMagick; then
		im=$c
		break
	fi
done
if [ -z "$im" ]; then
	echo "ImageMagick's convert not found (apt-get install -y imagemagick); nothing to compare." >&2
	exit 0
fi

identify=$(dirname "$im")/identify

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/imgtool" ./benchmarks/cmd/imgtool
tool=$work/imgtool

now() { date +%s.%N; }
# best_time CMD...: runs CMD $runs times, prints the fastest wall time.
best_time() {
	local best="" t0 t1 d
	for _ in $(seq "$runs"); do
		t0=$(now)
		"$@" >/dev/null 2>&1
		t1=$(now)
		d=$(echo "$t1 - $t0" | bc -l)
		if [ -z "$best" ] || [ "$(echo "$d < $best" | bc -l)" = 1 ]; then best=$d; fi
	done
	printf '%.2f' "$best"
}

echo "ImageMagick: $("$im" -version | head -1)"
echo "gpdoc: $(go version | cut -d' ' -f3-), $(nproc) CPUs, best of $runs runs; machine shared with other jobs"
echo
printf '| case | budget | input | gpdoc s | IM s | speed-up | gpdoc bytes | IM bytes | gpdoc size | IM size | gpdoc SSIM | IM SSIM | gpdoc PSNR | IM PSNR |\n'
printf '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n'

cases=(
	"24MP-jpeg 6000 4000 jpeg 5000000"
	"12MP-png 4000 3000 png 5000000"
	"24MP-jpeg-2MB 6000 4000 jpeg 2000000"
)
for c in "${cases[@]}"; do
	read -r name w h fmt budget <<<"$c"
	[ "$fmt" = png ] && ext=png || ext=jpg
	in=$work/$name-in.$ext
	"$tool" gen -w "$w" -h "$h" -format "$fmt" -o "$in"
	g=$work/$name-gpdoc.jpg
	m=$work/$name-im.jpg
	tg=$(best_time "$tool" fit -max "$budget" -o "$g" "$in")
	tm=$(best_time "$im" "$in" -define jpeg:extent="$budget" "$m")
	bg=$(stat -c %s "$g")
	bm=$(stat -c %s "$m")
	dg=$("$tool" score "$in" "$g" 2>/dev/null; true)
	dm=$("$tool" score "$in" "$m" 2>/dev/null; true)
	read -r ssg psg <<<"$dg"
	read -r ssm psm <<<"$dm"
	szg=$("$identify" -format '%wx%h' "$g")
	szm=$("$identify" -format '%wx%h' "$m")
	speed=$(echo "$tm / $tg" | bc -l)
	insize=$(stat -c %s "$in")
	printf '| %s | %s | %s bytes | %s | %s | %.1fx | %s | %s | %s | %s | %s | %s | %s | %s |\n' \
		"$name" "$budget" "$insize" "$tg" "$tm" "$speed" "$bg" "$bm" "$szg" "$szm" "$ssg" "$ssm" "$psg" "$psm"
done
