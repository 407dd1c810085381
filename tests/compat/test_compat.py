"""``python -m ember.compat`` and ``ember.compat.install()``: PyTorch programs run unchanged.

Every program runs in a fresh interpreter (the alias cannot be installed in the test process,
which has real PyTorch loaded as the oracle). Where the runner must behave as ``python``, the
same program also runs under plain ``python`` and the outputs are compared."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from ember.compat import _ember_name, torch_name

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MISSING = "ember does not implement {} yet (see README's compatibility table)"


def run(args, cwd, timeout=120, compat=True):
    """Run ``python [-m ember.compat] args`` in ``cwd`` with this checkout's ember."""
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    cmd = [sys.executable] + (["-m", "ember.compat"] if compat else []) + list(args)
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


# ----------------------------------------------------------------------------- names
@pytest.mark.parametrize("alias,real", [
    ("torch", "ember"), ("torch.nn.functional", "ember.nn.functional"),
    ("torchvision", "ember.vision"), ("torchvision.transforms", "ember.vision.transforms"),
    ("torchaudio", None), ("torchx.y", None), ("numpy", None)])
def test_alias_names(alias, real):
    assert _ember_name(alias) == real
    if real is not None:
        assert torch_name(real) == alias


# ------------------------------------------------------------------------ import forms
IMPORTS = """
    import sys
    import torch
    import torch.nn as nn
    from torch import nn as nn2, optim
    import torch.nn.functional as F
    from torch.utils.data import DataLoader
    import torchvision
    from torchvision import datasets, transforms, models
    import torch.backends.cudnn
    import torch.multiprocessing as mp
    import torch.optim.lr_scheduler
    import torch.cuda
    from torch.utils.tensorboard import SummaryWriter
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel
    import ember

    torch.backends.cudnn.benchmark = True
    torch.backends.cudnn.deterministic = True
    assert ember.backends.cudnn.benchmark is True
    assert torch is ember and nn is nn2 is ember.nn and F is ember.nn.functional
    assert optim is ember.optim and torchvision is ember.vision
    assert DataLoader is ember.utils.data.DataLoader and mp is ember.multiprocessing
    assert datasets is ember.vision.datasets and models.resnet18 is ember.vision.models.resnet18
    assert torch.cuda.is_available() in (True, False) and not torch.backends.mps.is_available()
    assert sys.modules["torch.nn"] is ember.nn
    assert SummaryWriter is ember.utils.tensorboard.SummaryWriter
    assert dist is ember.distributed and not dist.is_initialized()
    assert DistributedDataParallel is ember.nn.parallel.DistributedDataParallel
    import helper                      # the script's own module, next to it
    print("argv", sys.argv)
    print("name", __name__)
    print("file", __file__)
    print("path0", sys.path[0])
    print("helper", helper.VALUE, type(helper.model).__module__)
    print(torch.nn.Linear(3, 2))
"""


def test_script_import_forms(tmp_path):
    write(tmp_path / "prog" / "helper.py", """
        import torch
        VALUE = 42
        model = torch.nn.Linear(1, 1)
    """)
    script = write(tmp_path / "prog" / "train.py", IMPORTS)
    r = run([os.path.join("prog", "train.py"), "--epochs", "2"], cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    lines = dict(ln.split(" ", 1) for ln in r.stdout.splitlines() if " " in ln)
    assert lines["argv"] == repr([os.path.join("prog", "train.py"), "--epochs", "2"])
    assert lines["name"] == "__main__"
    assert lines["file"] == str(script)
    assert lines["path0"] == str(script.parent)
    assert lines["helper"] == "42 ember.nn.modules.linear"
    assert "Linear(in_features=3, out_features=2, bias=True)" in r.stdout


def test_module_and_command_forms(tmp_path):
    write(tmp_path / "pkg" / "__init__.py", "")
    write(tmp_path / "pkg" / "sibling.py", "import torch\nWIDTH = 3\n")
    write(tmp_path / "pkg" / "main.py", """
        import sys
        import torch
        from . import sibling
        print(__name__, __spec__.name, sys.argv[1:], sibling.WIDTH,
              torch.zeros(sibling.WIDTH).tolist())
    """)
    r = run(["-m", "pkg.main", "x", "-y"], cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n")[0] == "__main__ pkg.main ['x', '-y'] 3 [0.0, 0.0, 0.0]"
    r = run(["-c", "import sys, torch; print(sys.argv, repr(sys.path[0]), __name__, "
             "torch.ones(2).sum().item())", "a"], cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "['-c', 'a'] '' __main__ 2.0"


# ----------------------------------------------------------------------- missing names
def test_missing_attribute_and_modules(tmp_path):
    script = write(tmp_path / "m.py", """
        import torch, torchvision
        def attr(f):
            try:
                f()
            except AttributeError as e:
                print("attr", e)
        def imp(code):
            try:
                exec(code, {})
            except ImportError as e:
                print("import", type(e).__mro__[1].__name__, e.name, "|", e)
        attr(lambda: torch.not_a_function)
        attr(lambda: torch.nn.functional.not_a_function)
        attr(lambda: torchvision.ops.not_an_op)
        print("hasattr", hasattr(torch, "not_a_function"))
        imp("import torch.utils.checkpoint")
        imp("from torch.utils.checkpoint import checkpoint")
        imp("import torch.fx as fx")
        imp("from torch import fx")
        imp("from torch import not_a_function")
        imp("import torchvision.not_a_module")
    """)
    r = run([script.name], cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    out = r.stdout.splitlines()
    assert out[0] == "attr " + MISSING.format("torch.not_a_function")
    assert out[1] == "attr " + MISSING.format("torch.nn.functional.not_a_function")
    assert out[2] == "attr " + MISSING.format("torchvision.ops.not_an_op")
    assert out[3] == "hasattr False"
    expect = ["torch.utils.checkpoint"] * 2 + ["torch.fx"] * 2 + [
        "torch.not_a_function", "torchvision.not_a_module"]
    for line, name in zip(out[4:], expect):
        assert line == f"import ModuleNotFoundError {name} | " + MISSING.format(name)
    assert len(out) == 10


def test_missing_import_traceback_is_short(tmp_path):
    script = write(tmp_path / "tb.py", "import torch\nimport torch.fx\n")
    r = run([script.name], cwd=tmp_path)
    assert r.returncode == 1
    lines = r.stderr.splitlines()
    assert lines[0] == "Traceback (most recent call last):"
    assert lines[1] == f'  File "{script}", line 2, in <module>'
    assert lines[-1] == ("ember.compat.MissingModuleError: "
                         + MISSING.format("torch.fx"))
    assert sum(ln.startswith("  File ") for ln in lines) == 2  # the script's and ours


# ----------------------------------------------------------------------------- install
INSTALL = """
    import sys
    import ember.compat
    ember.compat.install()
    ember.compat.install()  # idempotent
    import torch, torchvision.transforms as T
    import ember
    assert torch is ember and T is ember.vision.transforms and ember.compat.is_installed()
    print("ok", torch.tensor([1.0, 2.0]) @ torch.tensor([3.0, 4.0]))
"""


def test_install_in_running_interpreter(tmp_path):
    r = run(["-c", textwrap.dedent(INSTALL)], cwd=tmp_path, compat=False)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ok tensor(11.)"


def test_install_refuses_after_real_pytorch(tmp_path):
    pytest.importorskip("torch")
    r = run(["-c", "import torch\nimport ember.compat\nember.compat.install()"], cwd=tmp_path,
            compat=False)
    assert r.returncode == 1
    assert "RuntimeError: ember.compat.install(): PyTorch is already imported" in r.stderr
    assert "before anything imports torch" in r.stderr


# ------------------------------------------------------------------------ workers
WORKERS = """
    import sys
    import torch
    import torch.multiprocessing as mp
    from torch.utils.data import DataLoader, Dataset

    class Squares(Dataset):  # defined in __main__: spawn workers must re-import this script
        def __len__(self):
            return 8

        def __getitem__(self, i):
            return torch.tensor([float(i * i)]), type(torch.zeros(1)).__module__

    def rank_fn(rank, q):
        q.put((rank, torch.__name__))

    if __name__ == "__main__":
        method = sys.argv[1]
        loader = DataLoader(Squares(), batch_size=4, num_workers=2,
                            multiprocessing_context=method)
        for x, where in loader:
            print("batch", x.flatten().tolist(), sorted(set(where)))
        ctx = mp.get_context(method)
        q = ctx.SimpleQueue()
        mp.start_processes(rank_fn, args=(q,), nprocs=2, start_method=method)
        print("ranks", sorted(q.get() for _ in range(2)))
"""


@pytest.mark.skipif(sys.platform == "win32", reason="fork is POSIX-only")
@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_dataloader_workers_and_processes_under_compat(tmp_path, method):
    script = write(tmp_path / "w.py", WORKERS)
    r = run([script.name, method], cwd=tmp_path, timeout=240)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "batch [0.0, 1.0, 4.0, 9.0] ['ember._tensor']",
        "batch [16.0, 25.0, 36.0, 49.0] ['ember._tensor']",
        "ranks [(0, 'ember'), (1, 'ember')]"]


# ------------------------------------------------------------- behaves like python
@pytest.mark.parametrize("name,source", [
    ("raises.py", "import torch\n\ndef f():\n    raise ValueError('bad value')\n\nf()\n"),
    ("syntax.py", "import torch\ndef f(:\n    pass\n"),
    ("exits.py", "import sys\nprint('out')\nsys.exit(3)\n"),
    ("interrupted.py", "raise KeyboardInterrupt\n"),
    ("chained.py", "try:\n    1 / 0\nexcept ZeroDivisionError as e:\n"
                   "    raise RuntimeError('wrapped') from e\n"),
])
def test_bad_programs_end_like_python(tmp_path, name, source):
    script = write(tmp_path / name, source)
    ours = run([script.name], cwd=tmp_path)
    plain = run([script.name], cwd=tmp_path, compat=False)
    assert ours.returncode == plain.returncode != 0
    assert ours.stdout == plain.stdout
    assert ours.stderr == plain.stderr


def test_missing_script_and_module_like_python(tmp_path):
    for args in (["nothere.py"], ["sub/nothere.py"], ["-m", "nothere_mod"]):
        ours, plain = run(args, cwd=tmp_path), run(args, cwd=tmp_path, compat=False)
        assert (ours.returncode, ours.stdout, ours.stderr) == \
            (plain.returncode, plain.stdout, plain.stderr)


def test_usage_errors(tmp_path):
    r = run([], cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.startswith("usage: python -m ember.compat")
    r = run(["-m"], cwd=tmp_path)
    assert r.returncode == 2 and "Argument expected for the -m option" in r.stderr
    r = run(["--help"], cwd=tmp_path)
    assert r.returncode == 0 and r.stdout.startswith("usage:")
