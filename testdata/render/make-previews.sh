#!/bin/sh
# Renders a short, a long (5+ pages) and a confidential consultation report
# and their pages as PNG images, so that a person can look at them.
# Needs Go and pdftoppm (poppler-utils). Usage: testdata/render/make-previews.sh [DIR]
set -eu
cd "$(dirname "$0")/../.."
dir=${1:-$(mktemp -d)}
case $dir in /*) ;; *) dir=$PWD/$dir ;; esac
GPDOC_PREVIEW_DIR=$dir go test -count=1 -run '^TestPreview$' -v ./stages/render/ | grep -E 'page|ok|FAIL'
ls "$dir"
echo "previews in $dir"
