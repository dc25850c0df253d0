"""Tests of heliosrepl.Copier / CopierOpts: the option setters, creation
errors, a copier of an unreachable source, and - when HR_TEST_PG_SOURCE
names a PostgreSQL server (tests/support/with-servers --pg source) - a
real copy of one tenant's rows."""

import os
import subprocess
import unittest

from heliosrepl import (Copier, CopierOpts, Env, HeliosReplError, Oid,
                        Status)

UNREACHABLE = "host=/nonexistent/hr port=1 dbname=x"


def take(schema, table, batch):
    batch.close()


class CopierOptsTest(unittest.TestCase):
    def setUp(self):
        self.env = Env()

    def tearDown(self):
        self.env.close()

    def test_setters(self):
        with CopierOpts(self.env) as o:
            self.assertIs(o.set_conninfo("dbname=x"), o)
            o.set_tenant("acme-1.prod_x")
            o.set_tenant_column("org_id")
            o.add_table("public.items")
            o.add_schema("app")
            o.set_snapshot("00000003-00000002-1")
            o.set_snapshot(None)
            o.add_skip_table("public.done")
            o.set_rows_per_batch(10)
            self.assertIs(o.set_table_priority("public.items", 2.5), o)
            self.assertEqual(o.errmsg, "")

    def test_bad_values_raise_einval_with_the_message(self):
        with CopierOpts(self.env) as o:
            for call in (lambda: o.set_tenant("no spaces"),
                         lambda: o.set_rows_per_batch(0),
                         lambda: o.add_table(".t"),
                         lambda: o.set_table_priority("t", float("nan")),
                         lambda: o.set_table_priority(".t", 1),
                         lambda: o.set_snapshot("x" * 64)):
                with self.assertRaises(HeliosReplError) as cm:
                    call()
                self.assertEqual(cm.exception.code, Status.EINVAL)
                self.assertTrue(o.errmsg)
            with self.assertRaises(TypeError):
                o.set_tenant(5)
        with self.assertRaises(TypeError):
            CopierOpts(self.env, nonsense=1)

    def test_keywords(self):
        o = CopierOpts(self.env, conninfo="dbname=x", tenant="a",
                       tables=["t"], schemas=["s"], skip_tables=["u"],
                       rows_per_batch=5, snapshot="")
        o.close()
        o.close()
        self.assertTrue(o.closed)


class CopierTest(unittest.TestCase):
    def setUp(self):
        self.env = Env()

    def tearDown(self):
        self.env.close()

    def test_creation_errors(self):
        with CopierOpts(self.env, conninfo="dbname=x") as o:
            with self.assertRaises(HeliosReplError) as cm:
                Copier(self.env, o, take)
            self.assertEqual(cm.exception.code, Status.EINVAL)
            self.assertIn("tenant", str(cm.exception))
            with self.assertRaises(TypeError):
                Copier(self.env, o, None)
            with self.assertRaises(TypeError):
                Copier(self.env, "opts", take)

    def test_unreachable_source(self):
        with CopierOpts(self.env, conninfo=UNREACHABLE, tenant="a") as o:
            c = Copier(self.env, o, take)
        with c:
            self.assertEqual(c.fd, -1)
            self.assertEqual(c.interest, 0)
            self.assertEqual(c.timeout_ms(), 0)
            self.assertFalse(c.done)
            self.assertEqual(c.progress(), (0, 0, 0, 0.0))
            self.assertEqual(c.snapshot_lsn, 0)
            with self.assertRaises(HeliosReplError) as cm:
                c.run(5000)
            self.assertEqual(cm.exception.code, Status.EIO)
            self.assertIn("connect", c.errmsg)
            with self.assertRaises(HeliosReplError):
                c.step()
        self.assertTrue(c.closed)
        with self.assertRaises(HeliosReplError) as cm:
            c.step()
        self.assertEqual(cm.exception.code, Status.ECLOSED)


@unittest.skipUnless(os.environ.get("HR_TEST_PG_SOURCE"),
                     "HR_TEST_PG_SOURCE not set")
class RealCopyTest(unittest.TestCase):
    def test_copies_one_tenant(self):
        conninfo = os.environ["HR_TEST_PG_SOURCE"]
        subprocess.run(
            ["psql", conninfo, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c",
             "DROP TABLE IF EXISTS pycopy; CREATE TABLE pycopy (tenant_id "
             "text, id int, f float8, t text); INSERT INTO pycopy SELECT v, "
             "g, g / 2.0, E'a\\tb' || g FROM generate_series(1, 25) g, "
             "(VALUES ('A'), ('B')) x(v)"], check=True)
        env = Env()
        got, pushed = [], []

        def on_batch(schema, table, batch):
            if not pushed:
                pushed.append(1)
                return False  # backpressure once: offered again
            self.assertEqual((schema, table), ("public", "pycopy"))
            got.append(batch)
            return None

        ends = []
        with CopierOpts(env, conninfo=conninfo, tenant="A",
                        tables=["pycopy"], rows_per_batch=10) as o:
            c = Copier(env, o, on_batch,
                       on_table_end=lambda s, t, r, b: ends.append(r))
        self.assertTrue(c.run(30000))
        self.assertEqual([len(b) for b in got], [10, 10, 5])
        self.assertEqual(ends, [25])
        self.assertEqual(c.progress()[:2], (25, 25))
        self.assertGreater(c.snapshot_lsn, 0)
        batch = got[0]
        self.assertEqual([col.name for col in batch.columns],
                         ["_hr_op", "tenant_id", "id", "f", "t"])
        self.assertEqual(batch.columns[3].type, Oid.FLOAT8)
        ids = sorted(row[2] for b in got for row in b.rows())
        self.assertEqual(ids, list(range(1, 26)))
        self.assertTrue(all(row[0] == 1 and row[1] == "A"
                            for b in got for row in b.rows()))
        for b in got:
            b.close()
        c.close()
        env.close()


if __name__ == "__main__":
    unittest.main()
