"""Tests of heliosrepl.Transport (in-process) against the real library."""

import unittest

from heliosrepl import (Batch, Codec, Env, HeliosReplError, MessageFlag,
                        Oid, Status, Transport, TransportKind, TransportParam,
                        transport_param_bounds)


class TransportTest(unittest.TestCase):
    def setUp(self):
        self.env = Env()
        self.addCleanup(self.env.close)
        self.t = Transport.inproc(self.env)
        self.addCleanup(self.t.close)

    def test_frames_travel_in_order_with_metadata(self):
        batch = Batch.from_rows(
            self.env, [("_hr_op", Oid.INT2, False), ("id", Oid.INT8, False)],
            [(1, 10), (1, 11)], relation=("public", "t"))
        self.addCleanup(batch.close)
        with Codec(self.env) as enc, Codec(self.env) as dec:
            frame = enc.encode(batch, "acme")
            seq = self.t.send("acme", frame,
                              flags=MessageFlag.FIRST | MessageFlag.LAST,
                              lsn=0x1234, commit_time=99)
            self.assertEqual(seq, 1)
            self.t.send("acme", b"", flags=MessageFlag.FIRST |
                        MessageFlag.COPY, lsn=7, schema_name="public",
                        table_name="t")
            self.t.send("acme", flags=MessageFlag.COPY_DONE, lsn=5,
                        idempotent_until=7)
            self.assertEqual(self.t.stats()[0], 3)
            first = self.t.recv()
            self.assertEqual(first.meta.tenant_id, "acme")
            self.assertEqual(first.meta.lsn, 0x1234)
            self.assertEqual(first.meta.commit_time, 99)
            self.assertEqual(first.meta.flags,
                             MessageFlag.FIRST | MessageFlag.LAST)
            self.assertIsNone(first.meta.table_name)
            back = dec.decode(first.data, "acme")
            self.addCleanup(back.close)
            self.assertEqual(list(back.rows()), list(batch.rows()))
            second = self.t.recv()
            self.assertEqual((second.meta.schema_name, second.meta.table_name,
                              second.meta.seq), ("public", "t", 2))
            third = self.t.recv()
            self.assertEqual((third.meta.lsn, third.meta.idempotent_until),
                             (5, 7))
            self.assertIsNone(self.t.recv())

    def test_backpressure(self):
        self.t.set_param(TransportParam.MAX_MESSAGES, 1)
        self.assertEqual(self.t.get_param(TransportParam.MAX_MESSAGES), 1)
        self.t.send("x", b"abc")
        self.assertFalse(self.t.writable(1))
        with self.assertRaises(HeliosReplError) as cm:
            self.t.send("x", b"abc")
        self.assertEqual(cm.exception.code, Status.EAGAIN)
        self.assertEqual(self.t.recv().data, b"abc")
        self.assertTrue(self.t.writable(1))

    def test_bad_metadata_and_io_defaults(self):
        with self.assertRaises(HeliosReplError) as cm:
            self.t.send("x", flags=MessageFlag.COPY)
        self.assertEqual(cm.exception.code, Status.EINVAL)
        self.assertIn("table", self.t.errmsg)
        with self.assertRaises(HeliosReplError):
            self.t.send("", b"")
        with self.assertRaises(HeliosReplError):
            self.t.set_param(TransportParam.MAX_BYTES, 0)
        self.assertEqual(transport_param_bounds(TransportParam.MAX_BYTES),
                         (1, 1 << 40))
        self.assertEqual(self.t.kind, TransportKind.INPROC)
        self.assertEqual((self.t.fd(), self.t.interest(),
                          self.t.timeout_ms(0)), (-1, 0, -1))
        self.t.step(0)
        self.t.close()
        with self.assertRaises(HeliosReplError) as cm:
            self.t.recv()
        self.assertEqual(cm.exception.code, Status.ECLOSED)


if __name__ == "__main__":
    unittest.main()
