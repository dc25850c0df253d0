#!/usr/bin/env bash
# check-headers.sh SRC_DIR BUILD_DIR [LIBRARY]
#
# Every public header (SRC_DIR/include/heliosrepl/*.h, the umbrella
# heliosrepl.h among them, plus the generated BUILD_DIR/include/heliosrepl/
# version.h) compiles alone, included twice (include guard), with and without
# HR_EXPERIMENTAL defined (the knobs outside the ABI promise), as
#   C99:   gcc/clang   -std=c99   -Wall -Wextra -Werror -pedantic
#   C++11: g++/clang++ -std=c++11 -Wall -Wextra -Werror -pedantic
# with every one of these compilers found on PATH (or $CC / $CXX).
# Then one translation unit with all the headers takes the address of every
# symbol the built library (LIBRARY, default BUILD_DIR/lib/libheliosrepl.so.1)
# exports: as C it proves each is declared in a public header (experimental
# functions with HR_EXPERIMENTAL defined), as C++ that each has C linkage (the
# object refers to the plain name).
# Exit 77 (skipped) when C passes but no C++ compiler is installed.
set -euo pipefail

[ $# -eq 2 ] || [ $# -eq 3 ] || { echo "usage: $0 SRC_DIR BUILD_DIR [LIBRARY]" >&2; exit 2; }
src=$(cd "$1" && pwd)
build=$(cd "$2" && pwd)

headers=()
for h in "$src"/include/heliosrepl/*.h; do headers+=("heliosrepl/$(basename "$h")"); done
if [ -f "$build/include/heliosrepl/version.h" ]; then
    headers+=(heliosrepl/version.h)
elif [ -f "$src/include/heliosrepl/version.h.in" ]; then
    echo "FAIL: $build/include/heliosrepl/version.h not generated (run cmake)" >&2
    exit 1
fi
[ ${#headers[@]} -gt 0 ] || { echo "FAIL: no headers in $src/include/heliosrepl" >&2; exit 1; }

find_compilers() { # candidates... -> the distinct ones on PATH
    local c seen=" " p
    for c in "$@"; do
        [ -n "$c" ] || continue
        p=$(command -v "$c" 2>/dev/null) || continue
        p=$(readlink -f "$p")
        case "$seen" in *" $p "*) continue ;; esac
        seen="$seen$p "
        echo "$c"
    done
}
mapfile -t ccs < <(find_compilers "${CC:-}" gcc clang)
mapfile -t cxxs < <(find_compilers "${CXX:-}" g++ clang++)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
inc=(-I"$src/include" -I"$build/include")
cflags=(-std=c99 -Wall -Wextra -Werror -pedantic -Wstrict-prototypes -Wundef -Wshadow)
cxxflags=(-std=c++11 -Wall -Wextra -Werror -pedantic -Wundef -Wshadow)

fails=0 runs=0
compile() { # lang compiler header [experimental]
    local lang=$1 cc=$2 h=$3 exp=${4:-} tu obj log name what="<$h>"
    name=$(basename "$h" .h)
    tu="$work/$name.$lang"
    obj="$work/$name-$(basename "$cc").o"
    log="$work/log"
    {
        if [ -n "$exp" ]; then
            echo "#define HR_EXPERIMENTAL"
            what="<$h> (HR_EXPERIMENTAL)"
        fi
        echo "#include <$h>"
        echo "#include <$h>"
        echo "typedef int hr_header_check_nonempty_tu; /* ISO C: no empty TU */"
    } >"$tu"
    compile_tu "$lang" "$cc" "$tu" "$what" "$obj"
}

compile_tu() { # lang compiler file description object
    local lang=$1 cc=$2 tu=$3 what=$4 obj=$5 log="$work/log"
    if [ "$lang" = cpp ]; then
        set -- "$cc" -x c++ "${cxxflags[@]}"
    else
        set -- "$cc" -x c "${cflags[@]}"
    fi
    runs=$((runs + 1))
    if "$@" "${inc[@]}" -c "$tu" -o "$obj" >"$log" 2>&1; then
        status=0
        echo "ok   $(basename "$cc") $lang $what"
    else
        echo "FAIL $(basename "$cc") $lang $what: $* ${inc[*]} -c $tu"
        sed 's/^/     /' "$log"
        fails=$((fails + 1))
        status=1
    fi
    return 0
}

[ ${#ccs[@]} -gt 0 ] || { echo "FAIL: no C compiler (gcc, clang) found" >&2; exit 1; }
for cc in "${ccs[@]}"; do
    for h in "${headers[@]}"; do compile c "$cc" "$h"; compile c "$cc" "$h" exp; done
done
for cxx in "${cxxs[@]}"; do
    for h in "${headers[@]}"; do compile cpp "$cxx" "$h"; compile cpp "$cxx" "$h" exp; done
done

# Every exported symbol: declared by the headers, with C linkage.
lib=${3:-$build/lib/libheliosrepl.so.1}
if [ -n "${3:-}" ] && [ ! -f "$3" ]; then
    echo "FAIL: no library $3: build first"
    fails=$((fails + 1))
fi
if [ -f "$lib" ]; then
    readelf --dyn-syms --wide "$lib" |
        awk '$1 ~ /^[0-9]+:$/ && $7 != "UND" && $7 != "ABS" && NF >= 8 && ($4 == "FUNC" || $4 == "OBJECT") {
                 n = $8; sub(/@.*/, "", n); print $4, n }' | LC_ALL=C sort -u >"$work/exports"
    tu="$work/exports_tu"
    {
        echo "#define HR_EXPERIMENTAL"
        for h in "${headers[@]}"; do echo "#include <$h>"; done
        echo "typedef void (*hr_any_fn)(void);"
        echo "hr_any_fn hr_header_check_fns[] = {"
        awk '$1 == "FUNC" { print "    (hr_any_fn)&" $2 "," }' "$work/exports"
        echo "    0 };"
        echo "const void *hr_header_check_objs[] = {"
        awk '$1 == "OBJECT" { print "    (const void *)&" $2 "," }' "$work/exports"
        echo "    0 };"
    } >"$tu"
    awk '{ print $2 }' "$work/exports" >"$work/expected"
    for lang in c cpp; do
        if [ "$lang" = c ]; then cc=${ccs[0]}; else cc=${cxxs[0]:-}; fi
        [ -n "$cc" ] || continue
        compile_tu "$lang" "$cc" "$tu" "(every exported symbol declared)" "$work/exports.o"
        [ "$status" -eq 0 ] || continue
        nm -u "$work/exports.o" | awk '{ print $NF }' | LC_ALL=C sort -u >"$work/referenced"
        missing=$(LC_ALL=C comm -23 "$work/expected" "$work/referenced")
        if [ -n "$missing" ]; then
            echo "FAIL $(basename "$cc") $lang: not referenced by their plain name (no C linkage?):"
            echo "$missing" | sed 's/^/     /'
            echo "     the object refers to: $(tr '\n' ' ' <"$work/referenced")"
            fails=$((fails + 1))
        fi
    done
else
    echo "note: $lib not built; exported symbols not checked against the headers"
fi

echo "$runs compilations, $fails failed (C: ${ccs[*]}; C++: ${cxxs[*]:-none})"
[ "$fails" -eq 0 ] || exit 1
if [ ${#cxxs[@]} -eq 0 ]; then
    echo "SKIP: no C++ compiler (g++, clang++): the headers were not checked as C++" >&2
    exit 77
fi
