"""Tests of heliosrepl.Predictor against the real library."""

import unittest

from heliosrepl import (Access, Env, HeliosReplError, Predictor,
                        PredictorParam, Scorer, Status,
                        predictor_param_bounds)

SEC = 10**9
T0 = 1704067200 * SEC  # Monday 2024-01-01 00:00 UTC


class PredictorTest(unittest.TestCase):
    def setUp(self):
        self.env = Env()
        self.addCleanup(self.env.close)
        self.p = self.predictor()

    def predictor(self):
        p = Predictor(self.env)
        self.addCleanup(p.close)
        return p

    def assertError(self, code, fn, *args):
        with self.assertRaises(HeliosReplError) as cm:
            fn(*args)
        self.assertEqual(cm.exception.code, code)

    def test_params(self):
        self.assertEqual(predictor_param_bounds(PredictorParam.WINDOW_MS),
                         (1000, 604800000))
        self.assertEqual(self.p.get_param(PredictorParam.WINDOW_MS), 60000)
        self.p.set_param(PredictorParam.WINDOW_MS, 1000)
        self.assertError(Status.EINVAL, self.p.set_param,
                         PredictorParam.WINDOW_MS, 1)
        self.p.observe("acme", T0)
        self.assertError(Status.ESTATE, self.p.set_param,
                         PredictorParam.MAX_KEYS, 100)
        self.assertIn("first event", self.p.errmsg)

    def test_observe_score_top_k(self):
        for i, key in enumerate(["a", "b/orders", "c"]):
            self.p.observe(key, T0 + i * SEC, Access.WRITE, count=i + 1)
        top = self.p.top_k(T0 + 5 * SEC, 10)
        self.assertEqual([k for k, _ in top], ["c", "b/orders", "a"])
        self.assertGreater(top[0][1], top[2][1])
        self.assertEqual(self.p.score("c", T0 + 5 * SEC), top[0][1])
        self.assertEqual(self.p.score("never", T0 + 5 * SEC), 0.0)
        self.p.set_param(PredictorParam.SCORER, Scorer.RECENCY)
        # 3 s after the last access, in windows of 60 s.
        self.assertAlmostEqual(self.p.score("c", T0 + 5 * SEC), 1 / 1.05)
        self.p.set_param(PredictorParam.SCORER, Scorer.LEARNED)
        self.assertError(Status.ESTATE, self.p.score, "c", T0 + 5 * SEC)
        self.assertError(Status.ESTATE, self.p.train, T0 + 5 * SEC)
        self.assertError(Status.EINVAL, self.p.observe, "", T0)
        self.assertError(Status.EINVAL, self.p.observe, "k" * 512, T0)
        info = self.p.info()
        self.assertEqual(info.keys, 3)
        self.assertEqual(info.events, 6)
        self.assertFalse(info.learned_active)
        self.assertEqual(info.learned_auc, -1)

    def test_train_save_load(self):
        p = self.p
        p.set_param(PredictorParam.WINDOW_MS, 1000)
        # Even keys in even windows, odd keys in odd ones: a clear pattern.
        for w in range(200):
            for k in range(10):
                if (k + w) % 2 == 0:
                    p.observe(f"t{k}", T0 + w * SEC, Access.READ, 3)
        p.train(T0 + 200 * SEC)
        info = p.info()
        self.assertEqual(info.trainings, 1)
        self.assertGreater(info.examples, 1000)
        blob = p.save()
        q = self.predictor()
        q.load(blob)
        self.assertEqual(q.save(), blob)
        for k in range(10):
            self.assertEqual(p.score(f"t{k}", T0 + 200 * SEC),
                             q.score(f"t{k}", T0 + 200 * SEC))
        self.assertEqual(p.top_k(T0 + 200 * SEC, 5), q.top_k(T0 + 200 * SEC, 5))
        bad = bytearray(blob)
        bad[len(bad) // 2] ^= 1
        self.assertError(Status.ECORRUPT, q.load, bad)
        self.assertError(Status.ECORRUPT, q.load, blob[:10])
        self.assertEqual(q.save(), blob)

    def test_closed(self):
        p = Predictor(self.env)
        p.close()
        p.close()
        self.assertError(Status.ECLOSED, p.observe, "a", T0)


if __name__ == "__main__":
    unittest.main()
