"""The ``lowprec`` command line: formats, cast, demo, and clean errors."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from lowprec.cli import main


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


def _rows(out: str) -> dict[str, list[str]]:
    """Cast output rows keyed by their input column."""
    rows = {}
    for line in out.splitlines()[2:]:
        parts = line.split()
        rows[parts[0]] = parts[1:]
    return rows


def test_formats_lists_every_named_format(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = _run(capsys, "formats")
    assert rc == 0
    for name in ("float8_e4m3fn", "bfloat16", "float4_e2m1fn", "float8_e8m0fnu", "p3109_k8p3se", "tf32"):
        assert re.search(rf"^{name}\s", out, re.M), name
    assert not re.search(r"^p3109_k16", out, re.M)  # 16-bit P3109 only with --all
    assert "p3109_k<K>p<P>" in out
    line = next(ln for ln in out.splitlines() if ln.startswith("float8_e4m3fn "))
    assert line.split()[1:6] == ["8", "4", "3", "7", "448"]
    assert line.split()[-1] == "nan,-0"
    rc, out_all, _ = _run(capsys, "formats", "--all")
    assert rc == 0 and re.search(r"^p3109_k16p9se\s", out_all, re.M)


def test_cast_toward_zero_e4m3fn(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = _run(capsys, "cast", "0.1", "300", "--format", "float8_e4m3fn", "--rounding", "toward_zero")
    assert rc == 0
    rows = _rows(out)
    # 300 -> 288 = 1.001b * 2**8: code 0 1111 001
    assert rows["300.0"][:5] == ["288.0", "0x79", "0", "1111", "001"]
    assert float(rows["300.0"][5]) == 12.0 and float(rows["300.0"][6]) == pytest.approx(0.04)
    # 0.1 -> 0.09375 = 1.100b * 2**-4 toward zero
    assert rows["0.1"][:5] == ["0.09375", "0x1C", "0", "0011", "100"]
    assert float(rows["0.1"][6]) == pytest.approx(0.0625)


def test_cast_rounding_and_overflow(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = _run(capsys, "cast", "300", "1000", "-0.0", "--format", "e4m3")
    rows = _rows(out)
    assert rc == 0
    assert rows["300.0"][:2] == ["288.0", "0x79"]  # nearest even: 288 (300 is below the 304 tie)
    assert rows["1000.0"][:2] == ["nan", "0x7F"]  # default overflow of fn formats: NaN
    assert rows["-0.0"][:2] == ["-0.0", "0x80"]
    rc, out, _ = _run(capsys, "cast", "1000", "--format", "float8_e4m3fn", "--overflow", "saturate")
    assert _rows(out)["1000.0"][:2] == ["448.0", "0x7E"]
    rc, out, _ = _run(capsys, "cast", "1.05", "--format", "bfloat16", "-r", "rtp")
    assert _rows(out)["1.05"][:2] == ["1.0546875", "0x3F87"]
    rc, out, _ = _run(capsys, "cast", "3", "--format", "float8_e8m0fnu", "-r", "nearest_even")
    assert _rows(out)["3.0"][:3] == ["2.0", "0x80", "10000000"]


def test_cast_stochastic_with_seed_is_reproducible(capsys: pytest.CaptureFixture[str]) -> None:
    args = (
        "cast",
        "1.1",
        "1.1",
        "1.1",
        "1.1",
        "--format",
        "float4_e2m1fn",
        "-r",
        "stochastic",
        "--seed",
        "3",
    )
    _, out1, _ = _run(capsys, *args)
    _, out2, _ = _run(capsys, *args)
    assert out1 == out2
    assert {ln.split()[1] for ln in out1.splitlines()[2:]} <= {"1.0", "1.5"}


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["cast", "1", "--format", "float8_e4m3fx"], "did you mean 'float8_e4m3fn'"),
        (["cast", "1", "--format", "e4m3", "--rounding", "nearest_evn"], "nearest_even"),
        (["cast", "1", "--format", "e4m3", "--overflow", "infinity"], "no infinities"),
        (["cast", "abc", "--format", "e4m3"], "cast needs numbers"),
    ],
)
def test_bad_input_is_a_clean_error(capsys: pytest.CaptureFixture[str], argv: list[str], needle: str) -> None:
    rc, out, err = _run(capsys, *argv)
    assert rc == 2
    assert needle.lower() in err.lower()
    assert "Traceback" not in err and out == ""


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["cast", "1"])  # --format missing
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        main([])
    assert exc.value.code == 2


def test_python_dash_m(tmp_path: Path) -> None:
    src = Path(__file__).resolve().parents[1] / "src"
    r = subprocess.run(
        [sys.executable, "-m", "lowprec", "cast", "300", "-f", "float8_e4m3fn", "-r", "toward_zero"],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(src)},
        cwd=tmp_path,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    assert "0x79" in r.stdout


def test_demo_quick_writes_plot_and_sr_beats_rne(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from lowprec._demo import run_demo

    res = run_demo(tmp_path / "demo", quick=True, progress=False)
    out = capsys.readouterr().out
    png = tmp_path / "demo" / "precision_study.png"
    assert res.plot == png and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Harmonic series" in out and "Dot product" in out
    by = {(r.fmt, r.rounding): r for r in res.harmonic}
    exact = sum(1.0 / k for k in range(1, res.n_terms + 1))
    for fmt in ("bfloat16", "float16"):
        rne, sr = by[(fmt, "nearest_even")], by[(fmt, "stochastic")]
        assert rne.stagnation_k is not None and rne.stagnation_k < res.n_terms
        # SR keeps growing far beyond RNE's stagnation and ends near ln(N) + gamma
        assert sr.last_growth_k > 10 * rne.stagnation_k
        assert abs(sr.final_sum - exact) < 0.1 * exact < abs(rne.final_sum - exact)
        assert re.search(rf"^{fmt}\s+stochastic\s+none \(grew at \d+\)", out, re.M)
    assert by[("float16", "nearest_even")].stagnation_k == 513  # 7.0859375 + 1/513 rounds back
    assert by[("bfloat16", "nearest_even")].final_sum == 5.0625
    # dot product: SR's error is well below RNE's at the longest length
    assert res.dot[-1].length == 10_000 and res.dot[-1].sr < res.dot[-1].rne / 5


def test_demo_subcommand(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import lowprec._demo as demo

    calls = {}

    def fake(out_dir, **kw):
        calls.update(kw, out_dir=out_dir)

    monkeypatch.setattr(demo, "run_demo", fake)
    assert main(["demo", "--quick", "--out", str(tmp_path), "--no-progress"]) == 0
    assert calls["out_dir"] == str(tmp_path) and calls["quick"] is True and calls["progress"] is False
