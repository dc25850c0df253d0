#!/usr/bin/env bash
# check-abi.sh BUILD_DIR [LIBRARY]
#
# The ABI gate: the built shared library, described by abidw restricted to the
# public headers (as the baseline was), compared by abidiff with the committed
# baseline tests/abi/libheliosrepl.abi. Fails on
#   - an incompatible change: removed functions or variables (abidiff bit 8),
#     changed ones (parameter or return types, public struct layouts, ...;
#     bit 4 with "Changed" interfaces) -> fix the code, or make a new major
#     (SONAME bump, HELIOSREPL_2.0 node; see cmake/abi-version.cmake);
#   - a compatible change: added functions or variables, harmless changes such
#     as a new enumerator (bit 4) -> deliberate? run
#     tests/abi/update-baseline.sh BUILD_DIR and commit the new baseline in the
#     same commit, so that the baseline always describes the library;
#   - an abidiff error (bits 1, 2).
# The library must be a gcc -g build without sanitizers (as the baseline).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/abi-lib.sh"

hr_need abidw abidiff readelf
hr_locate "$@"
hr_check_comparable
[ -f "$HR_BASELINE" ] || hr_die "no baseline $HR_BASELINE: run tests/abi/update-baseline.sh $1"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
hr_abidw "$work/current.abi"

# Pass 1, abidiff's default view: harmful changes only. Pass 2 adds the
# changes abidiff considers harmless (e.g. enumerator insertions), which must
# reach the baseline as well.
rc=0 rc_all=0
abidiff "$HR_BASELINE" "$work/current.abi" >"$work/harmful" 2>&1 || rc=$?
abidiff --harmless "$HR_BASELINE" "$work/current.abi" >"$work/all" 2>&1 || rc_all=$?

if [ "$rc" -eq 0 ] && [ "$rc_all" -eq 0 ]; then
    echo "ABI of $HR_LIB matches tests/abi/libheliosrepl.abi"
    exit 0
fi

# Number of changed functions/variables in a report's summary lines.
changed() { sed -n 's/^\(Functions\|Variables\) changes summary: [0-9]* Removed, \([0-9]*\) Changed.*/\2/p' "$1" |
    awk '{ n += $1 } END { print n + 0 }'; }

echo "---- abidiff --harmless tests/abi/libheliosrepl.abi $HR_LIB (exit $rc_all; without --harmless: exit $rc) ----"
cat "$work/all"
if [ $(( (rc | rc_all) & 3 )) -eq 0 ] && [ "$rc" -ne 0 ]; then
    echo "---- harmful changes only (abidiff's default) ----"
    cat "$work/harmful"
fi
echo "----"
if [ $(( (rc | rc_all) & 3 )) -ne 0 ]; then
    echo "FAIL: abidiff error (exit $rc / $rc_all)" >&2
elif [ $((rc & 8)) -ne 0 ] || { [ $((rc & 4)) -ne 0 ] && [ "$(changed "$work/harmful")" -gt 0 ]; }; then
    echo "FAIL: ABI changed incompatibly (interfaces removed or changed, see above)." >&2
    echo "      Restore the interface, or make a new major version (SONAME, version" >&2
    echo "      node; cmake/abi-version.cmake) and update the baseline in the same commit." >&2
elif [ $(( (rc | rc_all) & 4 )) -ne 0 ]; then
    echo "FAIL: ABI changed compatibly: run tests/abi/update-baseline.sh and commit" >&2
    echo "      (a deliberate ABI change updates the baseline in the same commit)." >&2
else
    echo "FAIL: unexpected abidiff exit status $rc / $rc_all" >&2
fi
exit 1
