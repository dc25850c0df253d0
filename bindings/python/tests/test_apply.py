"""Tests of heliosrepl.Applier / ApplierOpts without a PostgreSQL server:
the option setters, creation errors, what an applier answers before its
checkpoints are loaded, batch ownership on a refused add_batch, and an
applier to an unreachable target."""

import ctypes
import os
import subprocess
import time
import unittest

from heliosrepl import (OP_TRUNCATE, Applier, ApplierOpts, ApplierPhase,
                        ApplierStats, ApplyOp, Batch, Env, HeliosReplError,
                        Oid, PollFlag, Status, _lib, truncate_batch)

UNREACHABLE = "host=127.0.0.1 port=1 connect_timeout=1"


class ApplierOptsTest(unittest.TestCase):
    def setUp(self):
        self.env = Env()
        self.opts = ApplierOpts(self.env)

    def tearDown(self):
        self.opts.close()
        self.env.close()

    def test_every_setter_accepts_a_good_value(self):
        o = self.opts
        self.assertIs(o.set_conninfo("host=localhost dbname=x"), o)
        o.set_source_id("src-1.eu_west")
        o.set_meta_schema("repl_meta")
        o.set_tenant_column("org_id")
        o.set_group_rows(1)
        o.set_group_bytes(1 << 20)
        o.set_group_delay_ms(0)
        o.set_copy_min_rows(0)
        o.set_max_pending_bytes(1 << 30)
        self.assertEqual(o.errmsg, "")

    def test_keyword_constructor(self):
        with ApplierOpts(self.env, conninfo=UNREACHABLE, source_id="s",
                         group_rows=10, group_delay_ms=5) as o:
            self.assertFalse(o.closed)
        self.assertTrue(o.closed)
        with self.assertRaises(TypeError):
            ApplierOpts(self.env, no_such_option=1)

    def test_bad_values(self):
        o = self.opts
        for call in (lambda: o.set_conninfo(""),
                     lambda: o.set_source_id(""),
                     lambda: o.set_source_id("has space"),
                     lambda: o.set_source_id("x" * 64),
                     lambda: o.set_group_rows(0),
                     lambda: o.set_group_bytes(0),
                     lambda: o.set_group_delay_ms(-1),
                     lambda: o.set_max_pending_bytes(0),
                     lambda: o.set_meta_schema(""),
                     lambda: o.set_tenant_column("x" * 64),
                     lambda: o.set_group_rows(-1),
                     lambda: o.set_tenant_column("nul\0byte")):
            with self.assertRaises(HeliosReplError) as cm:
                call()
            self.assertEqual(cm.exception.code, Status.EINVAL)
            self.assertTrue(cm.exception.message)
        with self.assertRaises(HeliosReplError) as cm:
            o.set_source_id("bad id")
        self.assertEqual(o.errmsg, cm.exception.message)
        with self.assertRaises(TypeError):
            o.set_conninfo(b"bytes")
        with self.assertRaises(TypeError):
            o.set_group_rows(1.5)

    def test_close_twice(self):
        self.opts.close()
        self.opts.close()
        with self.assertRaises(HeliosReplError) as cm:
            self.opts.set_conninfo(UNREACHABLE)
        self.assertEqual(cm.exception.code, Status.ECLOSED)


def op_batch(env, ops=(1,), relation=("public", "items")):
    return Batch.from_rows(env, [("_hr_op", Oid.INT2, False),
                                 ("id", Oid.INT8, True)],
                           [(op, k) for k, op in enumerate(ops)], relation)


class ApplierTest(unittest.TestCase):
    def setUp(self):
        self.env = Env()
        self.opts = ApplierOpts(self.env, conninfo=UNREACHABLE)
        self.addCleanup(self.opts.close)

    def tearDown(self):
        self.env.close()

    def assertStatus(self, code, fn, *args):
        with self.assertRaises(HeliosReplError) as cm:
            fn(*args)
        self.assertEqual(cm.exception.code, code)
        return cm.exception

    def test_creation_errors(self):
        with ApplierOpts(self.env) as opts:
            err = self.assertStatus(Status.EINVAL, Applier, self.env, opts)
        self.assertIn("conninfo", err.message)
        self.assertEqual(err.message, self.env.errmsg)
        with self.assertRaises(TypeError):
            Applier(self.env, "opts")
        with self.assertRaises(TypeError):
            Applier(self.env, self.opts, on_applied=42)

    def test_constants(self):
        self.assertEqual(OP_TRUNCATE, 5)
        self.assertEqual(ApplyOp.TRUNCATE, OP_TRUNCATE)
        self.assertEqual([p.value for p in ApplierPhase], list(range(6)))

    def test_new_is_idle_and_not_ready(self):
        with Applier(self.env, self.opts) as a:
            self.assertEqual(a.phase, ApplierPhase.IDLE)
            self.assertEqual(a.fd, -1)
            self.assertEqual(a.interest, PollFlag.NONE)
            self.assertEqual(a.timeout_ms(), 0)  # the first step is due
            self.assertEqual(a.errmsg, "")
            self.assertEqual(a.pending_bytes, 0)
            self.assertEqual(a.stats(), ApplierStats(0, 0, 0, 0))
            self.assertStatus(Status.EAGAIN, a.checkpoint, "t1")
            self.assertStatus(Status.EAGAIN, a.copy_state, "t1")
            self.assertStatus(Status.EINVAL, a.checkpoint, "bad id")
            self.assertFalse(a.copy_table_done("t1", "public", "items"))
            err = self.assertStatus(Status.ESTATE, a.begin, "t1", 100)
            self.assertIn("checkpoints", err.message)
            self.assertEqual(a.errmsg, err.message)
            self.assertStatus(Status.ESTATE, a.begin_copy, "t1", "public",
                              "items", 100)
            self.assertStatus(Status.EINVAL, a.begin_copy, "t1", "", "x", 1)
            self.assertStatus(Status.ESTATE, a.finish_copy, "t1", 100)
            self.assertStatus(Status.ESTATE, a.commit)
            a.rollback()  # no transaction: no-op
            a.set_idempotent_until("t1", 0x500)
            self.assertStatus(Status.EINVAL, a.set_idempotent_until,
                              "bad id", 1)
            self.assertStatus(Status.ENOTFOUND, a.resume, "t1")
            self.assertIn("IDLE", repr(a))

    def test_refused_add_batch_leaves_the_batch_with_the_caller(self):
        with Applier(self.env, self.opts) as a:
            good = op_batch(self.env, (1, 1))
            bare = Batch.from_rows(self.env, [("id", Oid.INT8, False)],
                                   [(1,)], ("public", "items"))
            for batch in (good, bare):
                # No transaction can be open before the checkpoints load.
                self.assertStatus(Status.ESTATE, a.add_batch, batch)
                self.assertFalse(batch.moved)
                self.assertFalse(batch.closed)
                self.assertEqual(len(batch), 2 if batch is good else 1)
                batch.close()  # still ours to free
            self.assertTrue(good.closed)
            self.assertFalse(good.moved)
            self.assertStatus(Status.ECLOSED, a.add_batch, good)
            with self.assertRaises(TypeError):
                a.add_batch("batch")

    def test_moved_batch(self):
        # The moved-from state as add_batch leaves it on success (which
        # needs a server: see tests/integration for the C side).
        batch = op_batch(self.env)
        handle = batch._detach()
        self.assertTrue(batch.moved)
        self.assertTrue(batch.closed)
        self.assertIn("moved", repr(batch))
        err = self.assertStatus(Status.ECLOSED, len, batch)
        self.assertIn("Applier", err.message)
        self.assertStatus(Status.ECLOSED, batch.append_row, (1, 2))
        batch.close()  # nothing to free: a no-op
        del batch  # nor does the finalizer free it
        # Its new owner (here the test) frees the C batch.
        _lib.lib.hr_batch_free(handle)

    def test_truncate_batch(self):
        with truncate_batch(self.env, "app", "tags") as b:
            self.assertEqual(b.relation, ("app", "tags"))
            self.assertEqual(list(b.rows()), [(OP_TRUNCATE,)])
            self.assertEqual(b.columns[0].name, "_hr_op")
            self.assertEqual(b.columns[0].type, Oid.INT2)

    def test_unreachable_target_backs_off(self):
        applied, errors = [], []
        with Applier(self.env, self.opts,
                     on_applied=lambda *a: applied.append(a),
                     on_error=lambda *a: errors.append(a)) as a:
            seen = set()
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                a.step()  # a refused connection is transient: no raise
                phase = a.phase
                seen.add(phase)
                self.assertIn(phase, (ApplierPhase.CONNECTING,
                                      ApplierPhase.BACKOFF))
                self.assertGreaterEqual(a.timeout_ms(), -1)
                if phase == ApplierPhase.BACKOFF:
                    break
                time.sleep(0.01)
            self.assertEqual(a.phase, ApplierPhase.BACKOFF)
            self.assertGreater(a.timeout_ms(), 0)  # the back-off timer
            self.assertEqual(a.fd, -1)
            self.assertStatus(Status.EAGAIN, a.checkpoint, "t1")
            self.assertStatus(Status.EAGAIN, a.copy_state, "t1")
            self.assertEqual(a.stats(), ApplierStats(0, 0, 0, 0))
        self.assertEqual((applied, errors), ([], []))

    def test_callback_trampolines(self):
        # No server makes the library call them: call the C function
        # pointers the library was handed, as it would.
        seen = []

        def on_error(tenant, lsn, status, message):
            seen.append((tenant, lsn, status, message))
            raise KeyError("from on_error")

        a = Applier(self.env, self.opts, on_applied=lambda t, lsn:
                    seen.append((t, lsn)), on_error=on_error)
        self.addCleanup(a.close)
        tenant = ctypes.create_string_buffer(b"acme")
        message = ctypes.create_string_buffer(b"no column x in t")
        applied_fn, error_fn = a._cbs
        applied_fn(None, ctypes.addressof(tenant), 0x1234)
        error_fn(None, ctypes.addressof(tenant), 0x2000, Status.ESCHEMA,
                 ctypes.addressof(message))
        self.assertEqual(seen, [("acme", 0x1234),
                                ("acme", 0x2000, Status.ESCHEMA,
                                 "no column x in t")])
        self.assertIs(type(seen[1][2]), Status)
        # The exception is kept for the end of the next step, which still
        # does its work.
        with self.assertRaises(KeyError):
            a.step()
        self.assertIn(a.phase, (ApplierPhase.CONNECTING,
                                ApplierPhase.BACKOFF))
        a.step()  # raised once only

    def test_close_twice(self):
        a = Applier(self.env, self.opts)
        a.close()
        a.close()
        self.assertTrue(a.closed)
        self.assertEqual(a.phase, ApplierPhase.CLOSED)
        for call in (a.step, lambda: a.checkpoint("t"), a.commit,
                     lambda: a.begin("t", 1), lambda: a.pending_bytes,
                     a.stats, lambda: a.errmsg):
            self.assertStatus(Status.ECLOSED, call)

    def test_opts_are_copied_and_env_kept(self):
        env = Env()
        opts = ApplierOpts(env, conninfo=UNREACHABLE)
        a = Applier(env, opts)
        opts.close()
        env.close()  # kept for the applier
        a.step()
        a.close()


TARGET = os.environ.get("HR_TEST_PG_TARGET")


def psql(sql):
    return subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v",
                           "ON_ERROR_STOP=1", "-d", TARGET, "-c", sql],
                          check=True, capture_output=True,
                          text=True).stdout.strip()


@unittest.skipUnless(TARGET, "HR_TEST_PG_TARGET not set (run under "
                     "tests/support/with-servers --pg target)")
class ApplierServerTest(unittest.TestCase):
    """Against a real target: add_batch taking the batch over, then the
    library applying and freeing it."""

    def setUp(self):
        psql("DROP SCHEMA IF EXISTS heliosrepl CASCADE; "
             "DROP TABLE IF EXISTS public.items; "
             "CREATE TABLE public.items (tenant_id text NOT NULL, "
             "id int8 NOT NULL, name text, PRIMARY KEY (tenant_id, id))")
        self.env = Env()
        self.addCleanup(self.env.close)
        self.applied, self.errors = [], []
        with ApplierOpts(self.env, conninfo=TARGET, group_delay_ms=0) as o:
            self.a = Applier(self.env, o,
                             on_applied=lambda *x: self.applied.append(x),
                             on_error=lambda *x: self.errors.append(x))
        self.addCleanup(self.a.close)

    def step_until(self, done):
        deadline = time.monotonic() + 30
        while not done():
            self.assertLess(time.monotonic(), deadline, self.a.errmsg)
            self.a.step()
            time.sleep(0.005)

    def rows(self, ops_rows, env=None):
        return Batch.from_rows(env or self.env,
                               [("_hr_op", Oid.INT2, False),
                                ("tenant_id", Oid.TEXT, True),
                                ("id", Oid.INT8, True),
                                ("name", Oid.TEXT, True)],
                               ops_rows, ("public", "items"))

    def test_batches_are_taken_over_and_applied(self):
        a = self.a
        self.step_until(lambda: a.phase == ApplierPhase.READY)
        self.assertEqual(a.checkpoint("t1"), 0)
        self.assertEqual(a.copy_state("t1"), (False, 0))
        a.begin("t1", 0x100)
        bare = Batch.from_rows(self.env, [("id", Oid.INT8, False)], [(1,)],
                               ("public", "items"))
        self.assertStatus(Status.EINVAL, a.add_batch, bare)
        self.assertFalse(bare.moved)
        self.assertEqual(len(bare), 1)  # still the caller's
        bare.close()
        other_env = Env()  # a batch of another Env, closed meanwhile
        batches = [self.rows([(1, "t1", 1, "one"), (1, "t1", 2, "two")]),
                   self.rows([(2, "t1", 2, "deux")], other_env)]
        other_env.close()
        for b in batches:
            a.add_batch(b)
            self.assertTrue(b.moved)
            self.assertTrue(b.closed)
            self.assertStatus(Status.ECLOSED, a.add_batch, b)
            b.close()  # a no-op
        self.assertStatus(Status.ESTATE, a.begin, "t1", 0x200)
        a.commit()
        self.assertGreater(a.pending_bytes, 0)
        # A rolled-back transaction's batches are freed by the library.
        a.begin("t1", 0x180)
        a.add_batch(self.rows([(1, "t1", 9, "never")]))
        a.rollback()
        self.step_until(lambda: self.applied)
        self.assertEqual(self.applied, [("t1", 0x100)])
        self.assertEqual(self.errors, [])
        self.assertEqual(a.checkpoint("t1"), 0x100)
        self.assertEqual(a.pending_bytes, 0)
        stats = a.stats()
        self.assertEqual((stats.target_txns, stats.source_txns, stats.rows),
                         (1, 1, 3))
        self.assertEqual(psql("SELECT string_agg(id || '=' || name, ',' "
                              "ORDER BY id) FROM items"), "1=one,2=deux")
        # A truncate batch deletes the tenant's rows only.
        psql("INSERT INTO items VALUES ('t2', 1, 'other')")
        a.begin("t1", 0x300)
        a.add_batch(truncate_batch(self.env, "public", "items"))
        a.commit()
        self.step_until(lambda: len(self.applied) == 2)
        self.assertEqual(self.applied[1], ("t1", 0x300))
        self.assertEqual(psql("SELECT string_agg(tenant_id, ',') FROM items"),
                         "t2")

    def test_close_with_queued_batches(self):
        a = self.a
        self.step_until(lambda: a.phase == ApplierPhase.READY)
        a.begin("t1", 0x100)
        a.add_batch(self.rows([(1, "t1", 1, "one")]))
        a.commit()
        a.begin("t1", 0x200)
        a.add_batch(self.rows([(1, "t1", 2, "two")]))
        a.close()  # frees the queued and the open transaction's batches
        self.assertEqual(psql("SELECT count(*) FROM items"), "0")

    assertStatus = ApplierTest.assertStatus


if __name__ == "__main__":
    unittest.main()
