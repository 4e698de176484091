"""``meliso`` command line: thin wrappers that parse, call the library and print."""

from __future__ import annotations

import errno
import functools
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from ._io import to_json
from ._validation import MelisoWarning, validate_model
from .analysis import summarize
from .devices import AnalogDevice, all_presets, get_device

app = typer.Typer(
    help="meliso: analog vector-matrix multiplication on simulated RRAM crossbars.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # usage errors as one plain line, like meliso's own errors
)
_out = Console(width=None if sys.stdout.isatty() else 120)
_err = Console(stderr=True, width=None if sys.stderr.isatty() else 120)

POPULATION_KEYS = (
    "n", "mean", "variance", "skewness", "kurtosis", "median", "iqr", "p2_5", "p97_5",
    "rms_exact", "n_nonfinite",
)


def _fail(message: str) -> NoReturn:
    _err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code=2)


def _os_message(exc: OSError) -> str:
    """What went wrong with the file system, in words, with what to do."""
    where = f" {exc.filename}" if exc.filename else ""
    advice = {
        errno.ENOSPC: "the disk is full: free some space or choose another --out",
        errno.EDQUOT: "the disk quota is exhausted: free some space or choose another --out",
        errno.EROFS: "the file system is read-only: choose another --out",
        errno.EACCES: "permission denied: choose a folder you can write to (--out)",
        errno.EPERM: "operation not permitted: choose a folder you can write to (--out)",
        errno.ENAMETOOLONG: "a file name is too long: choose a shorter --out or name",
        errno.ENOTDIR: "a part of the path is a file, not a folder",
        errno.EISDIR: "the path is a folder, not a file",
    }.get(exc.errno or 0, exc.strerror or str(exc))
    return f"cannot use{where}: {advice}"


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: Any = None, line: str | None = None) -> None:
    _err.print(f"[yellow]warning:[/] {message}", highlight=False, soft_wrap=True)


def _command(*args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``app.command`` whose function reports bad input, file-system and memory failures as
    one clear line and exit code 2 (never a traceback), and meliso's warnings as one line."""
    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def guarded(*a: Any, **k: Any) -> Any:
            with warnings.catch_warnings():
                warnings.simplefilter("always", MelisoWarning)
                default_show = warnings.showwarning

                def show(message: Any, category: type[Warning], *rest: Any) -> None:
                    if issubclass(category, MelisoWarning):
                        _show_warning(message, category, *rest)
                    else:
                        default_show(message, category, *rest)

                warnings.showwarning = show  # type: ignore[assignment]
                try:
                    return fn(*a, **k)
                except ValueError as exc:  # ParameterError and the libraries' own checks
                    _fail(str(exc))
                except FileNotFoundError as exc:
                    _fail(str(exc) if not exc.filename else f"{exc.filename} does not exist")
                except OSError as exc:
                    _fail(_os_message(exc))
                except MemoryError:
                    _fail("out of memory: lower the sizes (the estimate before allocating "
                          "missed this case; please report it)")
        return app.command(*args, **kwargs)(guarded)
    return register


def _parse_value(text: str) -> Any:
    low = text.strip().lower()
    if low in {"none", "null"}:
        return None
    if low in {"true", "false"}:
        return low == "true"
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def _parse_sets(items: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        field, sep, value = item.partition("=")
        if not sep or not field.strip():
            _fail(f"--set expects FIELD=VALUE (e.g. --set sigma_c2c=0.02); got '{item}'")
        out[field.strip()] = _parse_value(value)
    return out


def _parse_shape(text: str, option: str) -> tuple[int, int]:
    parts = text.lower().replace("×", "x").split("x")
    try:
        rows, cols = (int(p) for p in parts)
    except ValueError:
        _fail(f"{option} expects ROWSxCOLS with positive integers (e.g. 32x32); got '{text}'")
    if rows < 1 or cols < 1:
        _fail(f"{option} expects positive sizes: allowed ROWS >= 1 and COLS >= 1; got '{text}'")
    return rows, cols


@_command()
def devices(
    as_json: Annotated[
        bool, typer.Option("--json", help="print a JSON object keyed by preset")
    ] = False,
) -> None:
    """List the device presets and their parameters."""
    presets = all_presets()
    if as_json:
        payload = {name: dev.model_dump() for name, dev in presets.items()}
        typer.echo(to_json(payload, indent=2))
        return
    analog = Table(title="Analog devices (multilevel, NeuroSim-compatible)")
    for col in ("name", "R_on (Ω)", "on/off", "levels LTP/LTD", "NL LTP/LTD", "C-to-C",
                "R_access (Ω)", "V_read (V)"):
        analog.add_column(col)
    binary = Table(title="Binary devices (LRS/HRS)")
    for col in ("name", "technology", "R_LRS (Ω)", "R_HRS (Ω)", "V_read (V)"):
        binary.add_column(col)
    for name, dev in presets.items():
        if isinstance(dev, AnalogDevice):
            analog.add_row(
                name, f"{dev.r_on_ohm:.3g}", f"{dev.on_off_ratio:g}",
                f"{dev.levels_ltp}/{dev.levels_ltd}", f"{dev.nl_ltp:g}/{dev.nl_ltd:g}",
                f"{100 * dev.sigma_c2c:g} %", f"{dev.r_access_ohm:.3g}", f"{dev.v_read_v:g}",
            )
        else:
            binary.add_row(name, dev.technology, f"{dev.r_lrs_ohm:.3g}", f"{dev.r_hrs_ohm:.3g}",
                           f"{dev.v_read_v:g}")
    _out.print(analog)
    _out.print(binary)
    _out.print("Citations: meliso devices --json")


@_command()
def vmm(
    device: Annotated[str, typer.Option(help="device preset (see `meliso devices`)")] = "Ag:a-Si",
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="override a device field, FIELD=VALUE (repeatable)"),
    ] = None,
    size: Annotated[str, typer.Option(help="matrix size ROWSxCOLS")] = "32x32",
    tile: Annotated[str, typer.Option(help="crossbar tile ROWSxCOLS (inputs x outputs)")] = "32x32",
    trials: Annotated[int, typer.Option(min=1, help="number of random (A, x) pairs")] = 1000,
    seed: Annotated[int, typer.Option(min=0, help="random seed")] = 0,
    model: Annotated[
        str, typer.Option(help="physics (meliso's) | neurosim (MELISO's NeuroSim, bit for bit)")
    ] = "physics",
    mapping: Annotated[
        str | None,
        typer.Option(help="differential | reference (default: the model's own)"),
    ] = None,
    calibration: Annotated[
        str | None,
        typer.Option(help="none | two-point (default: none for physics, two-point for neurosim)"),
    ] = None,
    programming: Annotated[str, typer.Option(help="open-loop | write-verify")] = "open-loop",
    input_bits: Annotated[
        int | None, typer.Option(help="bit-serial input bits (default: analog inputs)")
    ] = None,
    weight_slices: Annotated[
        int | None,
        typer.Option(help="devices per weight magnitude (bit slicing; binary devices: 8)"),
    ] = None,
    bits_per_slice: Annotated[
        int | None, typer.Option(help="bits per slice (binary devices: 1)")
    ] = None,
    r_bitline_ohm: Annotated[
        float, typer.Option(help="bit-line segment resistance per cell, ohm (0: ideal wire)")
    ] = 0.0,
    r_wordline_ohm: Annotated[
        float, typer.Option(help="word-line segment resistance per cell, ohm (0: ideal wire)")
    ] = 0.0,
    circuit: Annotated[
        str, typer.Option(help="auto | ideal | chain | ladder | nodal (meliso.circuit)")
    ] = "auto",
    topology: Annotated[str, typer.Option(help="1t1r | passive")] = "1t1r",
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Monte-Carlo VMM error population: A ~ U[-1, 1], x ~ U[0, 1], e = y - A x.

    Binary (LRS/HRS) presets store bit-sliced weights on differential pairs.
    """
    from .workloads import vmm_population

    rows, cols = _parse_shape(size, "--size")
    tile_rows, tile_cols = _parse_shape(tile, "--tile")
    dev = get_device(device, **_parse_sets(set_ or []))
    t0 = time.perf_counter()
    pop = vmm_population(
        dev, trials=trials, rows=rows, cols=cols, seed=seed, model=model, mapping=mapping,
        calibration=calibration, programming=programming, input_bits=input_bits,
        tile_rows=tile_rows, tile_cols=tile_cols, weight_slices=weight_slices,
        bits_per_slice=bits_per_slice, r_bitline_ohm=r_bitline_ohm,
        r_wordline_ohm=r_wordline_ohm, circuit=circuit, topology=topology,
    )
    elapsed = time.perf_counter() - t0
    stats = summarize(pop.errors, pop.exact)
    result: dict[str, Any] = {k: stats[k] for k in POPULATION_KEYS}
    for k in ("n", "n_nonfinite"):
        result[k] = int(result[k])
    core = pop.core
    extra: dict[str, Any] = {
        "device": dev.name, "model": core.model, "trials": trials, "size": [rows, cols],
        "mapping": core.mapping, "calibration": core.config.resolved_calibration,
        "programming": programming, "input_bits": input_bits,
        "weight_slices": pop.core.slicing.slices, "bits_per_slice": pop.core.slicing.bits,
        "mad": stats["mad"], "max_abs": stats["max_abs"], "seconds": elapsed,
        "r_bitline_ohm": r_bitline_ohm, "r_wordline_ohm": r_wordline_ohm,
        "circuit": circuit, "topology": topology,
    }
    extra.update(pop.calibration_diagnostics())
    extra.update(pop.core.programming_summary())
    if as_json:
        typer.echo(to_json({**result, **extra}))
        return
    wires = (f", wires {r_bitline_ohm:g} Ω (bit) / {r_wordline_ohm:g} Ω (word) per segment, "
             f"{topology}" if r_bitline_ohm or r_wordline_ohm else "")
    table = Table(title=f"VMM error population: {dev.name}, {core.model} model, "
                        f"{trials} × {rows}×{cols}, {core.mapping} mapping, calibration "
                        f"{extra['calibration']}{wires}")
    table.add_column("statistic")
    table.add_column("value", justify="right")
    for key, value in result.items():
        table.add_row(key, f"{value:.6g}" if isinstance(value, float) else str(value))
    share = extra.get("sq_error_share_smallest_span_1pct")
    if share is not None:
        table.add_row("Σe² share, 1 % smallest |d−m| rows", f"{share:.3f}")
        table.add_row("rows with calibration sign flip", f"{extra['sign_flip_fraction']:.3f}")
        table.add_row("rows with d = m (inf/NaN)", str(extra["zero_span_rows"]))
    table.add_row("pulses per cell (mean)", f"{extra['pulses_mean']:.4g}")
    _out.print(table)
    _out.print(f"{elapsed:.3f} s")
    if share is not None and share > 0.5:
        _out.print(f"[yellow]the moments are dominated by a few rows: the 1 % of rows with the "
                   f"smallest calibration span carry {100 * share:.0f} % of Σe²; read the median, "
                   "IQR and percentiles instead[/]")
    if result["n_nonfinite"]:
        _out.print(f"[yellow]{result['n_nonfinite']} non-finite errors (inf/NaN) were excluded "
                   "from the moments and percentiles[/]")


class _Progress:
    """Run progress on stderr: one Rich bar per experiment, or log lines with ``--quiet``."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self._bar: Any = None

    def start(self, name: str) -> Callable[[int, int, dict[str, Any], bool], None]:
        """A callback for one experiment's points (closes the previous experiment's bar)."""
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self.close()

        def label(record: dict[str, Any]) -> str:
            return ", ".join(f"{k}={v}" for k, v in record.get("params", {}).items()) or "base"

        if self.quiet:
            def log(done: int, total: int, record: dict[str, Any], cached: bool) -> None:
                what = "cached" if cached else f"{record.get('seconds_simulation', 0):.2f} s"
                _err.print(f"[{name}] {done}/{total} {label(record)} ({what})", highlight=False)
            return log
        bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                       MofNCompleteColumn(), TextColumn("{task.fields[last]}"), console=_err)
        task = bar.add_task(name, total=None, last="")
        bar.start()
        self._bar = bar

        def update(done: int, total: int, record: dict[str, Any], cached: bool) -> None:
            bar.update(task, completed=done, total=total,
                       last=label(record) + (" (cached)" if cached else ""))
        return update

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


CORE_KEYS = ("encoding", "crossbar", "adc_bits", "error_mean", "error_rms",
             "energy_per_mac_j", "mac_per_joule", "column_utilisation")


@_command("core")
def core_cmd(
    technology: Annotated[str, typer.Option(help="binary device (seed 003 Table III)")] = (
        "ReRAM-1"),
    encoding: Annotated[str, typer.Option(help="B-I | B-II | T-I | T-II (seed 003 Table I)")] = (
        "T-I"),
    crossbar: Annotated[int, typer.Option(
        min=2, max=8192, help="crossbar size N (N x N cells, N/2 weights per row)")] = 128,
    adc_bits: Annotated[
        int | None, typer.Option(help="ADC resolution in bits (default: ideal, unlimited)")
    ] = None,
    r_wire: Annotated[float, typer.Option(
        help="bit-line segment resistance R_p per cell, ohm (seed 003 Algorithm 1)")] = 0.0,
    r_wordline_ohm: Annotated[float, typer.Option(
        help="word-line segment resistance per cell, ohm (solved by nodal analysis)")] = 0.0,
    circuit: Annotated[str, typer.Option(help="auto | chain | ladder | nodal")] = "auto",
    size: Annotated[str, typer.Option(
        help="matrix INPUTSxOUTPUTS (default: LeNet-5's average, seed 003 Table II)")] = "286x64",
    vectors: Annotated[int, typer.Option(min=1, help="random input vectors")] = 1000,
    profile_vectors: Annotated[int, typer.Option(min=1,
        help="profiling vectors for the ADC calibration (eqs. 6-7)")] = 200,
    calibrate: Annotated[bool, typer.Option(
        help="calibrate the layer scale s_l when the ADC has finite bits")] = True,
    weights: Annotated[str, typer.Option(
        help="binary | ternary | auto (binary for B-*, ternary for T-*)")] = "auto",
    zero_fraction: Annotated[float, typer.Option(
        help="share of zeros in ternary weights and inputs")] = 1 / 3,
    tech_nm: Annotated[float, typer.Option(help="CMOS node of ADC and row drivers, nm")] = 32.0,
    row_driver: Annotated[str, typer.Option(
        help="row-driver energy: per-column (scales with the word line) | constant")] = (
        "per-column"),
    seed: Annotated[int, typer.Option(min=0, help="random seed")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Binary/ternary matrix-vector population on a binary 1T1R core: error against the exact
    integer product, energy per MAC (seed 003 eqs. 8-9) and column utilisation."""
    from .periphery.energy import EnergyModel
    from .workloads import binary_vmm_population

    rows, cols = _parse_shape(size, "--size")
    if row_driver not in ("per-column", "constant"):
        _fail(f"--row-driver = {row_driver!r}: allowed per-column or constant")
    energy = validate_model(EnergyModel, {
        "tech_nm": tech_nm, "row_driver_scales_with_columns": row_driver == "per-column"})
    t0 = time.perf_counter()
    pop = binary_vmm_population(
        technology, encoding, crossbar, adc_bits, size=(rows, cols), vectors=vectors,
        profile_vectors=profile_vectors, weights=weights,  # type: ignore[arg-type]
        zero_fraction=zero_fraction, calibrate=calibrate, r_bitline_ohm=r_wire,
        r_wordline_ohm=r_wordline_ohm, circuit=circuit, seed=seed, energy=energy,
    )
    elapsed = time.perf_counter() - t0
    result = {**pop.summary(), "seconds": elapsed}
    if as_json:
        typer.echo(to_json(result))
        return
    table = Table(title=f"Binary core: {result['technology']}, {result['encoding']}, crossbar "
                        f"{crossbar}x{crossbar}, ADC "
                        f"{'ideal' if adc_bits is None else f'{adc_bits} bits'}, matrix "
                        f"{rows}x{cols}, {vectors} vectors")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    rows_out = [
        ("error mean", f"{result['error_mean']:.4g}"),
        ("error rms", f"{result['error_rms']:.4g}"),
        ("error max |e|", f"{result['error_max_abs']:.4g}"),
        ("exact outputs", f"{100 * result['exact_fraction']:.1f} %"),
        ("rms of x·W", f"{result['rms_exact']:.4g}"),
        ("layer scale s_l", f"{result['adc_scale']:.4g}"),
        ("energy per MAC", f"{1e15 * result['energy_per_mac_j']:.4g} fJ"),
        ("  row drivers / ADC / cells", " / ".join(
            f"{100 * result[k] / result['energy_j']:.0f} %"
            for k in ("row_driver_energy_j", "adc_energy_j", "cell_energy_j"))),
        ("MAC per joule", f"{result['mac_per_joule']:.4g}"),
        ("column utilisation", f"{100 * result['column_utilisation']:.1f} %"),
        ("MVM cycles / ADC conversions", f"{result['mvm_cycles']} / {result['adc_conversions']}"),
    ]
    for key, value in rows_out:
        table.add_row(key, value)
    _out.print(table)
    _out.print(f"{elapsed:.3f} s")


def _linalg_matrix(matrix: str, device: str, tile: str, residual_arrays: int,
                   programming: str, set_: list[str] | None) -> tuple[Any, Any]:
    from .linalg import CrossbarMatrix, problem

    rows, cols = _parse_shape(tile, "--tile")
    dev = get_device(device, **_parse_sets(set_ or []))
    exact = problem(matrix)
    return exact, CrossbarMatrix(exact, dev, tile=(rows, cols), residual_arrays=residual_arrays,
                                 programming=programming)


MatrixOpt = Annotated[str, typer.Option(
    help="a Matrix Market file, poisson2d:N (N^2 unknowns) or random-spd:N")]
ArraysOpt = Annotated[int, typer.Option(min=0, max=8,
    help="residual arrays: program the measured error of the arrays so far, k times")]


@_command()
def solve(
    matrix: MatrixOpt = "poisson2d:32",
    device: Annotated[str, typer.Option(help="device preset")] = "EpiRAM",
    method: Annotated[str, typer.Option(
        help="cg | gmres | richardson | jacobi | kaczmarz")] = "cg",
    refine: Annotated[bool, typer.Option(
        "--refine/--no-refine", help="mixed-precision refinement around the method")] = True,
    tol: Annotated[float, typer.Option(help="target ||b - A x|| / ||b|| (exact A, float64)")] = (
        1e-10),
    maxiter: Annotated[int, typer.Option(min=1, max=1_000_000,
                                         help="iterations (outer ones with --refine)")] = 100,
    tile: Annotated[str, typer.Option(help="crossbar tile ROWSxCOLS")] = "256x256",
    residual_arrays: ArraysOpt = 6,
    programming: Annotated[str, typer.Option(help="open-loop | write-verify")] = "write-verify",
    set_: Annotated[list[str] | None, typer.Option("--set", help="device FIELD=VALUE")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Solve A x = b (b = ones) with every matrix-vector product on simulated crossbars.

    The defaults (write-and-verify programming, six residual arrays, refinement around CG)
    reach 1e-10 on 2-D Poisson for every device of Chowdhury et al. Table I; fewer arrays or
    open-loop programming show where the analog products alone stop."""
    import numpy as np

    from .linalg import METHODS
    from .linalg import solve as solve_system

    if method not in METHODS:
        _fail(f"--method = {method!r}: allowed {', '.join(METHODS)}")
    if not 0 < tol < 1:
        _fail(f"--tol = {tol}: allowed 0 < tol < 1")
    t0 = time.perf_counter()
    exact, hw = _linalg_matrix(matrix, device, tile, residual_arrays, programming, set_)
    if exact.shape[0] != exact.shape[1]:
        _fail(f"--matrix {matrix}: A is {exact.shape[0]}x{exact.shape[1]}; solving A x = b "
              "needs a square matrix (use `meliso matvec` for products)")
    t_program = time.perf_counter() - t0
    t0 = time.perf_counter()
    res = solve_system(hw, np.ones(exact.shape[0]), exact, method=method, refined=refine,
                       tol=tol, maxiter=maxiter)
    t_solve = time.perf_counter() - t0
    out = {**res.summary(), "unknowns": int(exact.shape[0]), "tiles": hw.n_tiles,
           "arrays": hw.arrays, "device": get_device(device).name,
           "seconds_programming": t_program, "seconds_solve": t_solve,
           **{f"programming_{k}": v for k, v in hw.programming_summary().items()}}
    if as_json:
        typer.echo(to_json(out))
        return
    state = "converged" if res.converged else "did not converge"
    _out.print(f"{res.method} on {out['device']}, {out['unknowns']} unknowns, {hw.n_tiles} tiles "
               f"x {hw.arrays} arrays: {state} after {res.iterations} iterations, "
               f"||b - A x|| / ||b|| = {res.relative_residual:.3e}, {res.mvms} crossbar MVMs, "
               f"{res.energy_j:.3e} J, {t_solve:.2f} s (programming {t_program:.2f} s)")


@_command()
def matvec(
    matrix: MatrixOpt = "poisson2d:32",
    device: Annotated[str, typer.Option(help="device preset")] = "EpiRAM",
    tile: Annotated[str, typer.Option(help="crossbar tile ROWSxCOLS")] = "256x256",
    residual_arrays: ArraysOpt = 0,
    programming: Annotated[str, typer.Option(help="open-loop | write-verify")] = "open-loop",
    vectors: Annotated[int, typer.Option(min=1, max=100_000,
                                         help="random x ~ N(0, 1) vectors")] = 10,
    seed: Annotated[int, typer.Option(min=0, help="random seed of x")] = 0,
    set_: Annotated[list[str] | None, typer.Option("--set", help="device FIELD=VALUE")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """One product y = A x on simulated crossbars: error statistics against the exact A x."""
    from .linalg import product_errors

    exact, hw = _linalg_matrix(matrix, device, tile, residual_arrays, programming, set_)
    out = {"unknowns": int(exact.shape[0]), "tiles": hw.n_tiles, "arrays": hw.arrays,
           **product_errors(hw, exact, vectors=vectors, seed=seed)}
    if as_json:
        typer.echo(to_json(out))
        return
    _out.print(", ".join(f"{k} = {v:.4g}" if isinstance(v, float) else f"{k} = {v}"
                         for k, v in out.items()))


ExecutorOpt = Annotated[str, typer.Option(help="serial | dask")]
WorkersOpt = Annotated[int | None, typer.Option(help="Dask LocalCluster workers (default 2)")]
SchedulerOpt = Annotated[str | None, typer.Option(help="address of an existing Dask scheduler")]
TimeoutOpt = Annotated[float, typer.Option(
    help="seconds to wait for the Dask scheduler before giving up")]
QuietOpt = Annotated[bool, typer.Option("--quiet", help="log lines instead of a progress bar")]
ForceOpt = Annotated[bool, typer.Option(
    "--force", help="recompute a finished run in place (its earlier results are removed)")]


def _executor(kind: str, workers: int | None, scheduler: str | None, timeout_s: float) -> Any:
    from .experiments.executor import Executor

    return validate_model(Executor, {"kind": kind, "workers": workers, "scheduler": scheduler,
                                     "timeout_s": timeout_s})


@_command()
def run(
    experiment: Annotated[str, typer.Argument(help="experiment YAML file")],
    out: Annotated[str | None, typer.Option(help="run directory (default: runs/NAME)")] = None,
    executor: ExecutorOpt = "serial",
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    scheduler_timeout: TimeoutOpt = 10.0,
    force: ForceOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Run an experiment file: every sweep point, cached and resumable, then its report."""
    from .experiments import load_experiment
    from .experiments.runner import run_experiment

    ex = _executor(executor, workers, scheduler, scheduler_timeout)
    config = load_experiment(experiment)
    out_dir = out or f"runs/{config.name}"
    with _Progress(quiet) as progress:
        result = run_experiment(config, out_dir, executor=ex, force=force,
                                on_point=progress.start(config.name))
    failed = sum(1 for r in result.rows if r.get("status") == "failed")
    _out.print(f"{len(result.rows)} points ({result.computed} computed, {result.cached} cached) "
               f"-> {result.run_dir}/results.parquet, {result.run_dir}/report.md")
    if failed:
        _err.print(f"[yellow]warning:[/] {failed} of {len(result.rows)} points failed (no finite "
                   "output); report.md lists them with the reason", highlight=False)


@_command()
def report(
    run_dir: Annotated[str, typer.Argument(
        help="a run or study folder meliso wrote (meliso run, meliso reproduce)")],
) -> None:
    """Rebuild a run's or a study's figures and report from its stored results."""
    from .studies import rebuild_report

    _out.print(f"wrote {rebuild_report(run_dir)}")


@_command()
def reproduce(
    study: Annotated[str, typer.Argument(
        help="meliso (Chowdhury et al. 2024: VMM errors) | cim (Cubero-Cascante et al. 2025: "
             "BNN/TNN on crossbars)")],
    out: Annotated[str | None, typer.Option(help="output directory (default: runs/STUDY)")] = None,
    quick: Annotated[bool, typer.Option(
        "--quick", help="meliso: 100 trials per point; cim: fewer technologies, sizes, R_p, "
                        "ADC bits and images")] = False,
    model: Annotated[str, typer.Option(help="meliso: physics | neurosim | both")] = "both",
    dataset: Annotated[str, typer.Option(
        help="cim: mnist5k (bundled) | digits (bundled) | mnist | cifar10 (need --data-dir)")
    ] = "mnist5k",
    data_dir: Annotated[str | None, typer.Option(
        help="cim: folder with the MNIST IDX files or a CIFAR-10 release")] = None,
    executor: ExecutorOpt = "serial",
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    scheduler_timeout: TimeoutOpt = 10.0,
    force: ForceOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Reproduce a paper's study end to end: CSVs, figures and a report (cached, resumable)."""
    from .studies.vmm_errors.study import MODELS, reproduce_meliso

    if study not in ("meliso", "cim"):
        _fail(f"study = '{study}': allowed studies are: meliso, cim")
    if model not in ("physics", "neurosim", "both"):
        _fail(f"--model = '{model}': allowed physics, neurosim or both")
    ex = _executor(executor, workers, scheduler, scheduler_timeout)
    out_dir = out or (f"runs/{study}-quick" if quick else f"runs/{study}")
    t0 = time.perf_counter()
    with _Progress(quiet) as progress:
        if study == "cim":
            from .studies.bnn_tnn.run import reproduce_cim

            report_path = reproduce_cim(
                out_dir, dataset=dataset, quick=quick, data_dir=data_dir, executor=ex,
                force=force, on_point=progress.start("cim"),
                log=lambda msg: _err.print(msg, highlight=False))
            what = f"Cubero-Cascante et al. study on {dataset}"
        else:
            models = MODELS if model == "both" else (model,)
            report_path = reproduce_meliso(out_dir, quick=quick, models=models, executor=ex,
                                           force=force, on_point=progress.start)
            what = f"MELISO study ({', '.join(models)})"
    _out.print(f"{what} in {time.perf_counter() - t0:.1f} s -> {report_path}")


@_command()
def train(
    net: Annotated[str, typer.Argument(help="lenet5 | vgg7")],
    quant: Annotated[str, typer.Argument(help="BNN | TNN")],
    dataset: Annotated[str, typer.Option(
        help="digits | mnist5k (bundled) | mnist | cifar10 (need --data-dir)")] = "mnist5k",
    data_dir: Annotated[str | None, typer.Option(help="folder of MNIST / CIFAR-10 files")] = None,
    epochs: Annotated[int | None, typer.Option(min=1, max=10_000,
                                               help="epochs (default: lenet5 15, vgg7 50)")] = (
        None),
    seed: Annotated[int, typer.Option(min=0, help="random seed")] = 0,
    out: Annotated[str | None, typer.Option(
        help="checkpoint path (default: runs/checkpoints/NET-QUANT-DATASET.pt)")] = None,
    force: Annotated[bool, typer.Option(
        "--force", help="replace an existing meliso checkpoint at --out")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Train a binary or ternary network (Cubero-Cascante et al. recipe) and save a checkpoint
    with its test accuracy."""
    try:
        from .nn import load_checkpoint, save_checkpoint
        from .nn import train as train_net
    except ImportError as exc:
        _fail(str(exc))
    from .data import load_dataset

    path = Path(out or f"runs/checkpoints/{net}-{quant}-{dataset}.pt")
    if path.exists():
        if not force:
            _fail(f"{path} exists; checkpoints are never overwritten: choose another --out, or "
                  "--force to replace it")
        load_checkpoint(path)  # --force replaces only a meliso checkpoint
    data = load_dataset(dataset, data_dir)
    result = train_net(net, quant, data, epochs=epochs, seed=seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_checkpoint(result, path)
    summary = {"net": net, "quant": quant, "dataset": dataset, "epochs": result.epochs,
               "accuracy": result.accuracy, "seconds": result.seconds, "checkpoint": str(path)}
    if as_json:
        typer.echo(to_json(summary))
        return
    _out.print(f"{net} {quant} on {dataset}: test accuracy {100 * result.accuracy:.2f} % after "
               f"{result.epochs} epochs ({result.seconds:.1f} s) -> {path}")


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        _err.print("interrupted; finished points are kept and a re-run resumes", highlight=False)
        sys.exit(130)


if __name__ == "__main__":
    main()
