#!/usr/bin/env bash
# rst-survey: real reStructuredText changelogs that nobody here wrote, fetched by package name at
# pinned versions (PyPI sdists, `pip download`) into $CACHE/corpus/<name>.rst, for check.py.
# CACHE is ${RST_SURVEY_CACHE:-$HOME/.cache/rst-survey}. Idempotent. Never commit what it
# fetches: it is others' writing (learn the shapes, write your own fixtures).
set -eu
CACHE=${RST_SURVEY_CACHE:-$HOME/.cache/rst-survey}
out=$CACHE/corpus dl=$CACHE/dl
MIN=15

# package  version  changelog path in the sdist  (style, for people)
MANIFEST='
flask-sqlalchemy 3.1.1 CHANGES.rst Pallets: Version X.Y.Z + Released date line
blinker 1.9.0 CHANGES.rst Pallets: Version X.Y.Z + Released date line
async-timeout 5.0.1 CHANGES.rst towncrier: X.Y.Z (date) with subsections
pytest-mock 3.14.0 CHANGELOG.rst X.Y.Z (date), --- underlines
pytest-rerunfailures 15.0 CHANGES.rst X.Y (date), subsections, (unreleased)
pytest-django 4.11.1 docs/changelog.rst vX.Y.Z (date), Features/Bugfixes subsections
keyring 25.6.0 NEWS.rst jaraco towncrier: vX.Y.Z with subsections
importlib_metadata 8.7.0 NEWS.rst jaraco towncrier: vX.Y.Z, .. _labels
zipp 3.21.0 NEWS.rst jaraco towncrier
pyramid 2.0.2 CHANGES.rst X.Y.Z (date) + sections, unreleased
oauthlib 3.2.2 CHANGELOG.rst X.Y.Z (date) with bullet subsections
more-itertools 10.7.0 docs/versions.rst X.Y.Z, no dates, nested bullets
celery 5.5.2 Changelog.rst .. _version-X: labels, :release-date: fields, overlines
django-cors-headers 4.7.0 CHANGELOG.rst X.Y.Z (date), Unreleased
django-environ 0.12.0 CHANGELOG.rst vX.Y.Z - date with Added/Fixed subsections
incremental 24.7.2 NEWS.rst towncrier: Incremental X (date)
cachetools 5.5.2 CHANGELOG.rst vX.Y.Z (date), === underlines
pyasn1 0.6.1 CHANGES.rst Revision X.Y.Z, released DD-MM-YYYY
twisted 24.11.0 NEWS.rst towncrier: Twisted X (date) with product subsections
'

mkdir -p "$out" "$dl"
fetch() { # package version path
  local pkg=$1 ver=$2 path=$3 d arc top
  d=$dl/$pkg-$ver
  mkdir -p "$d"
  arc=$(ls "$d"/*.tar.gz 2>/dev/null | head -1 || true)
  if [ -z "$arc" ]; then
    pip download -q --disable-pip-version-check --no-deps --no-binary "$pkg" -d "$d" \
      "$pkg==$ver" >"$d/log" 2>&1 || true
    arc=$(ls "$d"/*.tar.gz 2>/dev/null | head -1 || true)
  fi
  [ -n "$arc" ] || { echo "rst-survey: cannot fetch $pkg $ver (see $d/log)" >&2; return 0; }
  top=$(tar tzf "$arc" | head -1 | cut -d/ -f1)
  if tar xzf "$arc" -O "$top/$path" >"$out/$pkg.rst.tmp" 2>/dev/null && [ -s "$out/$pkg.rst.tmp" ]
  then mv "$out/$pkg.rst.tmp" "$out/$pkg.rst"
  else rm -f "$out/$pkg.rst.tmp"; echo "rst-survey: $pkg $ver has no $path" >&2
  fi
}
export -f fetch
export dl out
printf '%s\n' "$MANIFEST" | awk 'NF >= 3 {print $1, $2, $3}' | xargs -P 4 -L 1 bash -c 'fetch "$@"' _
have=$(ls "$out"/*.rst 2>/dev/null | wc -l)
echo "rst-survey: $have changelogs in $out"
[ "$have" -ge "$MIN" ] || { echo "rst-survey: fewer than $MIN changelogs" >&2; exit 1; }
