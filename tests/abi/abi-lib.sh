# Shared helpers of the ABI scripts in tests/abi/ (sourced, not run).
#
# The ABI baseline (libheliosrepl.abi) and the symbol list (symbols.txt) are
# made from one reference configuration: gcc, -g (RelWithDebInfo or Debug), no
# sanitizers. abidiff compares DWARF type information, so a library built by
# another compiler or without debug info is not comparable with the baseline.

HR_ABI_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
HR_SRC_DIR=$(cd "$HR_ABI_DIR/../.." && pwd)
HR_BASELINE="$HR_ABI_DIR/libheliosrepl.abi"
HR_SYMBOLS="$HR_ABI_DIR/symbols.txt"
HR_SONAME=libheliosrepl.so.1
# Functions outside the ABI promise (hr_<module>_exp_* under the node
# HELIOSREPL_EXPERIMENTAL, lib/heliosrepl.map) are left out of the ABI
# description by this suppression.
HR_EXPERIMENTAL_SUPPR="$HR_ABI_DIR/experimental.suppr"

hr_die() {
    echo "$(basename "$0"): $*" >&2
    exit 1
}

hr_need() {
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null 2>&1 || hr_die "'$tool' not found (Debian: abigail-tools, binutils)"
    done
}

# hr_locate BUILD_DIR [LIBRARY]: sets HR_BUILD_DIR and HR_LIB (the shared
# library; by default BUILD_DIR/lib/libheliosrepl.so.1).
hr_locate() {
    [ $# -ge 1 ] && [ -n "$1" ] || hr_die "usage: $0 BUILD_DIR [LIBRARY]"
    [ -d "$1" ] || hr_die "no build directory '$1'"
    HR_BUILD_DIR=$(cd "$1" && pwd)
    HR_LIB=${2:-$HR_BUILD_DIR/lib/$HR_SONAME}
    [ -f "$HR_LIB" ] || hr_die "no library '$HR_LIB': build first (make -C $1)"
}

# The public headers: the source tree's and the generated version.h. Types
# declared anywhere else (lib/, system headers not reached from the API) are
# private and not part of the comparison.
hr_headers_dirs() {
    HR_HEADERS_DIRS=("$HR_SRC_DIR/include/heliosrepl")
    if [ -d "$HR_BUILD_DIR/include/heliosrepl" ]; then
        HR_HEADERS_DIRS+=("$HR_BUILD_DIR/include/heliosrepl")
    fi
}

# hr_check_comparable: the library must come from the reference configuration.
hr_check_comparable() {
    local producers bad
    producers=$(readelf --debug-dump=info "$HR_LIB" 2>/dev/null |
        sed -n 's/.*DW_AT_producer *: *\(([^)]*): *\)\{0,1\}//p' | sort -u)
    [ -n "$producers" ] ||
        hr_die "$HR_LIB has no DWARF debug info: build with CMAKE_BUILD_TYPE=RelWithDebInfo or Debug"
    bad=$(printf '%s\n' "$producers" | grep -v '^GNU C' || true)
    [ -z "$bad" ] ||
        hr_die "$HR_LIB was not built by gcc (producer: $bad); the baseline is gcc's"
    bad=$(printf '%s\n' "$producers" | grep -e '-fsanitize' || true)
    [ -z "$bad" ] ||
        hr_die "$HR_LIB is a sanitizer build (HR_SANITIZE=ON); not comparable"
}

# hr_dynsyms: "TYPE BIND NAME" for every symbol the library defines in its
# dynamic symbol table, NAME with its version ("name@@VERSION").
hr_dynsyms() {
    readelf --dyn-syms --wide "$HR_LIB" |
        awk '$1 ~ /^[0-9]+:$/ && $7 != "UND" && NF >= 8 { print $4, $5, $8 }'
}

# hr_dump_symbols: the exported symbols, "name@@VERSION" (or "name@VERSION"
# for a non-default version), sorted. The version node definitions (ABS
# symbols named after the node) are left out.
hr_dump_symbols() {
    hr_dynsyms | awk '!($1 == "OBJECT" && $3 ~ /^HELIOSREPL_([0-9]+\.[0-9]+|EXPERIMENTAL)$/) { print $3 }' |
        LC_ALL=C sort
}

# hr_check_symbol_rules: every exported symbol is a public hr_* function or
# object (not an internal hr__ name) under a HELIOSREPL_x.y version node, or
# an experimental hr_<module>_exp_* function under HELIOSREPL_EXPERIMENTAL
# (and nothing else there); the only unversioned symbols are the version node
# definitions. Prints the offenders and returns 1 if any.
hr_check_symbol_rules() {
    hr_dynsyms | awk '
        $1 == "OBJECT" && $3 ~ /^HELIOSREPL_([0-9]+\.[0-9]+|EXPERIMENTAL)$/ { next }
        $3 !~ /@/ { print "unversioned symbol: " $0; bad = 1; next }
        $3 ~ /@@?HELIOSREPL_EXPERIMENTAL$/ {
            if ($3 !~ /^hr_[a-z0-9][a-z0-9_]*_exp_[a-z0-9_]+@@?HELIOSREPL_EXPERIMENTAL$/ || $1 != "FUNC") {
                print "not an hr_<module>_exp_* function: " $0; bad = 1 }
            next }
        $3 !~ /^hr_[a-z0-9][a-z0-9_]*@@?HELIOSREPL_[0-9]+\.[0-9]+$/ {
            print "not a public hr_* symbol under a HELIOSREPL_ node: " $0; bad = 1; next }
        $1 != "FUNC" && $1 != "OBJECT" { print "unexpected symbol type: " $0; bad = 1; next }
        $2 != "GLOBAL" { print "unexpected binding: " $0; bad = 1; next }
        END { exit bad }'
}

# hr_abidw OUT: write the ABI description of HR_LIB, restricted to the types
# of the public headers, without machine-specific paths (locations are file
# names only, the source and build directories are stripped from translation
# unit names), so the file is the same from any checkout and build directory.
# The baseline and the library under test are both described by this function
# and the two descriptions compared: a type keeps its header location on both
# sides, which abidiff's own --headers-dir filter, applied to an ABIXML file
# without full locations, would treat as private and skip.
hr_abidw() {
    local out=$1 tmp dirs=() d src_phys build_phys
    hr_headers_dirs
    for d in "${HR_HEADERS_DIRS[@]}"; do dirs+=(--headers-dir "$d"); done
    tmp=$(mktemp)
    if ! abidw "${dirs[@]}" --suppressions "$HR_EXPERIMENTAL_SUPPR" \
        --drop-private-types --no-corpus-path \
        --no-comp-dir-path --short-locs --type-id-style hash \
        --out-file "$tmp" "$HR_LIB"; then
        rm -f "$tmp"
        hr_die "abidw failed on $HR_LIB"
    fi
    src_phys=$(cd "$HR_SRC_DIR" && pwd -P)
    build_phys=$(cd "$HR_BUILD_DIR" && pwd -P)
    # Build directory first: it may lie inside the source directory.
    sed -e "s|path='$HR_BUILD_DIR/|path='@BUILD@/|" \
        -e "s|path='$build_phys/|path='@BUILD@/|" \
        -e "s|path='$HR_SRC_DIR/|path='|" \
        -e "s|path='$src_phys/|path='|" "$tmp" >"$out"
    rm -f "$tmp"
}
