"""Tests of heliosrepl.PgDecoder against the real library, fed hand-built
pgoutput messages (the layouts of tests/unit/test_pgoutput.c)."""

import copy
import pickle
import struct
import unittest

from heliosrepl import (UNCHANGED_TOAST, Batch, Column, Env, HeliosReplError,
                        Oid, PgChange, PgChangeKind, PgColumn, PgDecoder,
                        PgDecoderParam, PgMessage, PgRelation, PgTruncate,
                        PgTruncateOption, PgTxn, PgValue, PgValueForm, Status)

ITEMS, TAGS = 16384, 16390

# --- a big-endian pgoutput builder -------------------------------------------

T, B = "t", "b"  # value kinds; None is NULL, UNCHANGED_TOAST the marker


def cstr(text):
    return text.encode() + b"\0"


def tuple_data(values):
    out = struct.pack(">H", len(values))
    for v in values:
        if v is None:
            out += b"n"
        elif v is UNCHANGED_TOAST:
            out += b"u"
        else:
            kind, data = v if isinstance(v, tuple) else (T, v)
            data = data.encode() if isinstance(data, str) else data
            out += kind.encode() + struct.pack(">I", len(data)) + data
    return out


def xid_of(sxid):
    return struct.pack(">I", sxid) if sxid else b""


def msg_begin(final_lsn, time, xid):
    return b"B" + struct.pack(">QqI", final_lsn, time, xid)


def msg_commit(lsn, end, time):
    return b"C\0" + struct.pack(">QQq", lsn, end, time)


def msg_origin(lsn, name):
    return b"O" + struct.pack(">Q", lsn) + cstr(name)


def msg_relation(oid, schema, name, ident, columns, sxid=0):
    out = (b"R" + xid_of(sxid) + struct.pack(">I", oid) + cstr(schema)
           + cstr(name) + ident.encode() + struct.pack(">H", len(columns)))
    for key, col, type_oid, typmod in columns:
        out += struct.pack(">B", key) + cstr(col) + struct.pack(
            ">Ii", type_oid, typmod)
    return out


def msg_insert(oid, values, sxid=0):
    return (b"I" + xid_of(sxid) + struct.pack(">I", oid) + b"N"
            + tuple_data(values))


def msg_update(oid, values, old=None, old_tag="K"):
    out = b"U" + struct.pack(">I", oid)
    if old is not None:
        out += old_tag.encode() + tuple_data(old)
    return out + b"N" + tuple_data(values)


def msg_delete(oid, tag, values):
    return b"D" + struct.pack(">I", oid) + tag.encode() + tuple_data(values)


def msg_truncate(oids, options):
    return (b"T" + struct.pack(">IB", len(oids), options)
            + b"".join(struct.pack(">I", o) for o in oids))


def msg_message(transactional, lsn, prefix, content):
    return (b"M" + struct.pack(">BQ", int(transactional), lsn) + cstr(prefix)
            + struct.pack(">I", len(content)) + content)


def msg_stream_start(xid, first):
    return b"S" + struct.pack(">IB", xid, int(first))


def msg_stream_commit(xid, lsn, end, time):
    return b"c" + struct.pack(">IBQQq", xid, 0, lsn, end, time)


def keepalive(wal_end, time, reply):
    return b"k" + struct.pack(">QqB", wal_end, time, reply)


class Stream:
    """XLogData frames at increasing WAL positions, like the C scripts."""

    def __init__(self):
        self.lsn = 0x1000

    def frame(self, message):
        out = b"w" + struct.pack(">QQq", self.lsn, self.lsn + 0x80,
                                 0x2000000 + self.lsn) + message
        self.lsn += 0x100
        return out

    @property
    def wal_end(self):
        return self.lsn - 0x100 + 0x80


ITEMS_COLS = [(1, "id", Oid.INT8, -1), (0, "name", Oid.TEXT, -1),
              (0, "data", Oid.BYTEA, -1), (0, "note", Oid.VARCHAR, 68)]
ITEMS_V2_COLS = ITEMS_COLS + [(0, "price", Oid.NUMERIC, 655366)]
TAGS_COLS = [(1, "tag", Oid.TEXT, -1), (0, "n", Oid.INT4, -1)]

ROW1 = ["1", "apple", (B, b"\x00\x01\xff"), None]
KEY1 = ["1", None, None, None]
ROW2 = ["2", "", UNCHANGED_TOAST, "x"]


def wire(values):
    """The PgValue list the decoder gives for builder values."""
    out = []
    for v in values:
        if v is None:
            out.append(PgValue(PgValueForm.NULL, None))
        elif v is UNCHANGED_TOAST:
            out.append(PgValue(PgValueForm.UNCHANGED_TOAST, None))
        else:
            kind, data = v if isinstance(v, tuple) else (T, v)
            data = data.encode() if isinstance(data, str) else data
            out.append(PgValue(PgValueForm(kind), data))
    return out


class Recorder:
    """Callbacks that record what they get."""

    def __init__(self):
        self.txns, self.relations, self.keepalives, self.messages = \
            [], [], [], []
        self.on_txn_hook = None

    def on_txn(self, txn):
        self.txns.append(txn)
        if self.on_txn_hook is not None:
            self.on_txn_hook(txn)

    def on_relation(self, relation, schema_changed):
        self.relations.append((relation, schema_changed))

    def on_keepalive(self, wal_end, server_time, reply_requested):
        self.keepalives.append((wal_end, server_time, reply_requested))

    def on_message(self, lsn, prefix, content):
        self.messages.append((lsn, prefix, content))

    def callbacks(self):
        return dict(on_txn=self.on_txn, on_relation=self.on_relation,
                    on_keepalive=self.on_keepalive,
                    on_message=self.on_message)


class PgTestCase(unittest.TestCase):
    def setUp(self):
        self.env = Env()
        self.addCleanup(self.env.close)
        self.rec = Recorder()
        self.dec = self.decoder(**self.rec.callbacks())
        self.stream = Stream()

    def decoder(self, **callbacks):
        dec = PgDecoder(self.env, **callbacks)
        self.addCleanup(dec.close)
        return dec

    def feed(self, *messages, dec=None):
        for m in messages:
            (dec or self.dec).feed(self.stream.frame(m))

    def assertError(self, code, fn, *args, **kwargs):
        with self.assertRaises(HeliosReplError) as cm:
            fn(*args, **kwargs)
        self.assertIs(cm.exception.code, code, str(cm.exception))
        return cm.exception


class PgDecodeTest(PgTestCase):
    def test_rows_of_every_form(self):
        self.feed(msg_relation(ITEMS, "public", "items", "d", ITEMS_COLS),
                  msg_begin(0xA000, 777, 501),
                  msg_insert(ITEMS, ROW1),
                  msg_update(ITEMS, ROW2, KEY1, "K"),
                  msg_update(ITEMS, ROW2),
                  msg_update(ITEMS, ROW2, ROW1, "O"),
                  msg_delete(ITEMS, "K", KEY1),
                  msg_delete(ITEMS, "O", ROW2),
                  msg_commit(0xA000, 0xA100, 778))
        rel = PgRelation(ITEMS, "public", "items", "d", [
            PgColumn("id", Oid.INT8, -1, True),
            PgColumn("name", Oid.TEXT, -1, False),
            PgColumn("data", Oid.BYTEA, -1, False),
            PgColumn("note", Oid.VARCHAR, 68, False)])
        self.assertEqual(self.rec.relations, [(rel, False)])
        self.assertEqual(rel.key_columns, ["id"])
        self.assertEqual(len(self.rec.txns), 1)
        txn = self.rec.txns[0]
        self.assertIsInstance(txn, PgTxn)
        self.assertEqual((txn.xid, txn.commit_lsn, txn.end_lsn,
                          txn.commit_time, txn.origin, txn.origin_lsn,
                          txn.streamed), (501, 0xA000, 0xA100, 778, None, 0,
                                          False))
        self.assertEqual(txn.commit_datetime.isoformat(),
                         "2000-01-01T00:00:00.000778+00:00")
        ins, upd = PgChangeKind.INSERT, PgChangeKind.UPDATE
        self.assertEqual(txn.changes, [
            PgChange(ins, rel, None, wire(ROW1), None),
            PgChange(upd, rel, "K", wire(ROW2), wire(KEY1)),
            PgChange(upd, rel, None, wire(ROW2), None),
            PgChange(upd, rel, "O", wire(ROW2), wire(ROW1)),
            PgChange(PgChangeKind.DELETE, rel, "K", None, wire(KEY1)),
            PgChange(PgChangeKind.DELETE, rel, "O", None, wire(ROW2)),
        ])
        # One snapshot per relation version, shared by its changes.
        self.assertTrue(all(c.relation is txn.changes[0].relation
                            for c in txn.changes))
        self.assertTrue(all(c.is_row for c in txn.changes))
        self.assertIs(txn.changes[0].kind, PgChangeKind.INSERT)
        self.assertIs(txn.changes[0].new[2].form, PgValueForm.BINARY)
        self.assertEqual(txn.changes[0].new[2].form, "b")
        self.assertEqual(self.dec.wal_end, self.stream.wal_end)
        self.assertEqual(self.dec.errmsg, "")
        self.assertEqual(len(txn), 6)
        self.assertIn("xid 501", repr(txn))

    def test_bare_messages_decode_alike(self):
        messages = [msg_relation(ITEMS, "public", "items", "d", ITEMS_COLS),
                    msg_begin(0xA000, 777, 501), msg_insert(ITEMS, ROW1),
                    msg_commit(0xA000, 0xA100, 778)]
        for m in messages:
            self.dec.feed_message(0, bytearray(m))
        self.assertEqual(self.rec.txns[0].changes[0].new, wire(ROW1))
        self.assertEqual(self.dec.wal_end, 0)  # no server report

    def test_origin_truncate_and_messages(self):
        self.feed(msg_relation(ITEMS, "public", "items", "d", ITEMS_COLS),
                  msg_relation(TAGS, "app", "tags", "f", TAGS_COLS),
                  msg_message(False, 0x5000, "audit", b"hello\0\xff"),
                  msg_begin(0xC000, 5, 700),
                  msg_origin(0xDEAD, "node_b"),
                  msg_insert(TAGS, ["red", "3"]),
                  msg_message(True, 0xC010, "app.note", b"in txn"),
                  msg_truncate([ITEMS, TAGS], 3),
                  msg_truncate([ITEMS], 0),
                  msg_commit(0xC000, 0xC100, 6),
                  msg_begin(0xD000, 7, 701),
                  msg_commit(0xD000, 0xD100, 8))
        self.assertEqual(self.rec.messages, [(0x5000, "audit",
                                              b"hello\0\xff")])
        first, empty = self.rec.txns
        self.assertEqual((first.origin, first.origin_lsn), ("node_b", 0xDEAD))
        kinds = [c.kind for c in first.changes]
        self.assertEqual(kinds, [PgChangeKind.INSERT, PgChangeKind.MESSAGE,
                                 PgChangeKind.TRUNCATE,
                                 PgChangeKind.TRUNCATE])
        self.assertEqual(first.changes[0].relation.replica_identity, "f")
        self.assertEqual(first.changes[1],
                         PgChange(PgChangeKind.MESSAGE,
                                  message=PgMessage("app.note", b"in txn")))
        trunc = first.changes[2].truncate
        tags = first.changes[0].relation
        self.assertEqual(trunc[:2], PgTruncate([ITEMS, TAGS], 3)[:2])
        self.assertEqual(trunc.options, PgTruncateOption.CASCADE
                         | PgTruncateOption.RESTART_IDENTITY)
        # hr_pgtxn_change_truncate_relation names every relation; one
        # snapshot per relation version of the transaction.
        self.assertEqual([(t.oid, t.schema, t.name) for t in trunc.tables],
                         [(ITEMS, "public", "items"), (TAGS, "app", "tags")])
        self.assertIs(trunc.tables[1], tags)
        self.assertEqual([c.name for c in trunc.tables[0].columns],
                         [c[1] for c in ITEMS_COLS])
        self.assertIsNone(first.changes[2].relation)
        self.assertEqual(first.changes[3].truncate,
                         PgTruncate([ITEMS], PgTruncateOption(0),
                                    [trunc.tables[0]]))
        self.assertFalse(first.changes[3].is_row)
        # A transaction without changes is delivered too (progress).
        self.assertEqual((empty.xid, empty.end_lsn, empty.changes),
                         (701, 0xD100, []))

    def test_keepalive(self):
        self.dec.feed(keepalive(0xC200, 99, 1))
        self.dec.feed(keepalive(0x10, -5, 0))
        self.assertEqual(self.rec.keepalives,
                         [(0xC200, 99, True), (0x10, -5, False)])
        self.assertIs(self.rec.keepalives[0][2], True)
        self.assertEqual(self.dec.wal_end, 0xC200)  # the highest
        err = self.assertError(Status.EPROTO, self.dec.feed,
                               keepalive(1, 1, 2))
        self.assertIn("offset 17 in keepalive message: reply flag 0x02",
                      err.message)

    def test_schema_change(self):
        self.feed(msg_relation(ITEMS, "public", "items", "d", ITEMS_COLS),
                  msg_relation(ITEMS, "public", "items", "d", ITEMS_COLS),
                  msg_begin(0xB000, 1, 600),
                  msg_insert(ITEMS, ["10", "pear", None, None]),
                  msg_relation(ITEMS, "public", "items", "d", ITEMS_V2_COLS),
                  msg_insert(ITEMS, ["11", "pear", None, None, "9.50"]),
                  msg_commit(0xB000, 0xB100, 2))
        self.assertEqual([changed for _, changed in self.rec.relations],
                         [False, False, True])
        v2 = self.rec.relations[2][0]
        self.assertEqual(v2.columns[4], PgColumn("price", Oid.NUMERIC,
                                                 655366, False))
        old, new = self.rec.txns[0].changes
        self.assertEqual(len(old.relation.columns), 4)
        self.assertEqual(new.relation, v2)
        self.assertEqual(self.dec.relation(ITEMS), v2)

    def test_streamed_transaction(self):
        self.feed(msg_stream_start(900, True),
                  msg_relation(ITEMS, "public", "items", "d", ITEMS_COLS,
                               sxid=900),
                  msg_insert(ITEMS, ["7", "s", None, None], sxid=900),
                  b"E",
                  msg_stream_commit(900, 0xF000, 0xF100, 12))
        txn, = self.rec.txns
        self.assertTrue(txn.streamed)
        self.assertEqual((txn.xid, txn.end_lsn), (900, 0xF100))

    def test_relation_lookup_and_reset(self):
        self.assertIsNone(self.dec.relation(ITEMS))
        self.feed(msg_relation(ITEMS, "public", "items", "d", ITEMS_COLS))
        self.assertEqual(self.dec.relation(ITEMS).name, "items")
        self.assertIsNone(self.dec.relation(TAGS))
        self.dec.reset(keep_relations=True)
        self.assertIsNotNone(self.dec.relation(ITEMS))
        self.dec.reset()
        self.assertIsNone(self.dec.relation(ITEMS))
        self.assertError(Status.EINVAL, self.dec.relation, -1)
        self.assertError(Status.EINVAL, self.dec.relation, 1 << 32)


class PgBatchTest(PgTestCase):
    def test_to_batches_gives_typed_rows(self):
        batches = []
        self.rec.on_txn_hook = lambda txn: batches.extend(txn.to_batches())
        cols = [(1, "id", Oid.INT8, -1), (0, "name", Oid.TEXT, -1),
                (0, "ok", Oid.BOOL, -1)]
        self.feed(msg_relation(ITEMS, "public", "items", "d", cols),
                  msg_relation(TAGS, "app", "tags", "f", TAGS_COLS),
                  msg_begin(0x100, 1, 1),
                  msg_insert(ITEMS, ["42", "x", "t"]),
                  msg_update(ITEMS, ["43", "y", UNCHANGED_TOAST],
                             ["42", None, None], "K"),
                  msg_delete(ITEMS, "K", ["43", None, None]),
                  msg_truncate([TAGS], 0),
                  msg_insert(TAGS, ["red", "3"]),
                  msg_message(True, 0x180, "p", b"c"),
                  msg_insert(ITEMS, [(B, struct.pack(">q", -7)), None, "f"]),
                  msg_commit(0x100, 0x200, 2))
        for b in batches:
            self.addCleanup(b.close)
        self.assertEqual(len(batches), 3)
        items, tags, again = batches
        self.assertIsInstance(items, Batch)
        self.assertEqual(items.relation, ("public", "items"))
        self.assertEqual(items.columns, (
            Column("_hr_op", Oid.INT2, False), Column("id", Oid.INT8),
            Column("name", Oid.TEXT), Column("ok", Oid.BOOL)))
        self.assertEqual(list(items.rows()), [
            (1, 42, "x", True),
            (4, 42, None, None),
            (2, 43, "y", UNCHANGED_TOAST),
            (3, 43, None, None)])
        self.assertIs(items.row(0)[1], 42)
        self.assertEqual(tags.relation, ("app", "tags"))
        self.assertEqual(list(tags.rows()), [(1, "red", 3)])
        self.assertEqual(list(again.rows()), [(1, -7, None, False)])
        # The batches and the snapshot outlive the callback; the conversion
        # does not.
        txn = self.rec.txns[0]
        self.assertFalse(txn.live)
        self.assertEqual(len(txn.changes), 7)
        self.assertError(Status.ESTATE, txn.to_batches)
        self.assertError(Status.ESTATE, txn.to_batch, 0)

    def test_to_batch_runs_and_reuse(self):
        seen = []

        def hook(txn):
            self.assertTrue(txn.live)
            batch, after = txn.to_batch(0)
            self.addCleanup(batch.close)
            seen.append((list(batch.rows()), after))
            reused, after = txn.to_batch(after, into=batch)
            self.assertIs(reused, batch)
            seen.append((list(batch.rows()), after))
            self.assertError(Status.EINVAL, txn.to_batch, 2)  # a truncate
            self.assertError(Status.EINVAL, txn.to_batch, 3)
            self.assertError(Status.EINVAL, txn.to_batch, -1)

        self.rec.on_txn_hook = hook
        self.feed(msg_relation(TAGS, "app", "tags", "f", TAGS_COLS),
                  msg_begin(0x100, 1, 1),
                  msg_insert(TAGS, ["a", "1"]),
                  msg_relation(TAGS, "app", "tags", "f", TAGS_COLS[:1]),
                  msg_insert(TAGS, ["b"]),
                  msg_truncate([TAGS], 1),
                  msg_commit(0x100, 0x200, 2))
        self.assertEqual(seen, [([(1, "a", 1)], 1), ([(1, "b")], 2)])

    def test_conversion_error_stops_feed(self):
        self.rec.on_txn_hook = lambda txn: txn.to_batches()
        self.feed(msg_relation(ITEMS, "public", "items", "d",
                               [(1, "id", Oid.INT8, -1)]),
                  msg_begin(0x100, 1, 1))
        self.feed(msg_insert(ITEMS, ["abc"]))
        err = self.assertError(Status.EPROTO, self.feed,
                               msg_commit(0x100, 0x200, 2))
        self.assertIn('column "id"', err.message)
        self.assertIn("abc", err.message)
        self.assertEqual(self.dec.errmsg, "on_txn returned -4")
        self.assertEqual(len(self.rec.txns), 1)


    def test_copies_of_a_txn_expire_together(self):
        copies = []

        def hook(txn):
            copies.extend([copy.copy(txn), copy.deepcopy(txn)])
            self.assertTrue(all(c.live for c in copies))
            batches = copies[0].to_batches()  # a copy converts alike
            self.assertEqual(len(batches), 1)
            batches[0].close()

        self.rec.on_txn_hook = hook
        self.feed(msg_relation(TAGS, "app", "tags", "f", TAGS_COLS),
                  msg_begin(0x100, 1, 1), msg_insert(TAGS, ["t", "9"]),
                  msg_commit(0x100, 0x200, 2))
        txn = self.rec.txns[0]
        unpickled = pickle.loads(pickle.dumps(txn))
        for other in copies + [unpickled]:
            self.assertEqual(other, txn)
            self.assertFalse(other.live)
            self.assertError(Status.ESTATE, other.to_batches)
        self.assertIsNot(copies[1].changes, txn.changes)
        self.assertEqual(unpickled.changes[0].relation.columns[1],
                         PgColumn("n", Oid.INT4, -1, False))


class PgErrorTest(PgTestCase):
    def test_truncated_message_is_eproto_with_offset(self):
        err = self.assertError(Status.EPROTO, self.dec.feed_message,
                               0x1234ABCD, b"B\0\0\0\0\0")
        self.assertEqual(err.message,
                         "offset 1 in Begin message: truncated: final LSN "
                         "needs 8 bytes, 5 left (WAL 0/1234ABCD)")
        self.assertEqual(err.name, "HR_EPROTO")
        self.assertEqual(self.dec.errmsg, err.message)
        self.dec.reset()
        err = self.assertError(Status.EPROTO, self.feed,
                               msg_begin(0x100, 1, 1)[:6])
        self.assertIn("offset 26 in Begin message: truncated", err.message)

    def test_error_state_until_reset(self):
        self.feed(msg_relation(ITEMS, "public", "items", "d", ITEMS_COLS),
                  msg_begin(0x100, 1, 1),
                  msg_insert(ITEMS, ["before", "n", None, None]))
        self.assertError(Status.EPROTO, self.feed, b"")  # no message
        err = self.assertError(Status.ESTATE, self.feed,
                               msg_commit(0x100, 0x200, 2))
        self.assertIn("hr_pgdecoder_reset", err.message)
        self.assertIn("no pgoutput message", err.message)
        self.assertError(Status.ESTATE, self.dec.feed_message, 0, b"E")
        self.assertError(Status.ESTATE, self.dec.feed, keepalive(1, 1, 0))
        self.assertEqual(self.rec.txns, [])
        self.dec.reset(keep_relations=True)
        self.assertEqual(self.dec.errmsg, "")
        self.feed(msg_begin(0x200, 1, 2),
                  msg_insert(ITEMS, ["after", "n", None, None]),
                  msg_commit(0x200, 0x300, 3))
        self.assertEqual(self.rec.txns[0].changes[0].new[0].data, b"after")

    def test_callback_exception_is_reraised(self):
        boom = KeyError("boom")

        def fail(_txn):
            raise boom

        self.rec.on_txn_hook = fail
        self.feed(msg_relation(ITEMS, "public", "items", "d", ITEMS_COLS))
        txn = [msg_begin(0x100, 1, 1),
               msg_insert(ITEMS, ["1", "n", None, None]),
               msg_commit(0x100, 0x200, 2)]
        with self.assertRaises(KeyError) as cm:
            self.feed(*txn)
        self.assertIs(cm.exception, boom)
        self.assertEqual(self.dec.errmsg, "on_txn returned -3")
        # The decoder stays usable; a HeliosReplError's code reaches C.
        self.rec.on_txn_hook = None
        self.feed(*txn)
        self.assertEqual(len(self.rec.txns), 2)
        conflict = HeliosReplError(Status.ECONFLICT, "target refused")

        def refuse(_txn):
            raise conflict

        self.rec.on_txn_hook = refuse
        with self.assertRaises(HeliosReplError) as cm:
            self.feed(*txn)
        self.assertIs(cm.exception, conflict)
        self.assertEqual(self.dec.errmsg, "on_txn returned -9")

    def test_every_callback_stops_the_feed(self):
        def fail(*_args):
            raise ValueError("stop")

        dec = self.decoder(on_relation=fail, on_keepalive=fail,
                           on_message=fail)
        with self.assertRaises(ValueError):
            self.feed(msg_relation(ITEMS, "public", "items", "d", ITEMS_COLS),
                      dec=dec)
        self.assertIsNotNone(dec.relation(ITEMS))  # cached all the same
        self.assertIn("on_relation", dec.errmsg)
        with self.assertRaises(ValueError):
            dec.feed(keepalive(5, 5, 0))
        self.assertIn("on_keepalive", dec.errmsg)
        with self.assertRaises(ValueError):
            self.feed(msg_message(False, 1, "p", b"c"), dec=dec)
        self.assertIn("on_message", dec.errmsg)

    def test_callbacks_cannot_reenter(self):
        seen = []

        def hook(txn):
            for call in (lambda: self.dec.feed(keepalive(1, 1, 0)),
                         lambda: self.dec.feed_message(0, b"E"),
                         lambda: self.dec.reset(),
                         lambda: self.dec.set_param(
                             PgDecoderParam.MAX_TXN_BYTES, 1 << 20)):
                with self.assertRaises(HeliosReplError) as cm:
                    call()
                seen.append(cm.exception.code)
            # The read-only calls are allowed.
            seen.append(self.dec.relation(ITEMS).oid)
            seen.append(self.dec.wal_end > 0)
            seen.append(self.dec.errmsg)
            # close() waits for the feed to return.
            self.dec.close()
            self.assertTrue(self.dec.closed)

        self.rec.on_txn_hook = hook
        self.feed(msg_relation(ITEMS, "public", "items", "d", ITEMS_COLS),
                  msg_begin(0x100, 1, 1),
                  msg_commit(0x100, 0x200, 2))
        self.assertEqual(seen, [Status.ESTATE] * 4 + [ITEMS, True, ""])
        self.assertTrue(self.dec.closed)
        self.assertError(Status.ECLOSED, self.dec.feed, keepalive(1, 1, 0))

    def test_set_param_and_limit(self):
        for bad in (65535, 1 << 41, -1):
            err = self.assertError(Status.EINVAL, self.dec.set_param,
                                   PgDecoderParam.MAX_TXN_BYTES, bad)
            self.assertIn("MAX_TXN_BYTES", err.message)
        self.assertError(Status.EINVAL, self.dec.set_param, 99, 1)
        self.assertError(Status.EINVAL, self.dec.set_param,
                         PgDecoderParam.MAX_TXN_BYTES, 1 << 63)
        with self.assertRaises(TypeError):
            self.dec.set_param(PgDecoderParam.MAX_TXN_BYTES, "big")
        self.dec.set_param(PgDecoderParam.MAX_TXN_BYTES, 65536)
        self.feed(msg_relation(ITEMS, "public", "items", "d", ITEMS_COLS),
                  msg_begin(0x100, 1, 1))
        big = "x" * 20000
        with self.assertRaises(HeliosReplError) as cm:
            for i in range(10):
                self.feed(msg_insert(ITEMS, [str(i), big, None, None]))
        self.assertIs(cm.exception.code, Status.ELIMIT)
        self.assertIn("MAX_TXN_BYTES", cm.exception.message)
        self.assertError(Status.ESTATE, self.dec.feed, keepalive(1, 1, 0))

    def test_bad_arguments(self):
        with self.assertRaises(TypeError):
            self.dec.feed("text")
        with self.assertRaises(TypeError):
            PgDecoder(self.env, on_txn=42)
        self.assertError(Status.EINVAL, self.dec.feed_message, -1, b"E")
        self.assertError(Status.EINVAL, self.dec.feed_message, 1 << 64, b"E")


class PgLifetimeTest(PgTestCase):
    def test_close_and_context_manager(self):
        with PgDecoder(self.env) as dec:
            dec.feed(keepalive(9, 0, 0))  # no callbacks: fine
            self.assertEqual(dec.wal_end, 9)
            self.assertIs(dec.env, self.env)
            self.assertIn("wal_end 0/9", repr(dec))
        self.assertTrue(dec.closed)
        dec.close()
        self.assertIn("closed", repr(dec))
        for call in (lambda: dec.feed(b"k"), lambda: dec.errmsg,
                     lambda: dec.wal_end, lambda: dec.relation(1),
                     lambda: dec.reset(), lambda: dec.feed_message(0, b"E"),
                     lambda: dec.set_param(1, 65536)):
            self.assertError(Status.ECLOSED, call)

    def test_decoder_outlives_a_closed_env(self):
        batches = []
        env = Env()
        dec = PgDecoder(env, on_txn=lambda t: batches.extend(t.to_batches()))
        env.close()
        self.assertError(Status.ECLOSED, PgDecoder, env)
        self.feed(msg_relation(TAGS, "app", "tags", "f", TAGS_COLS),
                  msg_begin(0x100, 1, 1), msg_insert(TAGS, ["t", "9"]),
                  msg_commit(0x100, 0x200, 2), dec=dec)
        self.assertEqual(list(batches[0].rows()), [(1, "t", 9)])
        dec.close()
        self.assertIsNotNone(env._handle)  # the batch still holds it
        batches[0].close()
        self.assertIsNone(env._handle)

    def test_cannot_be_copied(self):
        with self.assertRaises(TypeError):
            copy.copy(self.dec)

    def test_many_decoders_are_released(self):
        for _ in range(200):
            PgDecoder(self.env, on_txn=lambda t: None).feed(
                keepalive(1, 1, 0))
        self.assertEqual(len(self.env._children), 1)  # self.dec


if __name__ == "__main__":
    unittest.main()
