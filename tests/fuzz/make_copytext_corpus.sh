#!/usr/bin/env bash
# make_copytext_corpus.sh - writes tests/fuzz/corpus/copytext/ from real
# COPY ... TO STDOUT output of PostgreSQL 15 (run by hand; the corpus is
# committed):  tests/support/with-servers --pg source -- \
#                  tests/fuzz/make_copytext_corpus.sh
# Each file: the column count byte, the type bytes of fuzz_copytext.c's
# table, then the server's COPY text rows.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$here/corpus/copytext
mkdir -p "$out"
conn=${HR_TEST_PG_SOURCE:?run under tests/support/with-servers --pg source}
export PGOPTIONS="-c datestyle=ISO -c timezone=UTC -c extra_float_digits=3"

# seed NAME "TYPE-INDEXES" SELECT-LIST FROM-CLAUSE
seed() {
    local name=$1 idx=$2 select=$3 from=${4:-}
    local -a t
    read -r -a t <<<"$idx"
    {
        printf "\\x$(printf %02x $((${#t[@]} - 1)))"
        for i in "${t[@]}"; do printf "\\x$(printf %02x "$i")"; done
        psql "$conn" -X -q -v ON_ERROR_STOP=1 \
            -c "COPY (SELECT $select $from) TO STDOUT"
    } >"$out/$name"
}

# type indexes: 0 bool 1 int2 2 int4 3 int8 4 float4 5 float8 6 numeric
# 7 text 8 bytea 9 date 10 timestamp 11 timestamptz 12 uuid 13 json
# 14 jsonb 15 varchar
seed bool "0 0 0" "true, false, NULL::bool"
seed ints "1 2 3 1 2 3" "(-32768)::int2, (-2147483648)::int4, \
  (-9223372036854775808)::int8, 32767::int2, 2147483647, 9223372036854775807"
seed float4 "4 4 4 4 4 4" "'NaN'::float4, 'Infinity'::float4, \
  '-Infinity'::float4, '-0'::float4, 1.17549435e-38::float4, 3.4028235e38::float4"
seed float8 "5 5 5 5 5 5" "'NaN'::float8, 'Infinity'::float8, \
  '-Infinity'::float8, '-0'::float8, 0.1::float8, 4.9e-324::float8"
seed numeric "6 6 6 6" "'NaN'::numeric, -123456789.000000001::numeric, \
  1e-30::numeric, 'Infinity'::numeric"
seed text "7 7 7" "E'tab\\there', E'new\\nline\\rcr\\\\back', \
  chr(8) || chr(12) || chr(11) || 'caf' || chr(233)"
seed bytea "8 8" "'\\x00ff5c0a09'::bytea, ''::bytea"
seed dates "9 9 9 9" "'2024-02-29'::date, '0044-03-15 BC'::date, \
  'infinity'::date, '-infinity'::date"
seed timestamps "10 10 10 11 11 11" "'2024-01-02 03:04:05.123456'::timestamp, \
  'infinity'::timestamp, '0100-02-03 04:05:06 BC'::timestamp, \
  '1999-12-31 23:59:59.5+05'::timestamptz, '-infinity'::timestamptz, \
  '4713-11-24 00:00:00+00 BC'::timestamptz"
seed uuid "12 12" "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid, NULL::uuid"
seed json "13 14" "json_build_object('a', E'x\\ty', 'b', ARRAY[1, 2]), \
  '{\"k\": [1, 2, null], \"s\": \"\\\\\"}'::jsonb"
seed nulls "0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15" \
  "NULL::bool, NULL::int2, NULL::int4, NULL::int8, NULL::float4, \
  NULL::float8, NULL::numeric, NULL::text, NULL::bytea, NULL::date, \
  NULL::timestamp, NULL::timestamptz, NULL::uuid, NULL::json, NULL::jsonb, \
  NULL::varchar"
seed mixed_rows "2 7 8 9 11 5" "g, 'row ' || g || E'\\t' || repeat('\\\\', g % 3), \
  decode(md5(g::text), 'hex'), '2000-01-01'::date + g * 1000, \
  'epoch'::timestamptz + g * interval '1 day 1 us', g / 7.0::float8" \
  "FROM generate_series(1, 12) g"
seed all_types "0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15" \
  "true, 1::int2, 2, 3::int8, 4.5::float4, -0.0::float8, 6.25::numeric, \
  E'a\\tb', '\\x0102'::bytea, '2024-01-01'::date, \
  '2024-01-01 00:00:00'::timestamp, '2024-01-01 00:00:00+00'::timestamptz, \
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid, '{\"a\": 1}'::json, \
  '[1, \"x\"]'::jsonb, 'v'::varchar"
seed empty_text "7" "''::text"
ls "$out"
