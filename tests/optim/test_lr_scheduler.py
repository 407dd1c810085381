"""Learning-rate schedulers against PyTorch's: the lr (and cycled momentum/beta1) sequence over
200 steps equal to 1e-12, closed forms through ``step(epoch)``, resuming with ``last_epoch``,
state dicts, warnings and errors; ReduceLROnPlateau on the same metric sequence."""

import math
import pickle
import warnings

import numpy as np
import pytest

import ember
from tests.optim.common import make_params, weights
from tests.oracle import needs_torch, torch

pytestmark = needs_torch

STEPS = 200


def _optimizer(lib, kind="SGD"):
    ps = make_params(lib, weights(0))
    groups = [{"params": ps[:2]}, {"params": ps[2:], "lr": 0.05}]
    if kind == "SGD":
        return lib.optim.SGD(groups, lr=0.1, momentum=0.9)
    return lib.optim.Adam(groups, lr=0.1, betas=(0.9, 0.999))


def _record(opt, sched):
    rows = []
    for g, last in zip(opt.param_groups, sched.get_last_lr()):
        rows.append((float(g["lr"]), float(last), g.get("momentum", g.get("betas", (0,))[0])))
    return rows


def _assert_seq_equal(e_seq, t_seq):
    assert len(e_seq) == len(t_seq)
    for i, (e_rows, t_rows) in enumerate(zip(e_seq, t_seq)):
        for e, t in zip(e_rows, t_rows):
            for a, b in zip(e, t):
                assert a == pytest.approx(b, rel=1e-12, abs=1e-15), f"step {i}: {e} != {t}"


def _run(lib, make, kind="SGD", steps=STEPS):
    opt = _optimizer(lib, kind)
    sched = make(lib.optim.lr_scheduler, opt)
    seq = [_record(opt, sched)]
    for _ in range(steps):
        opt.step()
        sched.step()
        seq.append(_record(opt, sched))
    return seq


class Halving:
    """A callable object (not a function): its attributes go into the state dict."""

    def __init__(self):
        self.factor = 0.5

    def __call__(self, epoch):
        return self.factor ** (epoch // 40)


SCHEDULERS = {
    "LambdaLR": lambda m, o: m.LambdaLR(o, lambda e: 0.95 ** e),
    "LambdaLR-list": lambda m, o: m.LambdaLR(o, [lambda e: 1 / (e + 1), Halving()]),
    "MultiplicativeLR": lambda m, o: m.MultiplicativeLR(o, lambda e: 0.97),
    "StepLR": lambda m, o: m.StepLR(o, step_size=7, gamma=0.5),
    "MultiStepLR": lambda m, o: m.MultiStepLR(o, milestones=[10, 30, 30, 80], gamma=0.3),
    "ConstantLR": lambda m, o: m.ConstantLR(o, factor=0.3, total_iters=12),
    "LinearLR": lambda m, o: m.LinearLR(o, start_factor=0.2, end_factor=0.9, total_iters=40),
    "LinearLR-decay": lambda m, o: m.LinearLR(o, start_factor=1.0, end_factor=0.1,
                                              total_iters=150),
    "ExponentialLR": lambda m, o: m.ExponentialLR(o, gamma=0.98),
    "PolynomialLR": lambda m, o: m.PolynomialLR(o, total_iters=150, power=2.0),
    "PolynomialLR-sqrt": lambda m, o: m.PolynomialLR(o, total_iters=60, power=0.5),
    "CosineAnnealingLR": lambda m, o: m.CosineAnnealingLR(o, T_max=30, eta_min=0.001),
    "CosineAnnealingLR-long": lambda m, o: m.CosineAnnealingLR(o, T_max=250),
    "CosineAnnealingWarmRestarts": lambda m, o: m.CosineAnnealingWarmRestarts(
        o, T_0=10, T_mult=2, eta_min=1e-4),
    "CosineAnnealingWarmRestarts-1": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=17),
    "CyclicLR": lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=15),
    "CyclicLR-triangular2": lambda m, o: m.CyclicLR(
        o, base_lr=[0.01, 0.02], max_lr=0.1, step_size_up=10, step_size_down=7,
        mode="triangular2", base_momentum=0.7, max_momentum=[0.95, 0.9]),
    "CyclicLR-exp_range": lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.1,
                                                  step_size_up=12, mode="exp_range",
                                                  gamma=0.99, cycle_momentum=False),
    "CyclicLR-scale_fn": lambda m, o: m.CyclicLR(o, base_lr=0.001, max_lr=0.01,
                                                 step_size_up=9,
                                                 scale_fn=lambda x: 1 / (1 + 0.01 * x),
                                                 scale_mode="iterations"),
    "OneCycleLR": lambda m, o: m.OneCycleLR(o, max_lr=0.1, total_steps=STEPS),
    "OneCycleLR-linear": lambda m, o: m.OneCycleLR(o, max_lr=[0.1, 0.05], epochs=10,
                                                   steps_per_epoch=20,
                                                   anneal_strategy="linear", pct_start=0.25),
    "OneCycleLR-three_phase": lambda m, o: m.OneCycleLR(o, max_lr=0.2, total_steps=STEPS,
                                                        three_phase=True, div_factor=10.0,
                                                        final_div_factor=100.0,
                                                        base_momentum=0.8),
    "OneCycleLR-no-momentum": lambda m, o: m.OneCycleLR(o, max_lr=0.2, total_steps=250,
                                                        cycle_momentum=False),
    "SequentialLR": lambda m, o: m.SequentialLR(
        o, [m.LinearLR(o, start_factor=0.1, total_iters=20),
            m.ExponentialLR(o, gamma=0.98)], milestones=[20]),
    "SequentialLR-3": lambda m, o: m.SequentialLR(
        o, [m.ConstantLR(o, factor=0.5, total_iters=5), m.StepLR(o, 10, 0.5),
            m.CosineAnnealingLR(o, T_max=40)], milestones=[15, 60]),
    "ChainedScheduler": lambda m, o: m.ChainedScheduler(
        [m.ConstantLR(o, factor=0.2, total_iters=10), m.ExponentialLR(o, gamma=0.99)]),
    "ChainedScheduler-3": lambda m, o: m.ChainedScheduler(
        [m.LinearLR(o, start_factor=0.5, total_iters=8), m.MultiStepLR(o, [50, 100]),
         m.CosineAnnealingWarmRestarts(o, T_0=30)], optimizer=o),
}


# the optimizer only matters where momentum (SGD) or beta1 (Adam) is cycled
SEQ_CASES = [(n, "SGD") for n in SCHEDULERS] + [
    (n, "Adam") for n in SCHEDULERS if n.startswith(("CyclicLR", "OneCycleLR", "StepLR"))]


@pytest.mark.parametrize("name,kind", SEQ_CASES, ids=[f"{n}-{k}" for n, k in SEQ_CASES])
def test_sequence_matches_torch(name, kind):
    make = SCHEDULERS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no spurious warnings in the normal loop
        e_seq = _run(ember, make, kind)
    t_seq = _run(torch, make, kind)
    _assert_seq_equal(e_seq, t_seq)


def test_swalr_sequence():
    def run(lib, strategy, epochs):
        opt = _optimizer(lib)
        m = lib.optim.swa_utils
        sched = m.SWALR(opt, swa_lr=[0.02, 0.01], anneal_epochs=epochs,
                        anneal_strategy=strategy)
        seq = []
        for _ in range(30):
            opt.step()
            sched.step()
            seq.append(_record(opt, sched))
        return seq

    for strategy in ("cos", "linear"):
        for epochs in (0, 1, 10):
            _assert_seq_equal(run(ember, strategy, epochs), run(torch, strategy, epochs))


CLOSED = ["StepLR", "MultiStepLR", "ConstantLR", "LinearLR", "ExponentialLR", "PolynomialLR",
          "CosineAnnealingLR", "LambdaLR", "CosineAnnealingWarmRestarts"]


@pytest.mark.parametrize("name", CLOSED)
def test_step_with_epoch_uses_closed_form_and_warns(name):
    epochs = [3, 7, 7, 20, 11, 45, 0, 99, 120]
    seqs = []
    for lib in (ember, torch):
        opt = _optimizer(lib)
        sched = SCHEDULERS[name](lib.optim.lr_scheduler, opt)
        seq = []
        for e in epochs:
            opt.step()
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                sched.step(e)
            # CosineAnnealingWarmRestarts takes epochs (even fractional) without warning
            expected = 0 if name == "CosineAnnealingWarmRestarts" else 1
            assert [str(x.message)[:41] for x in w] == \
                ["The epoch parameter in `scheduler.step()`"] * expected
            seq.append(_record(opt, sched))
        seqs.append(seq)
    _assert_seq_equal(*seqs)


def test_fractional_epochs_warm_restarts():
    seqs = []
    for lib in (ember, torch):
        opt = _optimizer(lib)
        sched = lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=5, T_mult=3)
        seq = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for i in range(60):
                opt.step()
                sched.step(i * 0.7)
                seq.append(_record(opt, sched) + [(sched.T_cur, sched.T_i, sched.last_epoch)])
        seqs.append(seq)
    _assert_seq_equal(*seqs)


@pytest.mark.parametrize("name", ["StepLR", "CosineAnnealingLR", "LinearLR", "OneCycleLR",
                                  "CyclicLR-triangular2", "SequentialLR", "ChainedScheduler",
                                  "LambdaLR-list", "MultiStepLR", "CosineAnnealingWarmRestarts"])
def test_state_dict_round_trip_with_torch(name):
    # run PyTorch 50 steps, move optimizer and scheduler state to ember, continue both
    make = SCHEDULERS[name]
    t_opt = _optimizer(torch)
    t_sched = make(torch.optim.lr_scheduler, t_opt)
    for _ in range(50):
        t_opt.step()
        t_sched.step()
    e_opt = _optimizer(ember)
    e_sched = make(ember.optim.lr_scheduler, e_opt)
    t_state = t_sched.state_dict()
    e_sched.load_state_dict(pickle.loads(pickle.dumps(t_state)))
    e_opt.load_state_dict(_to_ember_groups(t_opt.state_dict()))
    # ember's own state dict has PyTorch's keys
    assert sorted(e_sched.state_dict()) == sorted(t_state)
    e_seq, t_seq = [], []
    for _ in range(60):
        t_opt.step()
        t_sched.step()
        e_opt.step()
        e_sched.step()
        e_seq.append(_record(e_opt, e_sched))
        t_seq.append(_record(t_opt, t_sched))
    _assert_seq_equal(e_seq, t_seq)


def _to_ember_groups(sd):
    return {"state": {}, "param_groups": [dict(g) for g in sd["param_groups"]]}


def test_resume_with_last_epoch():
    seqs = []
    for lib in (ember, torch):
        opt = _optimizer(lib)
        for g in opt.param_groups:
            g["initial_lr"] = g["lr"]
        sched = lib.optim.lr_scheduler.StepLR(opt, step_size=5, gamma=0.5, last_epoch=12)
        seq = [_record(opt, sched)]
        for _ in range(20):
            opt.step()
            sched.step()
            seq.append(_record(opt, sched))
        seqs.append(seq)
    _assert_seq_equal(*seqs)
    opt = _optimizer(ember)
    with pytest.raises(KeyError, match="param 'initial_lr' is not specified"):
        ember.optim.lr_scheduler.StepLR(opt, step_size=5, last_epoch=3)


def test_reduce_lr_on_plateau():
    rng = np.random.default_rng(0)
    metrics = np.concatenate([np.linspace(1, 0.5, 20), 0.5 + 0.01 * rng.standard_normal(80),
                              np.linspace(0.5, 0.2, 30), np.full(70, 0.2)])
    configs = [{}, {"mode": "max", "patience": 3}, {"threshold_mode": "abs", "threshold": 0.01,
                                                     "patience": 2, "cooldown": 4},
               {"mode": "max", "threshold_mode": "abs", "factor": 0.5, "min_lr": [0.02, 0.001]},
               {"patience": 0, "factor": 0.9, "eps": 0.01, "min_lr": 0.03}]
    for kw in configs:
        seqs = []
        for lib in (ember, torch):
            opt = _optimizer(lib)
            sched = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, **kw)
            seq = []
            for m in metrics:
                opt.step()
                sched.step(float(m) if lib is torch else lib.tensor(float(m), dtype=lib.float64))
                seq.append(_record(opt, sched) + [(sched.num_bad_epochs, sched.cooldown_counter,
                                                   sched.best)])
            seqs.append(seq)
        _assert_seq_equal(*seqs)


def test_reduce_lr_on_plateau_state_and_errors():
    opt = _optimizer(ember)
    sched = ember.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="max")
    for m in [1.0, 2.0, 1.5]:
        sched.step(m)
    sd = sched.state_dict()
    t_sd = torch.optim.lr_scheduler.ReduceLROnPlateau(_optimizer(torch), mode="max").state_dict()
    assert sorted(sd) == sorted(t_sd)
    other = ember.optim.lr_scheduler.ReduceLROnPlateau(_optimizer(ember))
    other.load_state_dict(sd)
    assert other.mode == "max" and other.best == 2.0 and other.last_epoch == 3
    with pytest.warns(UserWarning, match="epoch parameter"):
        sched.step(1.0, epoch=10)
    assert sched.last_epoch == 10
    for kw in [{"factor": 1.0}, {"mode": "avg"}, {"threshold_mode": "x"}, {"min_lr": [0.1]}]:
        _same_error(lambda lib, kw=kw: lib.optim.lr_scheduler.ReduceLROnPlateau(
            _optimizer(lib), **kw))
    # a group added later needs min_lrs when they were given per group
    opt = _optimizer(ember)
    sched = ember.optim.lr_scheduler.ReduceLROnPlateau(opt, min_lr=[0.0, 0.0], patience=0)
    opt.add_param_group({"params": [ember.zeros(1, requires_grad=True)]})
    sched.step(1.0)
    with pytest.raises(RuntimeError, match="number of param groups"):
        sched.step(2.0)


def _same_error(fn):
    with pytest.raises(Exception) as te:
        fn(torch)
    with pytest.raises(type(te.value)) as ee:
        fn(ember)
    assert str(ee.value) == str(te.value)


@pytest.mark.parametrize("fn", [
    lambda lib: lib.optim.lr_scheduler.StepLR(object(), 3),
    lambda lib: lib.optim.lr_scheduler.ConstantLR(_optimizer(lib), factor=1.5),
    lambda lib: lib.optim.lr_scheduler.LinearLR(_optimizer(lib), start_factor=0),
    lambda lib: lib.optim.lr_scheduler.LinearLR(_optimizer(lib), end_factor=1.5),
    lambda lib: lib.optim.lr_scheduler.LambdaLR(_optimizer(lib), [lambda e: 1.0]),
    lambda lib: lib.optim.lr_scheduler.MultiplicativeLR(_optimizer(lib), [1.0, 2.0]),
    lambda lib: lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(_optimizer(lib), T_0=0),
    lambda lib: lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(_optimizer(lib), 5,
                                                                   T_mult=1.5),
    lambda lib: lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(_optimizer(lib), 5,
                                                                   eta_min="0"),
    lambda lib: lib.optim.lr_scheduler.CyclicLR(_optimizer(lib), 0.1, 1.0, mode="sine"),
    lambda lib: lib.optim.lr_scheduler.CyclicLR(_optimizer(lib), [0.1], 1.0),
    lambda lib: lib.optim.lr_scheduler.CyclicLR(lib.optim.Rprop(make_params(lib, weights(0))),
                                                0.1, 1.0),
    lambda lib: lib.optim.lr_scheduler.OneCycleLR(_optimizer(lib), 0.1),
    lambda lib: lib.optim.lr_scheduler.OneCycleLR(_optimizer(lib), 0.1, total_steps=0),
    lambda lib: lib.optim.lr_scheduler.OneCycleLR(_optimizer(lib), 0.1, epochs=0,
                                                  steps_per_epoch=3),
    lambda lib: lib.optim.lr_scheduler.OneCycleLR(_optimizer(lib), 0.1, epochs=2,
                                                  steps_per_epoch=-3),
    lambda lib: lib.optim.lr_scheduler.OneCycleLR(_optimizer(lib), 0.1, 10, pct_start=1.2),
    lambda lib: lib.optim.lr_scheduler.OneCycleLR(_optimizer(lib), 0.1, 10,
                                                  anneal_strategy="exp"),
    lambda lib: lib.optim.lr_scheduler.SequentialLR(_optimizer(lib), [], []),
    lambda lib: lib.optim.lr_scheduler.ChainedScheduler([]),
    lambda lib: _sequential_bad_milestones(lib),
    lambda lib: _sequential_other_optimizer(lib),
    lambda lib: _chained_plateau(lib),
    lambda lib: _one_cycle_past_end(lib),
    lambda lib: lib.optim.swa_utils.SWALR(_optimizer(lib), 0.1, anneal_strategy="exp"),
    lambda lib: lib.optim.swa_utils.SWALR(_optimizer(lib), 0.1, anneal_epochs=-1),
    lambda lib: lib.optim.swa_utils.SWALR(_optimizer(lib), [0.1]),
])
def test_errors(fn):
    _same_error(fn)


def _sequential_bad_milestones(lib):
    o = _optimizer(lib)
    m = lib.optim.lr_scheduler
    return m.SequentialLR(o, [m.StepLR(o, 3), m.StepLR(o, 4)], milestones=[2, 5])


def _sequential_other_optimizer(lib):
    o, o2 = _optimizer(lib), _optimizer(lib)
    m = lib.optim.lr_scheduler
    return m.SequentialLR(o, [m.StepLR(o, 3), m.StepLR(o2, 4)], milestones=[2])


def _chained_plateau(lib):
    o = _optimizer(lib)
    m = lib.optim.lr_scheduler
    return m.ChainedScheduler([m.StepLR(o, 3), m.ReduceLROnPlateau(o)])


def _one_cycle_past_end(lib):
    o = _optimizer(lib)
    sched = lib.optim.lr_scheduler.OneCycleLR(o, 0.1, total_steps=3)
    for _ in range(4):
        o.step()
        sched.step()


def test_warning_when_scheduler_steps_before_optimizer():
    opt = _optimizer(ember)
    sched = ember.optim.lr_scheduler.StepLR(opt, 3)
    with pytest.warns(UserWarning, match="Detected call of `lr_scheduler.step\\(\\)` before"):
        sched.step()
    # an optimizer.step replaced after the scheduler wrapped it
    opt = _optimizer(ember)
    sched = ember.optim.lr_scheduler.StepLR(opt, 3)
    opt.step = lambda closure=None: None
    with pytest.warns(UserWarning, match="has been overridden after learning rate scheduler"):
        sched.step()
    # calling get_lr() directly warns that get_last_lr() is the way to read the rate
    opt = _optimizer(ember)
    sched = ember.optim.lr_scheduler.ExponentialLR(opt, 0.5)
    with pytest.warns(UserWarning, match="please use `get_last_lr\\(\\)`"):
        sched.get_lr()
    # the wrapper is installed once even with several schedulers
    opt = _optimizer(ember)
    ember.optim.lr_scheduler.StepLR(opt, 3)
    wrapped = opt.step
    ember.optim.lr_scheduler.ExponentialLR(opt, 0.9)
    assert opt.step is wrapped


def test_tensor_lr_is_updated_in_place():
    seqs = []
    for lib in (ember, torch):
        ps = make_params(lib, weights(0))
        lr = lib.tensor(0.1)
        opt = lib.optim.SGD(ps, lr=lr)
        sched = lib.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10)
        seq = []
        for _ in range(15):
            opt.step()
            sched.step()
            assert opt.param_groups[0]["lr"] is lr
            seq.append([(float(lr), float(sched.get_last_lr()[0]), 0.0)])
        seqs.append(seq)
    for (e,), (t,) in zip(*seqs):
        assert e[0] == pytest.approx(t[0], rel=1e-6)


def test_lambda_state_dict_keeps_callable_object_state():
    opt = _optimizer(ember)
    fn = Halving()
    sched = ember.optim.lr_scheduler.LambdaLR(opt, [lambda e: 1.0, fn])
    fn.factor = 0.25
    sd = sched.state_dict()
    assert sd["lr_lambdas"] == [None, {"factor": 0.25}]
    fn2 = Halving()
    other = ember.optim.lr_scheduler.LambdaLR(_optimizer(ember), [lambda e: 1.0, fn2])
    other.load_state_dict(sd)
    assert fn2.factor == 0.25 and sd["lr_lambdas"] == [None, {"factor": 0.25}]


def test_cyclic_state_dict_drops_functions():
    opt = _optimizer(ember)
    sched = ember.optim.lr_scheduler.CyclicLR(opt, 0.01, 0.1, mode="exp_range", gamma=0.9)
    sd = sched.state_dict()
    assert "_scale_fn_ref" not in sd and sd["_scale_fn_custom"] is None
    pickle.dumps(sd)
    other = ember.optim.lr_scheduler.CyclicLR(_optimizer(ember), 0.01, 0.1)
    other.load_state_dict(sd)
    assert other.mode == "exp_range" and other.scale_fn(2) == pytest.approx(0.81)


def test_cosine_annealing_first_step_after_resume_uses_closed_form():
    seqs = []
    for lib in (ember, torch):
        opt = _optimizer(lib)
        for g in opt.param_groups:
            g["initial_lr"] = g["lr"]
        sched = lib.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10, last_epoch=4)
        seq = []
        for _ in range(30):
            opt.step()
            sched.step()
            seq.append(_record(opt, sched))
        seqs.append(seq)
    _assert_seq_equal(*seqs)
    assert math.isfinite(seqs[0][-1][0][0])
