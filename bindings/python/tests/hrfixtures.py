"""Shared data of the batch and codec tests (not a test module)."""

import datetime
import math
import struct
import uuid

from heliosrepl import UNCHANGED_TOAST, Column, Oid

UTC = datetime.timezone.utc
NAN = float("nan")
# A float8 NaN with a payload, to check values travel bit for bit.
NAN_PAYLOAD = struct.unpack("<d", struct.pack("<Q", 0x7FF8_0000_DEAD_BEEF))[0]
INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1
INET_OID = 869  # a type the batch does not know: stored as text

#: Every column type the binding maps, nullable except "id".
ALL_COLUMNS = [
    Column("id", Oid.INT8, False),
    Column("flag", Oid.BOOL),
    Column("small", Oid.INT2),
    Column("medium", Oid.INT4),
    Column("big", Oid.INT8),
    Column("real", Oid.FLOAT4),
    Column("double", Oid.FLOAT8),
    Column("day", Oid.DATE),
    Column("at", Oid.TIMESTAMP),
    Column("at_tz", Oid.TIMESTAMPTZ),
    Column("key", Oid.UUID),
    Column("body", Oid.TEXT),
    Column("name", Oid.VARCHAR),
    Column("code", Oid.BPCHAR),
    Column("doc", Oid.JSON),
    Column("docb", Oid.JSONB),
    Column("amount", Oid.NUMERIC),
    Column("blob", Oid.BYTEA),
    Column("addr", INET_OID),
]

U1 = uuid.UUID("12345678-9abc-def0-1234-56789abcdef0")
U2 = uuid.UUID(int=0)

#: Rows as given to append_row (Python conveniences included).
ALL_ROWS = [
    (1, True, -32768, -2147483648, INT64_MIN, -0.0, -0.0,
     datetime.date(2000, 1, 1), datetime.datetime(2000, 1, 1),
     datetime.datetime(2000, 1, 1, 1, 0, tzinfo=datetime.timezone(
         datetime.timedelta(hours=1))),
     U1, "", "", "", "{}", "{}", "0", b"", ""),
    (2, False, 32767, 2147483647, INT64_MAX, NAN, NAN_PAYLOAD,
     -1, -1, -1, U2.bytes, "h\u00e9llo \u2603 \U0001F600", "a\0b", "x ",
     '{"a": [1, 2]}', '{"b": null}', "-12345.678900", b"\0\xff\x00",
     "192.168.0.1/24"),
    (3, None, None, None, None, None, None, None, None, None, None, None,
     None, None, None, None, None, None, None),
    (4, UNCHANGED_TOAST, UNCHANGED_TOAST, UNCHANGED_TOAST, UNCHANGED_TOAST,
     UNCHANGED_TOAST, UNCHANGED_TOAST, UNCHANGED_TOAST, UNCHANGED_TOAST,
     UNCHANGED_TOAST, UNCHANGED_TOAST, UNCHANGED_TOAST, UNCHANGED_TOAST,
     UNCHANGED_TOAST, UNCHANGED_TOAST, UNCHANGED_TOAST, UNCHANGED_TOAST,
     UNCHANGED_TOAST, UNCHANGED_TOAST),
    (INT64_MAX, True, 0, 0, 0, 0.0, 1e300, datetime.date(2024, 2, 29),
     datetime.datetime(2024, 2, 29, 12, 30, 45, 123456),
     datetime.datetime(2024, 2, 29, 12, 30, 45, 123456, tzinfo=UTC),
     uuid.UUID("ffffffff-ffff-ffff-ffff-ffffffffffff"), "text", "varchar",
     "bpchar", "[]", "[]", "1e10", bytes(range(256)), "::1"),
    (-1, False, 1, 1, 1, 1.5, float("-inf"), 2**31 - 1, INT64_MAX, INT64_MIN,
     b"\x01" * 16, b"raw bytes \xff in text", "\udcff", "", "null", "null",
     "NaN", bytearray(b"ba"), memoryview(b"mv")),
]

# 2024-02-29 is 8825 days after 2000-01-01.
DAY_2024_02_29 = 8825
US_2024_02_29_123045 = (DAY_2024_02_29 * 86400 + 12 * 3600 + 30 * 60 + 45) \
    * 1_000_000 + 123456

#: ALL_ROWS as rows() gives them back (raw ints, str, bytes, UUID).
ALL_ROWS_READ = [
    (1, True, -32768, -2147483648, INT64_MIN, -0.0, -0.0, 0, 0, 0, U1, "",
     "", "", "{}", "{}", "0", b"", ""),
    (2, False, 32767, 2147483647, INT64_MAX, NAN, NAN_PAYLOAD, -1, -1, -1, U2,
     "h\u00e9llo \u2603 \U0001F600", "a\0b", "x ", '{"a": [1, 2]}',
     '{"b": null}', "-12345.678900", b"\0\xff\x00", "192.168.0.1/24"),
    (3,) + (None,) * 18,
    (4,) + (UNCHANGED_TOAST,) * 18,
    (INT64_MAX, True, 0, 0, 0, 0.0, 1e300, DAY_2024_02_29,
     US_2024_02_29_123045, US_2024_02_29_123045,
     uuid.UUID("ffffffff-ffff-ffff-ffff-ffffffffffff"), "text", "varchar",
     "bpchar", "[]", "[]", "1e10", bytes(range(256)), "::1"),
    (-1, False, 1, 1, 1, 1.5, float("-inf"), 2**31 - 1, INT64_MAX, INT64_MIN,
     uuid.UUID(bytes=b"\x01" * 16), "raw bytes \udcff in text", "\udcff", "",
     "null", "null", "NaN", b"ba", "mv"),
]


def bits(value):
    """A hashable, NaN-safe and -0.0-aware form of a read value."""
    if isinstance(value, float):
        return ("float", struct.pack("<d", value))
    return value


def same_rows(test, got, want):
    """assertEqual for rows that may hold NaN / -0.0 (compared by bits)."""
    test.assertEqual([tuple(bits(v) for v in row) for row in got],
                     [tuple(bits(v) for v in row) for row in want])


def json_events(rows, seed):
    """Rows of (id, jsonb payload) like the C tests' fixture_json_events."""
    events = ["click", "view", "purchase", "signup", "logout"]
    state = seed * 2654435761 % 2**32 or 1
    out = []
    for r in range(rows):
        state = (state * 1103515245 + 12345) % 2**31
        a = state
        state = (state * 1103515245 + 12345) % 2**31
        c = state
        payload = (f'{{"ts": {1700000000000 + seed * 100000 + r * 37}, '
                   f'"user": "u{a % 500}", "event": "{events[c % 5]}", '
                   f'"props": {{"page": "/p/{c % 40}", "ms": {a % 3000}, '
                   f'"ok": {"true" if a & 1 else "false"}}}}}')
        out.append((seed * 100000 + r, payload))
    return out


JSON_COLUMNS = [Column("id", Oid.INT8, False), Column("payload", Oid.JSONB)]

assert all(len(r) == len(ALL_COLUMNS) for r in ALL_ROWS + ALL_ROWS_READ)
assert math.isnan(NAN_PAYLOAD)
