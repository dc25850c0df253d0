"""Tests of heliosrepl.Codec and frame_inspect against the real library."""

import copy
import ctypes
import os
import unittest

import heliosrepl
from heliosrepl import (KEY_SIZE, Batch, Codec, Compressor, Env, FrameFlag,
                        FrameInfo, HeliosReplError, Oid, Param, Status,
                        frame_inspect)

from hrfixtures import (ALL_COLUMNS, ALL_ROWS, ALL_ROWS_READ, JSON_COLUMNS,
                        json_events, same_rows)

def xxh3_64():
    """XXH3_64bits of the system's libxxhash (the frame checksum), or None."""
    try:
        fn = ctypes.CDLL("libxxhash.so.0").XXH3_64bits
    except (OSError, AttributeError):
        return None
    fn.restype = ctypes.c_uint64
    fn.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
    return fn


KEY_A = bytes(range(32))
KEY_B = bytes(range(1, 33))

# The ranges and defaults codec.h documents for each parameter.
DOCUMENTED_PARAMS = {
    Param.LEVEL: (1, 19, 3),
    Param.SAMPLE_ROWS: (16, 65536, 1024),
    Param.DICTIONARY: (0, 1, 1),
    Param.DICT_MIN_BYTES: (4096, 67108864, 262144),
    Param.COMPRESSOR: (Compressor.ZSTD, Compressor.SNAPPY, Compressor.ZSTD),
    Param.MAX_ROWS: (1, 2**31 - 1, 2**20),
    Param.MAX_BYTES: (4096, 2**40, 2**30),
    Param.REQUIRE_ENCRYPTION: (0, 1, 0),
}


class CodecTestCase(unittest.TestCase):
    def setUp(self):
        self.env = Env()
        self.addCleanup(self.env.close)
        self.enc = self.codec()
        self.dec = self.codec()
        self.batch = self.keep(Batch.from_rows(
            self.env, ALL_COLUMNS, ALL_ROWS, relation=("public", "all_types")))

    def keep(self, handle):
        self.addCleanup(handle.close)
        return handle

    def codec(self):
        return self.keep(Codec(self.env))

    def assertError(self, code, fn, *args, **kwargs):
        with self.assertRaises(HeliosReplError) as cm:
            fn(*args, **kwargs)
        self.assertIs(cm.exception.code, code, cm.exception)
        self.assertEqual(cm.exception.name, "HR_" + code.name)
        return cm.exception


class RoundTripTest(CodecTestCase):
    def test_every_type_round_trips(self):
        frame = self.enc.encode(self.batch, "tenant-1")
        self.assertIsInstance(frame, bytes)
        self.assertEqual(frame[:4], b"HRBF")
        info = frame_inspect(frame)
        self.assertIsInstance(info, FrameInfo)
        self.assertEqual((info.format_version, info.rows, info.columns,
                          info.key_id, info.flags, info.encrypted,
                          info.has_dict),
                         (1, len(ALL_ROWS), len(ALL_COLUMNS), 0,
                          FrameFlag(0), False, False))
        out = self.keep(self.dec.decode(frame, "tenant-1"))
        self.assertIsInstance(out, Batch)
        self.assertEqual(out, self.batch)
        self.assertEqual(out.relation, ("public", "all_types"))
        self.assertEqual(out.columns, self.batch.columns)
        same_rows(self, out.rows(), ALL_ROWS_READ)
        self.assertIs(out.env, self.env)

    def test_frame_is_a_copy(self):
        first = self.enc.encode(self.batch, "t")
        other = self.keep(Batch.from_rows(self.env, [("a", Oid.INT4)], [(1,)]))
        self.enc.encode(other, "t")  # reuses the codec's frame buffer
        self.assertEqual(self.keep(self.dec.decode(first, "t")), self.batch)

    def test_schema_fingerprint(self):
        again = self.keep(Batch.from_rows(self.env, ALL_COLUMNS, ALL_ROWS[:2],
                                          relation=("public", "all_types")))
        other = self.keep(Batch.from_rows(self.env, ALL_COLUMNS, ALL_ROWS[:2],
                                          relation=("public", "other")))
        fp = [frame_inspect(self.enc.encode(b, "t")).schema_fingerprint
              for b in (self.batch, again, other)]
        self.assertEqual(fp[0], fp[1])
        self.assertNotEqual(fp[0], fp[2])

    def test_empty_and_one_row_batches(self):
        for rows in ([], ALL_ROWS[:1], ALL_ROWS[3:4]):
            with self.subTest(rows=len(rows)):
                b = self.keep(Batch.from_rows(self.env, ALL_COLUMNS, rows))
                out = self.keep(self.dec.decode(self.enc.encode(b, "t"), "t"))
                self.assertEqual(out, b)
                self.assertEqual(len(out), len(rows))

    def test_decode_into_an_existing_batch(self):
        into = self.keep(Batch(self.env, [("x", Oid.BOOL)]))
        frame = self.enc.encode(self.batch, "t")
        self.assertIs(self.dec.decode(bytearray(frame), "t", into=into), into)
        self.assertEqual(into, self.batch)
        self.assertEqual(into.columns, self.batch.columns)
        into.append_row(ALL_ROWS[0])  # the decoded schema is usable
        self.assertEqual(len(into), len(ALL_ROWS) + 1)
        # A failed decode leaves the target empty.
        self.assertError(Status.EAUTH, self.dec.decode, frame, "u", into=into)
        self.assertEqual((len(into), into.columns), (0, ()))
        with self.assertRaises(TypeError):
            self.dec.decode(frame, "t", into="batch")

    def test_snappy_and_levels(self):
        for param, value in ((Param.COMPRESSOR, Compressor.SNAPPY),
                             (Param.LEVEL, 19), (Param.LEVEL, 1),
                             (Param.SAMPLE_ROWS, 16)):
            with self.subTest(param=param, value=value):
                self.enc.set_param(param, value)
                out = self.keep(self.dec.decode(
                    self.enc.encode(self.batch, "t"), "t"))
                self.assertEqual(out, self.batch)

    def test_larger_batch_compresses(self):
        rows = json_events(2000, 1)
        b = self.keep(Batch.from_rows(self.env, JSON_COLUMNS, rows))
        frame = self.enc.encode(b, "t")
        self.assertLess(len(frame), b.raw_size)
        self.assertEqual(self.keep(self.dec.decode(frame, "t")), b)

    def test_tenant_may_be_bytes(self):
        frame = self.enc.encode(self.batch, b"t\xc3\xa9")
        self.assertEqual(self.keep(self.dec.decode(frame, "t\u00e9")),
                         self.batch)


class DecodeErrorTest(CodecTestCase):
    def setUp(self):
        super().setUp()
        self.frame = self.enc.encode(self.batch, "tenant-1")

    def test_wrong_tenant_is_eauth(self):
        err = self.assertError(Status.EAUTH, self.dec.decode, self.frame,
                               "tenant-2")
        self.assertEqual(err.message,
                         'frame belongs to another tenant than "tenant-2"')
        self.assertEqual(self.dec.errmsg, err.message)
        self.assertTrue(err.fatal)
        self.assertEqual(str(err), "HR_EAUTH: " + err.message)

    def test_every_flipped_byte_is_ecorrupt(self):
        for pos in range(0, len(self.frame), max(1, len(self.frame) // 97)):
            for pos_ in (pos, len(self.frame) - 1):
                damaged = bytearray(self.frame)
                damaged[pos_] ^= 0x01
                with self.subTest(pos=pos_):
                    err = self.assertError(Status.ECORRUPT, self.dec.decode,
                                           bytes(damaged), "tenant-1")
                    self.assertTrue(err.message)
                    self.assertError(Status.ECORRUPT, frame_inspect,
                                     bytes(damaged))

    def test_checksum_message(self):
        damaged = bytearray(self.frame)
        damaged[len(damaged) // 2] ^= 0x80
        err = self.assertError(Status.ECORRUPT, self.dec.decode,
                               bytes(damaged), "tenant-1")
        self.assertEqual(err.message, "checksum mismatch")

    def test_truncated_and_garbage_frames(self):
        for frame in (b"", b"HRBF", self.frame[:-1], self.frame[:40],
                      b"\0" * 100, self.frame + b"\0"):
            with self.subTest(length=len(frame)):
                self.assertError(Status.ECORRUPT, self.dec.decode, frame,
                                 "tenant-1")
                self.assertError(Status.ECORRUPT, frame_inspect, frame)

    def test_bad_tenant_ids(self):
        for tenant in ("", "x" * 256):
            with self.subTest(tenant=tenant[:5]):
                err = self.assertError(Status.EINVAL, self.enc.encode,
                                       self.batch, tenant)
                self.assertEqual(err.message, "tenant id must be 1..255 bytes")
                self.assertError(Status.EINVAL, self.dec.decode, self.frame,
                                 tenant)
        self.assertError(Status.EINVAL, self.enc.encode, self.batch, "a\0b")
        self.assertError(Status.EINVAL, self.dec.decode, self.frame, "a\0b")
        with self.assertRaises(TypeError):
            self.enc.encode(self.batch, 5)
        with self.assertRaises(TypeError):
            self.dec.decode("not bytes", "t")
        with self.assertRaises(TypeError):
            self.enc.encode("not a batch", "t")
        longest = "x" * 255
        frame = self.enc.encode(self.batch, longest)
        self.assertEqual(self.keep(self.dec.decode(frame, longest)),
                         self.batch)

    def test_batch_without_columns_is_einval(self):
        empty = self.keep(Batch(self.env))
        err = self.assertError(Status.EINVAL, self.enc.encode, empty, "t")
        self.assertEqual(err.message, "batch has no columns")

    def test_max_rows_is_elimit(self):
        self.dec.set_param(Param.MAX_ROWS, len(ALL_ROWS) - 1)
        err = self.assertError(Status.ELIMIT, self.dec.decode, self.frame,
                               "tenant-1")
        self.assertIn("exceeds the limit", err.message)
        self.dec.set_param(Param.MAX_ROWS, len(ALL_ROWS))
        self.keep(self.dec.decode(self.frame, "tenant-1"))

    def test_newer_format_version_is_eversion(self):
        # A frame claiming format version 2: with a stale checksum it is
        # corrupt; re-checksummed (XXH3-64, little-endian, over every byte
        # before it) it is a frame from a newer library.
        bumped = bytearray(self.frame)
        bumped[4] = 2
        self.assertError(Status.ECORRUPT, frame_inspect, bytes(bumped))
        xxh3 = xxh3_64()
        if xxh3 is None:
            self.skipTest("libxxhash.so.0 not loadable")
        body = bytes(bumped[:-8])
        bumped[-8:] = xxh3(body, len(body)).to_bytes(8, "little")
        err = self.assertError(Status.EVERSION, frame_inspect, bytes(bumped))
        self.assertIn("newer", err.message)
        err = self.assertError(Status.EVERSION, self.dec.decode, bytes(bumped),
                               "tenant-1")
        self.assertEqual(err.message,
                         "frame format version newer than this library reads")


class EncryptionTest(CodecTestCase):
    def setUp(self):
        super().setUp()
        self.enc.add_key(7, KEY_A)
        self.enc.set_encrypt_key(7)

    def test_round_trip(self):
        frame = self.enc.encode(self.batch, "t")
        info = frame_inspect(frame)
        self.assertTrue(info.encrypted)
        self.assertEqual((info.key_id, info.flags & FrameFlag.ENCRYPTED),
                         (7, FrameFlag.ENCRYPTED))
        self.dec.add_key(7, bytearray(KEY_A))
        self.dec.set_param(Param.REQUIRE_ENCRYPTION, 1)
        self.assertEqual(self.keep(self.dec.decode(frame, "t")), self.batch)
        # Two encodings of the same batch differ (fresh nonce).
        self.assertNotEqual(self.enc.encode(self.batch, "t"), frame)

    def test_wrong_or_missing_key_is_eauth(self):
        frame = self.enc.encode(self.batch, "t")
        err = self.assertError(Status.EAUTH, self.dec.decode, frame, "t")
        self.assertEqual(err.message, "frame sealed with unknown key id 7")
        self.dec.add_key(7, KEY_B)
        err = self.assertError(Status.EAUTH, self.dec.decode, frame, "t")
        self.assertIn("authentication failed", err.message)
        self.assertError(Status.EAUTH, self.dec.decode, frame, "u")

    def test_key_rotation(self):
        old = self.enc.encode(self.batch, "t")
        self.enc.add_key(8, KEY_B)
        self.enc.set_encrypt_key(8)
        new = self.enc.encode(self.batch, "t")
        self.assertEqual(frame_inspect(new).key_id, 8)
        self.dec.add_key(7, KEY_A)
        self.dec.add_key(8, KEY_B)
        for frame in (old, new):
            self.assertEqual(self.keep(self.dec.decode(frame, "t")),
                             self.batch)
        self.dec.remove_key(7)
        self.assertError(Status.EAUTH, self.dec.decode, old, "t")
        self.keep(self.dec.decode(new, "t"))

    def test_plaintext_refused_when_required(self):
        self.enc.set_encrypt_key(0)
        frame = self.enc.encode(self.batch, "t")
        self.assertFalse(frame_inspect(frame).encrypted)
        self.dec.set_param(Param.REQUIRE_ENCRYPTION, 1)
        err = self.assertError(Status.EAUTH, self.dec.decode, frame, "t")
        self.assertIn("encryption is required", err.message)

    def test_key_management_errors(self):
        err = self.assertError(Status.EINVAL, self.enc.add_key, 7, KEY_B)
        self.assertEqual(err.message, "key id 7 is loaded with another key")
        self.enc.add_key(7, KEY_A)  # the same key again is fine
        self.assertError(Status.EINVAL, self.enc.add_key, 0, KEY_A)
        self.assertError(Status.EINVAL, self.enc.add_key, 2**32, KEY_A)
        self.assertError(Status.EINVAL, self.enc.add_key, -1, KEY_A)
        self.assertError(Status.EINVAL, self.enc.add_key, 9, KEY_A[:31])
        self.assertError(Status.EINVAL, self.enc.add_key, 9, KEY_A + b"!")
        with self.assertRaises(TypeError):
            self.enc.add_key(9, "a" * 32)
        self.enc.add_key(2**32 - 1, KEY_B)
        err = self.assertError(Status.ENOTFOUND, self.enc.set_encrypt_key, 9)
        self.assertEqual(err.message, "key id 9 is not loaded")
        self.assertError(Status.ENOTFOUND, self.enc.remove_key, 9)
        self.enc.remove_key(7)  # also stops encrypting with it
        self.assertFalse(frame_inspect(
            self.enc.encode(self.batch, "t")).encrypted)
        self.assertEqual(KEY_SIZE, 32)


class ParamTest(CodecTestCase):
    def test_bounds_and_defaults_match_the_header(self):
        self.assertEqual(set(Param), set(DOCUMENTED_PARAMS))
        for param, (lo, hi, default) in DOCUMENTED_PARAMS.items():
            with self.subTest(param=param):
                self.assertEqual(heliosrepl.param_bounds(param), (lo, hi))
                self.assertEqual(Codec.param_bounds(param), (lo, hi))
                self.assertEqual(self.enc.param_bounds(param), (lo, hi))
                self.assertEqual(self.enc.get_param(param), default)

    def test_set_within_and_outside_bounds(self):
        for param, (lo, hi, _) in DOCUMENTED_PARAMS.items():
            with self.subTest(param=param):
                self.enc.set_param(param, lo)
                self.assertEqual(self.enc.get_param(param), lo)
                self.enc.set_param(param, hi)
                self.assertEqual(self.enc.get_param(param), hi)
                for bad in (lo - 1, hi + 1):
                    err = self.assertError(Status.EINVAL, self.enc.set_param,
                                           param, bad)
                    self.assertEqual(
                        err.message, f"codec parameter {int(param)}: {bad} "
                        f"outside {lo}..{hi}")
                self.assertEqual(self.enc.get_param(param), hi)

    def test_unknown_parameters(self):
        for param in (0, 9, -1, 2**31, 2**40):
            with self.subTest(param=param):
                self.assertError(Status.EINVAL, heliosrepl.param_bounds, param)
                self.assertError(Status.EINVAL, self.enc.get_param, param)
                self.assertError(Status.EINVAL, self.enc.set_param, param, 1)
        self.assertError(Status.EINVAL, self.enc.set_param, Param.LEVEL, 2**63)
        with self.assertRaises(TypeError):
            self.enc.set_param(Param.LEVEL, 3.0)
        with self.assertRaises(TypeError):
            self.enc.set_param("level", 3)


class DictionaryTest(CodecTestCase):
    def test_dictionaries_travel_inline_and_by_export(self):
        self.enc.set_param(Param.DICT_MIN_BYTES, 65536)
        late = self.codec()
        saw_dict, after = False, None
        for seed in range(40):
            b = self.keep(Batch.from_rows(self.env, JSON_COLUMNS,
                                          json_events(256, seed),
                                          relation=("app", "events")))
            frame = self.enc.encode(b, "t")
            self.assertEqual(self.keep(self.dec.decode(frame, "t")), b)
            if saw_dict:
                after = frame
                break
            saw_dict = frame_inspect(frame).has_dict
        self.assertIsNotNone(after, "no dictionary was trained")
        self.assertFalse(frame_inspect(after).has_dict)
        # A decoder that missed the frame carrying the dictionary.
        err = self.assertError(Status.ENOTFOUND, late.decode, after, "t")
        self.assertIn("dictionary", err.message)
        blob = self.dec.export_dicts()
        self.assertIsInstance(blob, bytes)
        self.assertGreater(len(blob), 100)
        self.assertEqual(self.enc.export_dicts(), blob)
        self.assertError(Status.ECORRUPT, late.import_dicts, blob[:-1])
        late.import_dicts(memoryview(blob))
        self.keep(late.decode(after, "t"))
        late.import_dicts(blob)  # merging what it knows is fine

    def test_empty_export(self):
        blob = self.dec.export_dicts()
        self.assertEqual(blob, b"\0")
        self.dec.import_dicts(blob)
        self.assertError(Status.ECORRUPT, self.dec.import_dicts, b"\x05")


class CodecLifetimeTest(unittest.TestCase):
    def test_closed_codec_raises_eclosed(self):
        with Env() as env:
            codec = Codec(env)
            codec.close()
            codec.close()
            self.assertTrue(codec.closed)
            self.assertIn("closed", repr(codec))
            for call in (lambda: codec.set_param(Param.LEVEL, 3),
                         lambda: codec.get_param(Param.LEVEL),
                         lambda: codec.add_key(1, KEY_A),
                         lambda: codec.decode(b"", "t"),
                         codec.export_dicts, lambda: codec.errmsg):
                with self.assertRaises(HeliosReplError) as cm:
                    call()
                self.assertIs(cm.exception.code, Status.ECLOSED)

    def test_codec_outlives_a_closed_env(self):
        env = Env()
        enc, dec = Codec(env), Codec(env)
        batch = Batch.from_rows(env, [("a", Oid.INT8)], [(1,), (2,)])
        env.close()
        with self.assertRaises(HeliosReplError) as cm:
            Codec(env)
        self.assertIs(cm.exception.code, Status.ECLOSED)
        # Decoding creates a new batch from the (closed) env: still allowed.
        out = dec.decode(enc.encode(batch, "t"), "t")
        self.assertEqual(out, batch)
        for handle in (enc, dec, batch):
            handle.close()
            self.assertIsNotNone(env._handle)
        out.close()
        self.assertIsNone(env._handle)

    def test_codec_cannot_be_copied(self):
        with Env() as env, Codec(env) as codec:
            with self.assertRaises(TypeError):
                copy.copy(codec)

    def test_many_codecs_are_released(self):
        env = Env()
        for _ in range(200):
            Codec(env).add_key(1, os.urandom(KEY_SIZE))
        self.assertEqual(env._children, set())
        env.close()
        self.assertIsNone(env._handle)


if __name__ == "__main__":
    unittest.main()
