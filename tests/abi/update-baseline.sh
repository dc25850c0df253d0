#!/usr/bin/env bash
# update-baseline.sh BUILD_DIR [LIBRARY]
#
# Regenerates tests/abi/libheliosrepl.abi (abidw) and tests/abi/symbols.txt
# from the built shared library, on purpose: a deliberate ABI change (new
# functions, a new version node, a new major) updates both files in the same
# commit as the change, and the reviewer reads their diff.
#
# Use the reference configuration: gcc, CMAKE_BUILD_TYPE RelWithDebInfo (the
# default) or Debug, HR_SANITIZE=OFF. The script refuses other builds.
#   cmake -S . -B build && make -C build -j2 && tests/abi/update-baseline.sh build
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/abi-lib.sh"

hr_need abidw readelf
hr_locate "$@"
hr_check_comparable
hr_check_symbol_rules ||
    hr_die "the library exports symbols outside the rules; fix lib/heliosrepl.map or HR_API first"

hr_abidw "$HR_BASELINE"
hr_dump_symbols >"$HR_SYMBOLS"

echo "wrote $HR_BASELINE ($(abidw --version | head -n1), $(gcc -dumpfullversion 2>/dev/null || echo gcc))"
echo "wrote $HR_SYMBOLS ($(wc -l <"$HR_SYMBOLS") symbols)"
echo "Check them (git diff tests/abi) and commit them with the change."
