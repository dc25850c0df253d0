"""Tests of heliosrepl.Scheduler against the real library."""

import unittest

from heliosrepl import (Env, HeliosReplError, Phase, Scheduler,
                        SchedulerParam, Setting, Status, TenantStats, Tier,
                        scheduler_param_bounds)

MS = 1_000_000


class SchedulerTest(unittest.TestCase):
    def setUp(self):
        self.env = Env()
        self.addCleanup(self.env.close)
        self.sched = Scheduler(self.env)
        self.addCleanup(self.sched.close)

    def assertError(self, code, fn, *args):
        with self.assertRaises(HeliosReplError) as cm:
            fn(*args)
        self.assertIs(cm.exception.code, code, cm.exception)
        return cm.exception

    def test_params_and_presets(self):
        self.assertEqual(scheduler_param_bounds(SchedulerParam.ADMISSION),
                         (0, 1))
        self.assertEqual(self.sched.get_param(SchedulerParam.CAPACITY),
                         1_000_000)
        self.sched.set_param(SchedulerParam.CAPACITY, 2_000_000)
        self.assertEqual(self.sched.get_tier(Tier.PREMIUM, Setting.WEIGHT), 4)
        self.sched.add(1, Tier.PREMIUM)
        self.assertEqual(self.sched.tenant_setting(1, Setting.RESERVATION),
                         (20_000.0, False))
        self.sched.override(1, Setting.RESERVATION, 5, 0)
        self.assertEqual(self.sched.tenant_setting(1, Setting.RESERVATION),
                         (5.0, True))
        self.sched.clear_override(1, Setting.RESERVATION, 0)
        self.sched.set_tenant_tier(1, Tier.BASIC, 0)
        self.assertEqual(self.sched.tenant_setting(1, Setting.LIMIT),
                         (40_000.0, False))
        self.sched.set_tier(Tier.BASIC, Setting.LIMIT, 0.5)
        self.assertEqual(self.sched.tenant_setting(1, Setting.LIMIT)[0],
                         1_000_000.0)
        e = self.assertError(Status.EINVAL, self.sched.set_tier, Tier.BASIC,
                             Setting.LIMIT, 2.0)
        self.assertIn("outside", str(e))
        self.assertError(Status.EINVAL, self.sched.set_param,
                         SchedulerParam.CAPACITY, 0)
        self.assertError(Status.EINVAL, self.sched.add, -1)

    def test_tenants_and_decisions(self):
        self.assertEqual(self.sched.next(0), (None, None))
        self.sched.add(10, Tier.BASIC)
        self.sched.add(20, Tier.BASIC)
        self.assertError(Status.ECONFLICT, self.sched.add, 10)
        self.assertEqual(len(self.sched), 2)
        self.sched.override(10, Setting.LIMIT, 0, 0)
        self.sched.override(20, Setting.LIMIT, 10, 0)   # 10 units/s
        self.sched.override(20, Setting.WEIGHT, 3, 0)
        self.sched.set_backlog(10, 100, 0)
        self.sched.enqueue(20, 100, 0)
        self.assertEqual(self.sched.backlogged, 2)
        served = {10: 0, 20: 0}
        for _ in range(40):
            tenant, wait = self.sched.next(0)
            self.assertEqual(wait, 0)
            self.sched.charge(tenant, 1, 1, 0)
            served[tenant] += 1
        # Tenant 20 is held by its limit after one unit at t=0.
        self.assertEqual(served, {10: 39, 20: 1})
        stats = self.sched.stats(20)
        self.assertIsInstance(stats, TenantStats)
        self.assertEqual((stats.tier, stats.last_phase, stats.backlog,
                          stats.items, stats.weight_cost, stats.decisions),
                         (Tier.BASIC, Phase.WEIGHT, 99, 1, 1, 1))
        self.sched.remove(10)
        self.assertEqual(self.sched.next(50 * MS), (None, 50 * MS))
        self.assertEqual(self.sched.next(100 * MS)[0], 20)
        self.assertError(Status.ENOTFOUND, self.sched.charge, 10, 1, 1, 0)
        self.assertError(Status.ENOTFOUND, self.sched.remove, 10)
        self.assertError(Status.EINVAL, self.sched.charge, 20, 1 << 51, 1, 0)
        self.assertIn("outside", self.sched.errmsg)

    def test_closed(self):
        self.sched.close()
        self.sched.close()
        self.assertTrue(self.sched.closed)
        self.assertError(Status.ECLOSED, self.sched.next, 0)
        with Scheduler(self.env) as other:
            other.add(1)
            self.assertEqual(len(other), 1)
        self.assertTrue(other.closed)


if __name__ == "__main__":
    unittest.main()
