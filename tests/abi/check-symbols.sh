#!/usr/bin/env bash
# check-symbols.sh BUILD_DIR [LIBRARY]
#
# The exported dynamic symbols of the built library:
#   - each is hr_* (never an internal hr__ name), a function or an object,
#     under a HELIOSREPL_x.y version node from lib/heliosrepl.map; nothing is
#     exported unversioned except the version node definitions;
#   - every function declared in include/heliosrepl/*.h is exported (those
#     under #ifdef HR_EXPERIMENTAL included);
#   - the list ("name@@NODE", sorted) equals the committed tests/abi/symbols.txt.
# A deliberate change regenerates symbols.txt with tests/abi/update-baseline.sh.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/abi-lib.sh"

hr_need readelf
hr_locate "$@"

status=0
if ! hr_check_symbol_rules; then
    echo "FAIL: $HR_LIB exports symbols outside the rules (lib/heliosrepl.map, HR_API)" >&2
    status=1
fi

soname=$(readelf --dynamic --wide "$HR_LIB" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
if [ "$soname" != "$HR_SONAME" ]; then
    echo "FAIL: SONAME is '$soname', expected $HR_SONAME" >&2
    status=1
fi

# Every function a public header declares is exported: a declaration without
# an exported definition is a link error in the host. gcc -aux-info lists the
# declarations of a translation unit that includes every public header.
if command -v gcc >/dev/null 2>&1; then
    work=$(mktemp -d)
    for h in "$HR_SRC_DIR"/include/heliosrepl/*.h; do
        echo "#include <heliosrepl/$(basename "$h")>"
    done >"$work/all.c"
    if gcc -std=c99 -DHR_EXPERIMENTAL -I"$HR_SRC_DIR/include" -I"$HR_BUILD_DIR/include" \
        -aux-info "$work/decls" -fsyntax-only "$work/all.c" 2>"$work/log"; then
        awk -v a="$HR_SRC_DIR/include/heliosrepl/" -v b="$HR_BUILD_DIR/include/heliosrepl/" '
            (index($0, "/* " a) == 1 || index($0, "/* " b) == 1) && / extern / &&
            match($0, /hr_[A-Za-z0-9_]+ \(/) { print substr($0, RSTART, RLENGTH - 2) }' \
            "$work/decls" | LC_ALL=C sort -u >"$work/declared"
        hr_dump_symbols | sed 's/@.*//' | LC_ALL=C sort -u >"$work/exported"
        missing=$(LC_ALL=C comm -23 "$work/declared" "$work/exported")
        if [ -n "$missing" ]; then
            echo "FAIL: declared in include/heliosrepl/ but not exported by $HR_LIB:" >&2
            echo "$missing" | sed 's/^/      /' >&2
            status=1
        fi
    else
        echo "FAIL: the public headers do not compile together:" >&2
        cat "$work/log" >&2
        status=1
    fi
    rm -rf "$work"
else
    echo "note: gcc not found; declared functions not checked against the exports"
fi

[ -f "$HR_SYMBOLS" ] || hr_die "no $HR_SYMBOLS: run tests/abi/update-baseline.sh $1"
actual=$(mktemp)
trap 'rm -f "$actual"' EXIT
hr_dump_symbols >"$actual"
if ! diff -u --label tests/abi/symbols.txt --label "exported by $HR_LIB" \
    "$HR_SYMBOLS" "$actual"; then
    echo "FAIL: the exported symbols differ from tests/abi/symbols.txt (diff above)." >&2
    echo "      Deliberate? run tests/abi/update-baseline.sh BUILD_DIR and commit." >&2
    status=1
fi

[ "$status" -ne 0 ] || echo "$(wc -l <"$actual") exported symbols match tests/abi/symbols.txt"
exit "$status"
