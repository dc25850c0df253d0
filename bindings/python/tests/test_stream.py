"""Tests of heliosrepl.Stream / StreamOpts without a PostgreSQL server: the
option setters, creation errors, and a stream to an unreachable source."""

import time
import unittest

from heliosrepl import (Env, HeliosReplError, PollFlag, Status, Stream,
                        StreamChange, StreamMode, StreamOpts, StreamPhase,
                        StreamRole, stream_batches, stream_to_batch)
from heliosrepl.pgoutput import _unpickle_txn

UNREACHABLE = "host=127.0.0.1 port=1 connect_timeout=1"


def ignore_txn(tenant, txn, changes):
    pass


class StreamOptsTest(unittest.TestCase):
    def setUp(self):
        self.env = Env()
        self.opts = StreamOpts(self.env)

    def tearDown(self):
        self.opts.close()
        self.env.close()

    def test_every_setter_accepts_a_good_value(self):
        o = self.opts
        self.assertIs(o.set_conninfo("host=localhost dbname=x"), o)
        o.set_mode(StreamMode.DEDICATED)
        o.set_tenant("acme-1.prod_x")
        o.set_tenant_column("org_id")
        o.add_table("public.items")
        o.add_schema("app")
        o.set_slot("my_slot_1")
        o.set_publication("my_pub")
        o.set_start_lsn(0x16B3748)
        o.set_binary(True)
        o.set_proto_version(1)
        o.set_status_interval_ms(5000)
        o.set_heartbeat_interval_ms(0)
        o.set_export_snapshot(True)
        o.set_hold_start(False)
        self.assertEqual(o.errmsg, "")

    def test_keyword_constructor(self):
        with StreamOpts(self.env, conninfo=UNREACHABLE, tenant="t1",
                        tables=["public.a", "public.b"], schemas=["s"],
                        binary=False, heartbeat_interval_ms=1000) as o:
            self.assertFalse(o.closed)
        self.assertTrue(o.closed)
        with self.assertRaises(TypeError):
            StreamOpts(self.env, no_such_option=1)

    def test_bad_tenant_id(self):
        for bad in ("", "has space", "x" * 64, "semi;colon", "quote'"):
            with self.assertRaises(HeliosReplError) as cm:
                self.opts.set_tenant(bad)
            self.assertEqual(cm.exception.code, Status.EINVAL, bad)
            self.assertIn("tenant", cm.exception.message)
            self.assertEqual(self.opts.errmsg, cm.exception.message)
        self.opts.set_tenant("x" * 63)

    def test_bad_values(self):
        o = self.opts
        for call in (lambda: o.set_slot("Upper"),
                     lambda: o.set_slot("x" * 64),
                     lambda: o.set_publication("back\\slash"),
                     lambda: o.set_mode(7),
                     lambda: o.set_proto_version(3),
                     lambda: o.set_start_lsn(-1),
                     lambda: o.set_tenant("nul\0byte")):
            with self.assertRaises(HeliosReplError) as cm:
                call()
            self.assertEqual(cm.exception.code, Status.EINVAL)
            self.assertTrue(cm.exception.message)
        with self.assertRaises(TypeError):
            o.set_conninfo(b"bytes")

    def test_close_twice(self):
        self.opts.close()
        self.opts.close()
        with self.assertRaises(HeliosReplError) as cm:
            self.opts.set_tenant("t")
        self.assertEqual(cm.exception.code, Status.ECLOSED)


class StreamTest(unittest.TestCase):
    def setUp(self):
        self.env = Env()

    def tearDown(self):
        self.env.close()

    def dedicated(self, **extra):
        opts = StreamOpts(self.env, conninfo=UNREACHABLE, tenant="t1",
                          **extra)
        self.addCleanup(opts.close)
        return opts

    def test_missing_conninfo(self):
        with StreamOpts(self.env, tenant="t1") as opts:
            with self.assertRaises(HeliosReplError) as cm:
                Stream(self.env, opts, on_txn=ignore_txn)
        self.assertEqual(cm.exception.code, Status.EINVAL)
        self.assertIn("conninfo", cm.exception.message)
        self.assertEqual(cm.exception.message, self.env.errmsg)

    def test_missing_tenant_and_callback(self):
        with StreamOpts(self.env, conninfo=UNREACHABLE) as opts:
            with self.assertRaises(HeliosReplError) as cm:
                Stream(self.env, opts, on_txn=ignore_txn)
            self.assertEqual(cm.exception.code, Status.EINVAL)
            self.assertIn("tenant", cm.exception.message)
        with self.assertRaises(HeliosReplError) as cm:
            Stream(self.env, self.dedicated())  # no on_txn
        self.assertEqual(cm.exception.code, Status.EINVAL)
        with self.assertRaises(TypeError):
            Stream(self.env, "opts", on_txn=ignore_txn)
        with self.assertRaises(TypeError):
            Stream(self.env, self.dedicated(), on_txn=42)

    def test_unreachable_source_backs_off(self):
        with Stream(self.env, self.dedicated(), on_txn=ignore_txn) as s:
            self.assertEqual(s.phase, StreamPhase.IDLE)
            self.assertEqual(s.fds(), [])
            self.assertEqual(s.fd, -1)
            self.assertGreaterEqual(s.timeout_ms(), -1)
            seen = set()
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                s.step()  # a refused connection is transient: no raise
                phase = s.phase
                seen.add(phase)
                self.assertIn(phase, (StreamPhase.CONNECTING,
                                      StreamPhase.BACKOFF))
                fds = s.fds()
                self.assertIsInstance(fds, list)
                for fd, interest in fds:
                    self.assertIsInstance(fd, int)
                    self.assertGreaterEqual(fd, 0)
                    self.assertIsInstance(interest, PollFlag)
                self.assertLessEqual(len(fds), 2)
                self.assertGreaterEqual(s.timeout_ms(), -1)
                self.assertGreaterEqual(s.timeout_ms(s.env.monotonic_ns()),
                                        -1)
                if phase == StreamPhase.BACKOFF:
                    break
                time.sleep(0.01)
            self.assertIn(StreamPhase.BACKOFF, seen)
            self.assertIn("connect", s.errmsg)
            s.run(150)  # retries within the time, no raise
            self.assertIn(s.phase, (StreamPhase.CONNECTING,
                                    StreamPhase.BACKOFF))
            self.assertEqual(s.snapshot_name, None)
            self.assertEqual(s.consistent_lsn, 0)
            with self.assertRaises(HeliosReplError) as cm:
                s.release_snapshot()
            self.assertEqual(cm.exception.code, Status.ESTATE)

    def test_dedicated_add_tenant(self):
        with Stream(self.env, self.dedicated(start_lsn=100),
                    on_txn=ignore_txn) as s:
            with self.assertRaises(HeliosReplError) as cm:
                s.add_tenant("t2")
            self.assertEqual(cm.exception.code, Status.EINVAL)
            s.confirm(None, 200)
            self.assertGreaterEqual(s.confirmed_lsn(), 0)

    def test_shared_tenants(self):
        opts = StreamOpts(self.env, conninfo=UNREACHABLE,
                          mode=StreamMode.SHARED)
        self.addCleanup(opts.close)
        with Stream(self.env, opts, on_txn=ignore_txn,
                    on_schema_change=lambda rel: None) as s:
            s.add_tenant("a")
            s.add_tenant("b", 0x500)
            for bad in ("a", "bad id"):
                with self.assertRaises(HeliosReplError) as cm:
                    s.add_tenant(bad)
                self.assertEqual(cm.exception.code, Status.EINVAL)
            self.assertEqual(s.confirmed_lsn("b"), 0x500)
            s.confirm("b", 0x600)
            self.assertEqual(s.confirmed_lsn("b"), 0x600)
            with self.assertRaises(HeliosReplError) as cm:
                s.confirm(None, 1)
            self.assertEqual(cm.exception.code, Status.EINVAL)
            with self.assertRaises(HeliosReplError) as cm:
                s.confirm("zz", 1)
            self.assertEqual(cm.exception.code, Status.ENOTFOUND)
            s.remove_tenant("a")
            with self.assertRaises(HeliosReplError) as cm:
                s.remove_tenant("a")
            self.assertEqual(cm.exception.code, Status.ENOTFOUND)
            with self.assertRaises(HeliosReplError) as cm:
                s.remove_tenant("unknown")
            self.assertEqual(cm.exception.code, Status.ENOTFOUND)

    def test_move_tenant_before_setup(self):
        opts = StreamOpts(self.env, conninfo=UNREACHABLE,
                          mode=StreamMode.SHARED)
        self.addCleanup(opts.close)
        with Stream(self.env, opts, on_txn=ignore_txn) as shared, \
                Stream(self.env, self.dedicated(hold_start=True),
                       on_txn=ignore_txn) as held, \
                Stream(self.env, self.dedicated(),
                       on_txn=ignore_txn) as plain:
            shared.add_tenant("t1", 0x500)
            self.assertEqual(shared.tenant_lag_bytes("t1"), 0)
            self.assertEqual(held.tenant_lag_bytes(), 0)
            self.assertEqual(held.slot_lsn, 0)
            # the held stream has not set up its slot: not yet
            self.assertFalse(shared.move_tenant("t1", held))
            self.assertIn("HELD", shared.errmsg)
            for call, code in (
                    (lambda: shared.tenant_lag_bytes("zz"), Status.ENOTFOUND),
                    (lambda: shared.tenant_lag_bytes(), Status.EINVAL),
                    (lambda: shared.move_tenant("zz", held), Status.EINVAL),
                    (lambda: shared.move_tenant("t1", plain), Status.ESTATE),
                    (lambda: held.move_tenant("t1", shared),
                     Status.EINVAL)):
                with self.assertRaises(HeliosReplError) as cm:
                    call()
                self.assertEqual(cm.exception.code, code)
            with self.assertRaises(TypeError):
                shared.move_tenant("t1", "held")
            shared.remove_tenant("t1")
            with self.assertRaises(HeliosReplError) as cm:
                shared.move_tenant("t1", held)
            self.assertEqual(cm.exception.code, Status.ENOTFOUND)
        self.assertEqual(StreamPhase.HELD, 7)
        with StreamOpts(self.env, conninfo=UNREACHABLE, mode=StreamMode.SHARED,
                        hold_start=True) as bad:
            with self.assertRaises(HeliosReplError) as cm:
                Stream(self.env, bad, on_txn=ignore_txn)
            self.assertEqual(cm.exception.code, Status.EINVAL)

    def test_close_twice(self):
        s = Stream(self.env, self.dedicated(), on_txn=ignore_txn)
        s.close()
        s.close()
        self.assertTrue(s.closed)
        self.assertEqual(s.phase, StreamPhase.CLOSED)
        for call in (s.step, lambda: s.run(0), s.fds, s.drop,
                     lambda: s.add_tenant("x")):
            with self.assertRaises(HeliosReplError) as cm:
                call()
            self.assertEqual(cm.exception.code, Status.ECLOSED)

    def test_opts_are_copied(self):
        opts = self.dedicated()
        s = Stream(self.env, opts, on_txn=ignore_txn)
        opts.close()
        s.step()
        s.close()

    def test_env_outlives_until_stream_closed(self):
        env = Env()
        opts = StreamOpts(env, conninfo=UNREACHABLE, tenant="t1")
        s = Stream(env, opts, on_txn=ignore_txn)
        opts.close()
        env.close()  # kept for the stream
        s.step()
        s.close()

    def test_to_batch_needs_a_live_txn(self):
        with self.assertRaises(TypeError):
            stream_to_batch("txn", [StreamChange(0, StreamRole.AS_IS)], 0)
        txn = _unpickle_txn(1, 0, 0, 0, None, 0, False, [])  # never live
        for call in (lambda: stream_to_batch(txn, [(0, 0)], 0),
                     lambda: stream_batches(txn, [])):
            with self.assertRaises(HeliosReplError) as cm:
                call()
            self.assertEqual(cm.exception.code, Status.ESTATE)


if __name__ == "__main__":
    unittest.main()
