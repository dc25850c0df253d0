"""Tests of heliosrepl.Batch against the real shared library."""

import copy
import datetime
import pickle
import struct
import unittest
import uuid

from heliosrepl import (UNCHANGED_TOAST, Batch, Column, Env, HeliosReplError,
                        Oid, Status, ValueState)

from hrfixtures import (ALL_COLUMNS, ALL_ROWS, ALL_ROWS_READ, INET_OID,
                        INT64_MAX, NAN_PAYLOAD, UTC, same_rows)


class BatchTestCase(unittest.TestCase):
    def setUp(self):
        self.env = Env()
        self.addCleanup(self.env.close)

    def batch(self, columns=ALL_COLUMNS, rows=(), relation=("public", "t")):
        b = Batch.from_rows(self.env, columns, rows, relation=relation)
        self.addCleanup(b.close)
        return b

    def assertError(self, code, fn, *args, **kwargs):
        with self.assertRaises(HeliosReplError) as cm:
            fn(*args, **kwargs)
        self.assertIs(cm.exception.code, code, cm.exception)
        self.assertEqual(cm.exception.name, "HR_" + code.name)
        return cm.exception


class BatchBuildTest(BatchTestCase):
    def test_every_type_round_trips_through_rows(self):
        b = self.batch(rows=ALL_ROWS)
        self.assertEqual(len(b), len(ALL_ROWS))
        same_rows(self, b.rows(), ALL_ROWS_READ)
        same_rows(self, list(b), ALL_ROWS_READ)
        same_rows(self, [b[-1]], ALL_ROWS_READ[-1:])

    def test_schema_queries(self):
        b = self.batch()
        self.assertEqual(b.columns, tuple(ALL_COLUMNS))
        self.assertIsInstance(b.columns[0].type, Oid)
        self.assertEqual(b.columns[-1].type, INET_OID)
        self.assertEqual(b.column_count, len(ALL_COLUMNS))
        self.assertEqual(b.relation, ("public", "t"))
        self.assertEqual(len(b), 0)
        self.assertEqual(b.raw_size, 0)
        self.assertIn("public.t", repr(b))

    def test_column_specs(self):
        b = Batch(self.env, [("a", Oid.INT4), Column("b", 25, False),
                             ("c", Oid.BOOL, 0)])
        self.addCleanup(b.close)
        self.assertEqual(b.columns, (Column("a", Oid.INT4, True),
                                     Column("b", Oid.TEXT, False),
                                     Column("c", Oid.BOOL, False)))
        self.assertEqual(b.relation, ("", ""))
        with self.assertRaises(TypeError):
            Batch(self.env, ["just a name"])

    def test_from_columns_equals_from_rows(self):
        by_rows = self.batch(rows=ALL_ROWS)
        data = {c.name: [row[i] for row in ALL_ROWS]
                for i, c in enumerate(ALL_COLUMNS)}
        by_cols = Batch.from_columns(self.env, ALL_COLUMNS, data,
                                     relation=("public", "t"))
        self.addCleanup(by_cols.close)
        self.assertEqual(by_cols, by_rows)
        same_rows(self, [tuple(v) for v in zip(*by_cols.to_columns().values())],
                  ALL_ROWS_READ)

    def test_from_columns_checks_its_input(self):
        cols = [("a", Oid.INT4), ("b", Oid.INT4)]
        self.assertError(Status.EINVAL, Batch.from_columns, self.env, cols,
                         {"a": [1]})
        self.assertError(Status.EINVAL, Batch.from_columns, self.env, cols,
                         {"a": [1], "b": [2], "c": [3]})
        self.assertError(Status.EINVAL, Batch.from_columns, self.env, cols,
                         {"a": [1, 2], "b": [2]})
        self.assertError(Status.EINVAL, Batch.from_columns, self.env,
                         [("a", Oid.INT4), ("a", Oid.INT8)], {"a": [1]})
        self.assertError(Status.EINVAL, Batch.from_columns, self.env,
                         [("a", Oid.INT2, False)], {"a": [None]})

    def test_equality_is_bitwise(self):
        cols = [("f", Oid.FLOAT8)]
        zero, neg_zero = self.batch(cols, [(0.0,)]), self.batch(cols, [(-0.0,)])
        self.assertNotEqual(zero, neg_zero)
        self.assertEqual(self.batch(cols, [(NAN_PAYLOAD,)]),
                         self.batch(cols, [(NAN_PAYLOAD,)]))
        self.assertNotEqual(self.batch(cols, [(float("nan"),)]),
                            self.batch(cols, [(NAN_PAYLOAD,)]))
        self.assertNotEqual(self.batch(cols, [(None,)]),
                            self.batch(cols, [(UNCHANGED_TOAST,)]))
        self.assertNotEqual(self.batch(cols, [(1.0,)], relation=("a", "t")),
                            self.batch(cols, [(1.0,)], relation=("b", "t")))
        self.assertTrue(zero.equal(self.batch(cols, [(0.0,)])))
        self.assertNotEqual(zero, "not a batch")
        with self.assertRaises(TypeError):
            hash(zero)

    def test_nan_payload_survives_float8_and_float4_sign(self):
        b = self.batch([("d", Oid.FLOAT8), ("r", Oid.FLOAT4)],
                       [(NAN_PAYLOAD, -0.0)])
        d, r = b[0]
        self.assertEqual(struct.pack("<d", d), struct.pack("<d", NAN_PAYLOAD))
        self.assertEqual(struct.pack("<d", r), struct.pack("<d", -0.0))

    def test_float4_rounds_to_single_precision(self):
        b = self.batch([("r", Oid.FLOAT4)], [(0.1,), (3,)])
        self.assertEqual([r for (r,) in b.rows()],
                         [struct.unpack("f", struct.pack("f", 0.1))[0], 3.0])

    def test_raw_size(self):
        b = self.batch([("a", Oid.INT2), ("b", Oid.INT4), ("c", Oid.INT8),
                        ("d", Oid.BOOL), ("e", Oid.TEXT), ("f", Oid.UUID),
                        ("g", Oid.DATE), ("h", Oid.FLOAT4)],
                       [(1, 2, 3, True, "abc", U, 5, 1.0),
                        (None, UNCHANGED_TOAST, None, None, None, None, None,
                         None)])
        # Row 1: 2 + 4 + 8 + 1 + 3 + 16 + 4 + 4; row 2: one byte a cell.
        self.assertEqual(b.raw_size, 42 + 8)

    def test_states(self):
        b = self.batch([("a", Oid.INT4)], [(1,), (None,), (UNCHANGED_TOAST,)])
        self.assertEqual([b.state(0, r) for r in range(3)],
                         [ValueState.PRESENT, ValueState.NULL,
                          ValueState.UNCHANGED_TOAST])
        with self.assertRaises(IndexError):
            b.state(0, 3)
        with self.assertRaises(IndexError):
            b.state(1, 0)
        with self.assertRaises(IndexError):
            b.row(3)

    def test_truncate(self):
        b = Batch(self.env, columns=[("id", Oid.INT8, False), ("t", Oid.TEXT, True)])
        b.extend([(1, "a"), (2, "b"), (3, None)])
        b.truncate(1)
        self.assertEqual(len(b), 1)
        self.assertEqual(list(b.rows()), [(1, "a")])
        with self.assertRaises(TypeError):
            b.truncate(-1)

    def test_append_rows(self):
        cols = [("id", Oid.INT8, False), ("t", Oid.TEXT, True)]
        a = Batch(self.env, columns=cols)
        a.extend([(1, "a"), (2, None)])
        b = Batch(self.env, columns=cols)
        b.extend([(3, "c")])
        empty = Batch(self.env)
        empty.append_rows(a)
        empty.append_rows(b)
        self.assertEqual(list(empty.rows()), [(1, "a"), (2, None), (3, "c")])
        self.assertEqual(list(b.rows()), [(3, "c")])
        other = Batch(self.env, columns=[("id", Oid.INT4, False)])
        with self.assertRaises(HeliosReplError) as cm:
            empty.append_rows(other)
        self.assertEqual(cm.exception.code, Status.EINVAL)
        with self.assertRaises(TypeError):
            empty.append_rows([(4, "d")])

    def test_extend_clear_rows_and_clear(self):
        b = self.batch([("a", Oid.INT4)], [(1,)])
        b.extend([(2,), (3,)])
        self.assertEqual(list(b.rows()), [(1,), (2,), (3,)])
        b.clear_rows()
        self.assertEqual((len(b), b.column_count), (0, 1))
        b.append_row([4])
        self.assertEqual(list(b), [(4,)])
        b.clear()
        self.assertEqual((len(b), b.column_count, b.relation), (0, 0, ("", "")))
        b.add_column("z", Oid.TEXT)
        b.append_row(["again"])
        self.assertEqual(list(b), [("again",)])


U = uuid.UUID("00112233-4455-6677-8899-aabbccddeeff")


class BatchDatetimeTest(BatchTestCase):
    COLS = [("d", Oid.DATE), ("ts", Oid.TIMESTAMP), ("tz", Oid.TIMESTAMPTZ)]

    def test_datetimes_are_converted(self):
        plus2 = datetime.timezone(datetime.timedelta(hours=2))
        b = self.batch(self.COLS, [
            (datetime.date(1999, 12, 31), datetime.datetime(1999, 12, 31, 23, 59, 59, 999999),
             datetime.datetime(2000, 1, 1, 2, 0, 0, 1, tzinfo=plus2)),
            (datetime.date(1, 1, 1), datetime.datetime(9999, 12, 31),
             datetime.datetime(2000, 1, 1, tzinfo=UTC))])
        max_us = (datetime.datetime(9999, 12, 31) - datetime.datetime(2000, 1, 1)) \
            // datetime.timedelta(microseconds=1)
        self.assertEqual(max_us, 2921939 * 86400 * 10**6)
        self.assertEqual(list(b.rows()), [(-1, -1, 1), (-730119, max_us, 0)])
        self.assertEqual(list(b.rows(datetimes=True)), [
            (datetime.date(1999, 12, 31),
             datetime.datetime(1999, 12, 31, 23, 59, 59, 999999),
             datetime.datetime(2000, 1, 1, 0, 0, 0, 1, tzinfo=UTC)),
            (datetime.date(1, 1, 1), datetime.datetime(9999, 12, 31),
             datetime.datetime(2000, 1, 1, tzinfo=UTC))])
        self.assertEqual(b.to_columns(datetimes=True)["d"][0],
                         datetime.date(1999, 12, 31))

    def test_aware_datetime_into_timestamp_is_utc(self):
        plus5 = datetime.timezone(datetime.timedelta(hours=5))
        b = self.batch([("ts", Oid.TIMESTAMP)],
                       [(datetime.datetime(2000, 1, 1, 5, tzinfo=plus5),)])
        self.assertEqual(list(b.rows()), [(0,)])

    def test_out_of_datetime_range_raises_overflow(self):
        b = self.batch(self.COLS, [(None, INT64_MAX, None)])
        self.assertEqual(list(b.rows()), [(None, INT64_MAX, None)])
        with self.assertRaises(OverflowError):
            list(b.rows(datetimes=True))

    def test_datetime_is_not_a_date(self):
        with self.assertRaises(TypeError):
            self.batch(self.COLS, [(datetime.datetime(2000, 1, 1), 0, 0)])
        with self.assertRaises(TypeError):
            self.batch(self.COLS, [(0, datetime.date(2000, 1, 1), 0)])


class BatchErrorTest(BatchTestCase):
    def test_refused_rows_leave_the_batch_unchanged(self):
        b = self.batch([("id", Oid.INT8, False), ("s", Oid.INT2),
                        ("t", Oid.TEXT, False)], [(1, 1, "a")])
        bad_rows = [
            ((2, 2, None), Status.EINVAL, 'NULL in column "t", which is NOT NULL'),
            ((2, 40000, "b"), Status.EINVAL,
             '40000 out of range for column "s" (type oid 21)'),
            ((2, 2), Status.EINVAL, "row of 2 values for 3 columns"),
            ((2, 2, "b", 4), Status.EINVAL, "row of 4 values for 3 columns"),
            ((2 ** 63, 2, "b"), Status.EINVAL, None),
        ]
        for row, code, message in bad_rows:
            with self.subTest(row=row):
                err = self.assertError(code, b.append_row, row)
                if message is not None:
                    self.assertEqual(err.message, message)
                self.assertEqual(len(b), 1)
        for row in [(2, "2", "b"), (2, 2, 3), (True, 2, "b"), (2.0, 2, "b")]:
            with self.subTest(row=row):
                with self.assertRaises(TypeError):
                    b.append_row(row)
        b.append_row((2, 2, "b"))
        self.assertEqual(list(b), [(1, 1, "a"), (2, 2, "b")])

    def test_value_checks(self):
        cases = [
            (Oid.INT4, 2 ** 31, HeliosReplError),
            (Oid.INT4, -2 ** 31 - 1, HeliosReplError),
            (Oid.DATE, 2 ** 31, HeliosReplError),
            (Oid.INT8, -2 ** 63 - 1, HeliosReplError),
            (Oid.FLOAT4, 1e39, HeliosReplError),
            (Oid.FLOAT4, "1.0", TypeError),
            (Oid.FLOAT8, True, TypeError),
            (Oid.FLOAT8, 10 ** 400, HeliosReplError),
            (Oid.BOOL, 1, TypeError),
            (Oid.UUID, b"short", HeliosReplError),
            (Oid.UUID, str(U), TypeError),
            (Oid.BYTEA, "text", TypeError),
            (Oid.TEXT, 5, TypeError),
        ]
        for oid, value, exc in cases:
            with self.subTest(oid=oid, value=value):
                b = self.batch([("c", oid)])
                with self.assertRaises(exc) as cm:
                    b.append_row([value])
                if exc is HeliosReplError:
                    self.assertIs(cm.exception.code, Status.EINVAL)
                self.assertEqual(len(b), 0)

    def test_library_errors_carry_the_batch_message(self):
        b = self.batch([("a", Oid.INT4)], [(1,)])
        err = self.assertError(Status.ESTATE, b.add_column, "b", Oid.INT4)
        self.assertEqual(err.message,
                         "columns must be declared before values are appended")
        self.assertEqual(b.errmsg, err.message)
        self.assertTrue(err.fatal)
        b.clear()
        err = self.assertError(Status.EINVAL, b.add_column, "", Oid.INT4)
        self.assertEqual(err.message, "column name must be 1..255 bytes")
        self.assertError(Status.EINVAL, b.add_column, "x" * 256, Oid.INT4)
        self.assertError(Status.EINVAL, b.set_relation, "s" * 256, "t")
        self.assertError(Status.EINVAL, b.add_column, "a\0b", Oid.INT4)
        self.assertError(Status.EINVAL, b.set_relation, "a\0b", "t")
        self.assertError(Status.EINVAL, b.add_column, "a", -1)
        self.assertError(Status.EINVAL, b.add_column, "a", 2 ** 32)
        with self.assertRaises(TypeError):
            b.add_column("a", "int4")

    def test_too_many_columns(self):
        b = self.batch([(f"c{i}", Oid.BOOL) for i in range(1664)])
        self.assertError(Status.EINVAL, b.add_column, "one_more", Oid.BOOL)

    def test_set_relation_none_and_unicode(self):
        b = self.batch(relation=None)
        b.set_relation("sch\u00e9ma", "t")
        self.assertEqual(b.relation, ("sch\u00e9ma", "t"))
        b.set_relation(None, None)
        self.assertEqual(b.relation, ("", ""))


class BatchLifetimeTest(BatchTestCase):
    def test_closed_batch_raises_eclosed(self):
        b = Batch(self.env, [("a", Oid.INT4)])
        b.close()
        b.close()
        self.assertTrue(b.closed)
        self.assertIn("closed", repr(b))
        for call in (lambda: len(b), lambda: b.append_row([1]),
                     lambda: list(b.rows()), lambda: b.columns,
                     lambda: b.raw_size, lambda: b.errmsg, b.clear_rows):
            self.assertError(Status.ECLOSED, call)

    def test_close_or_clear_while_iterating(self):
        b = Batch.from_rows(self.env, [("a", Oid.TEXT)], [("x",), ("y",)])
        rows = b.rows()
        self.assertEqual(next(rows), ("x",))
        b.close()
        self.assertError(Status.ECLOSED, next, rows)
        b = self.batch([("a", Oid.TEXT)], [("x",), ("y",)])
        rows = b.rows()
        next(rows)
        b.clear_rows()
        self.assertError(Status.EINVAL, next, rows)

    def test_batch_outlives_a_closed_env(self):
        env = Env()
        b = Batch.from_rows(env, [("a", Oid.TEXT)], [("kept",)])
        env.close()
        self.assertTrue(env.closed)
        self.assertError(Status.ECLOSED, Batch, env, [("a", Oid.TEXT)])
        b.append_row(["alive"])
        self.assertEqual(list(b), [("kept",), ("alive",)])
        self.assertIsNotNone(env._handle)  # the hr_env is still held
        b.close()
        self.assertIsNone(env._handle)  # ... and released with the batch

    def test_handles_cannot_be_copied(self):
        b = self.batch([("a", Oid.INT4)])
        for handle in (b, self.env):
            for copier in (copy.copy, copy.deepcopy, pickle.dumps):
                with self.assertRaises(TypeError):
                    copier(handle)

    def test_context_manager_and_env_reference(self):
        with Batch(self.env, [("a", Oid.INT4)]) as b:
            self.assertIs(b.env, self.env)
        self.assertTrue(b.closed)

    def test_unreferenced_batches_are_released(self):
        env = Env()
        for i in range(500):
            Batch.from_rows(env, [("a", Oid.INT8)], [(i,)])
        self.assertEqual(env._children, set())
        env.close()
        self.assertIsNone(env._handle)


if __name__ == "__main__":
    unittest.main()
