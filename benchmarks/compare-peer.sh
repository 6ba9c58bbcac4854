#!/usr/bin/env bash
# compare-peer.sh: gpdoc backfill against a hand-written peer script
# (benchmarks/peer/peer.py: thread pool, Base64, urllib, naive retries, no
# checks) on the same mixed backlog (benchmarks/mixed), against the same
# simulator, in one run. Prints messages delivered per second, CPU seconds
# per message (user+sys of the sending process) and peak RSS of each, and
# the ratios the throughput goal is stated in, and the simulator's CPU per
# message while each ran (it is on the same 2 cores, and it validates every
# message it is sent: it is usually what bounds both).
#
# Usage: benchmarks/compare-peer.sh [LINES] [CONCURRENCY]   (default 1000 16)
# Needs: python3, GNU time (/usr/bin/time -v).
set -euo pipefail
cd "$(dirname "$0")/.."
lines=${1:-1000}
conc=${2:-16}
tmp=$(mktemp -d)
sim_pid=""
cleanup() { [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

go build -o "$tmp/gpdoc" ./cmd/gpdoc
go run ./benchmarks/cmd/mkmixed -n "$lines" -o "$tmp/mixed" >&2

"$tmp/gpdoc" sim --addr 127.0.0.1:0 --api-key bench-key --access-token bench-token \
	--deliver-after 0 >"$tmp/sim.out" 2>&1 &
sim_pid=$!
for _ in $(seq 100); do
	url=$(sed -n 's/^conneQt simulator listening on //p' "$tmp/sim.out")
	[ -n "$url" ] && break
	sleep 0.1
done
[ -n "$url" ] || { cat "$tmp/sim.out"; exit 1; }
export CONNEQT_API_KEY=bench-key CONNEQT_ACCESS_TOKEN=bench-token

# simcpu prints the simulator's CPU seconds so far (user+sys, from /proc).
simcpu() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$sim_pid/stat"; }

measure() { # name, then the command
	local name=$1; shift
	local start end sim0 sim1
	sim0=$(simcpu)
	start=$(date +%s.%N)
	/usr/bin/time -v "$@" >"$tmp/$name.out" 2>"$tmp/$name.time" || true
	end=$(date +%s.%N)
	sim1=$(simcpu)
	local user sys rss
	user=$(sed -n 's/.*User time (seconds): //p' "$tmp/$name.time")
	sys=$(sed -n 's/.*System time (seconds): //p' "$tmp/$name.time")
	rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tmp/$name.time")
	echo "$name $start $end $user $sys $rss $(awk -v a="$sim0" -v b="$sim1" 'BEGIN { print b - a }')" >>"$tmp/results"
}

measure gpdoc "$tmp/gpdoc" backfill --url "$url" --ledger "$tmp/ledger.db" --concurrency "$conc" \
	--progress none --report "$tmp/report.jsonl" "$tmp/mixed/manifest.jsonl"
gpdoc_sent=$(grep -c '"outcome":"sent"' "$tmp/report.jsonl" || true)
measure peer python3 benchmarks/peer/peer.py "$tmp/mixed/manifest.jsonl" "$url" "$conc"
peer_sent=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sent"])' "$tmp/peer.out")

printf '%-6s %9s %8s %9s %12s %12s %16s\n' tool delivered "wall s" "msg/s" "CPU ms/msg" "max RSS MB" "sim CPU ms/msg"
awk -v gs="$gpdoc_sent" -v ps="$peer_sent" -v n="$lines" '
	{ sent = ($1 == "gpdoc") ? gs : ps
	  wall = $3 - $2; rate[$1] = sent / wall; cpu[$1] = ($4 + $5) * 1000 / n
	  printf "%-6s %9d %8.1f %9.1f %12.1f %12.1f %16.1f\n", $1, sent, wall, rate[$1], cpu[$1], $6 / 1024, $7 * 1000 / n }
	END { printf "\ngpdoc/peer messages/s: %.2fx (goal >= 1.5x); CPU per message: %.2fx of the peer (goal <= 0.5x)\n",
	      rate["gpdoc"] / rate["peer"], cpu["gpdoc"] / cpu["peer"] }' "$tmp/results"
echo "(the peer validates nothing: lines it sends that the service refuses count as not delivered)"
