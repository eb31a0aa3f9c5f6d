"""Quantizers under torch DDP (2 gloo CPU processes) train like one process on the global batch;
``torch.compile(fullgraph=True)`` traces the op; imports stay independent."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")
import lowprec.torch as lt  # noqa: E402

STEPS, BATCH = 3, 8


def _model() -> torch.nn.Module:
    torch.manual_seed(0)
    m = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1))
    with torch.no_grad():  # dyadic start so every sum below is exact in float32
        for p in m.parameters():
            p.copy_(torch.round(p * 8) / 8)
    return lt.quantize_model_(m, weight_fmt="float8_e4m3fn", act_fmt="float8_e5m2")


def _data() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    return torch.randint(-4, 5, (BATCH, 4), generator=g) / 4.0, torch.randint(
        -2, 3, (BATCH, 1), generator=g
    ) / 2.0


def _train(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> list[torch.Tensor]:
    opt = torch.optim.SGD(model.parameters(), lr=0.125)
    for _ in range(STEPS):
        opt.zero_grad()
        torch.nn.functional.mse_loss(model(x), y).backward()
        opt.step()
    mods = model.module if hasattr(model, "module") else model
    return [m.quantized_weight().detach() for m in mods.modules() if isinstance(m, lt.QuantLinear)]


def _worker(rank: int, port: int, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.distributed.init_process_group("gloo", rank=rank, world_size=2)
    x, y = _data()
    half = BATCH // 2
    ddp = torch.nn.parallel.DistributedDataParallel(_model())
    ws = _train(ddp, x[rank * half : (rank + 1) * half], y[rank * half : (rank + 1) * half])
    torch.save(ws, f"{out}.{rank}")
    torch.distributed.destroy_process_group()


def test_ddp_two_processes(tmp_path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = str(tmp_path / "w")
    torch.multiprocessing.spawn(_worker, args=(port, out), nprocs=2, join=True)
    w0, w1 = torch.load(f"{out}.0"), torch.load(f"{out}.1")
    single = _train(_model(), *_data())
    for a, b, c in zip(w0, w1, single, strict=True):
        assert torch.equal(a.view(torch.int32), b.view(torch.int32))
        assert torch.equal(a, c)


def test_compile_fullgraph_and_grad() -> None:
    model = _model()
    x, _ = _data()
    compiled = torch.compile(model, fullgraph=True, backend="aot_eager")
    assert torch.equal(compiled(x), model(x))
    q = lt.Quantizer("float8_e4m3fn", "stochastic", seed=5, grad_fmt="float8_e5m2")
    qc = torch.compile(q, fullgraph=True, backend="aot_eager")
    t = torch.linspace(-2, 2, 50, requires_grad=True)
    qc(t).mul(0.3).sum().backward()
    assert torch.equal(t.grad, lt.quantize(torch.full((50,), 0.3), "float8_e5m2"))
    assert "fmt=float8_e4m3fn, rounding=stochastic, grad_fmt=float8_e5m2" in repr(q)


def test_clipped_estimator() -> None:
    t = torch.tensor([1.0, 500.0, -1e9, float("inf")], requires_grad=True)
    lt.quantize(t, "float8_e4m3fn", overflow="saturate", estimator="clipped").sum().backward()
    assert t.grad.tolist() == [1.0, 0.0, 0.0, 0.0]


def test_imports_are_independent() -> None:
    code = (
        "import sys; import lowprec; assert 'torch' not in sys.modules and 'jax' not in sys.modules;"
        "sys.modules['jax'] = None; import lowprec.torch; assert 'jax' not in [k for k in sys.modules if sys.modules[k]];"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    assert subprocess.run([sys.executable, "-c", code], env=env).returncode == 0
    code2 = "import sys; sys.modules['torch'] = None; import lowprec.jax"
    assert subprocess.run([sys.executable, "-c", code2], env=env).returncode == 0
