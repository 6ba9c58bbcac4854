#!/bin/sh
# dryrun_rss.sh: peak RSS of `gpdoc backfill --dry-run` over manifests of
# 1,000 and 100,000 lines of small files, to show that memory does not grow
# with the manifest's length (the manifest is streamed, the in-flight work is
# bounded by --concurrency).
#
# Usage: benchmarks/dryrun_rss.sh [LINES...]   (default: 1000 100000)
# Needs GNU time (/usr/bin/time -v). Writes under a temporary folder it removes.
set -eu
cd "$(dirname "$0")/.."
lines=${*:-"1000 100000"}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/gpdoc" ./cmd/gpdoc
printf 'Clinical note for the dry-run memory test.\n' > "$tmp/note.txt"
printf '%-8s %10s %12s %10s\n' lines "max RSS KB" "elapsed s" "msg/s"
for n in $lines; do
	awk -v n="$n" 'BEGIN {
		for (i = 0; i < n; i++)
			printf "{\"route\":\"standard\",\"sourceId\":\"rss-%d\",\"topic\":\"Health\",\"recipient\":{\"id\":{\"value\":\"G00001\",\"type\":\"OcsClientIdentifier\"}},\"subject\":{\"id\":{\"value\":\"9434765919\",\"type\":\"VerifiedNhsNumber\"}},\"body\":{\"mimeType\":\"text/plain\",\"content\":\"note %d\"},\"attachments\":[{\"fileName\":\"note-%d.txt\",\"mimeType\":\"text/plain\",\"path\":\"note.txt\"}]}\n", i, i, i
	}' > "$tmp/m$n.jsonl"
	rm -rf "$tmp/out"
	start=$(date +%s.%N)
	/usr/bin/time -v "$tmp/gpdoc" backfill --dry-run "$tmp/out" --progress none "$tmp/m$n.jsonl" \
		>"$tmp/stdout" 2>"$tmp/time" || { cat "$tmp/stdout" "$tmp/time"; exit 1; }
	end=$(date +%s.%N)
	rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tmp/time")
	written=$(ls "$tmp/out" | wc -l)
	[ "$written" -eq "$n" ] || { echo "wrote $written files, want $n"; exit 1; }
	awk -v n="$n" -v rss="$rss" -v s="$start" -v e="$end" 'BEGIN { printf "%-8d %10d %12.1f %10.0f\n", n, rss, e - s, n / (e - s) }'
done
