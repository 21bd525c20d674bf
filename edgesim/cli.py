"""The edgesim command line: a thin layer over the public API.

Exit codes: 0 success; 2 bad input (one line on stderr starting ``error:``, no traceback, no
partial output file left behind); 1 a bug (traceback shown); 141 the reader of stdout closed
the pipe early (as ``| head`` does; nothing printed); 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from edgesim import fileio
from edgesim.errors import EdgesimError, SearchError
from edgesim.version import __version__


class _UsageError(EdgesimError):
    """Bad command-line usage (reported like any bad input)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse would print usage and exit(2) itself
        raise _UsageError(message)


def _outputs_have_directories(outputs: Sequence[tuple[str | None, str]]) -> None:
    """Each ``(path, flag)`` a writable file (``fileio.check_output_file``), checked before any
    work; ``-`` (stdout) is for ``--json`` only."""
    for dest, flag in outputs:
        if dest == "-" and flag != "--json":
            raise _UsageError("only --json writes to stdout ('-'); give a file", field=flag)
        if dest and dest != "-":
            fileio.check_output_file(Path(dest), flag)


def write_atomic(path: Path, write: Callable[[Path], None]) -> None:
    """Write a file through a temporary sibling so a failure leaves nothing behind; a missing
    directory is bad input (the command line creates none)."""
    path = Path(path)
    if path.parent and not path.parent.exists():
        raise _UsageError(f"directory {str(path.parent)!r} does not exist", field=str(path))
    fileio.write_atomic(path, write)


def _write_text(path: Path, text: str) -> None:
    path.write_text(text)


def _parse_sets(pairs: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise _UsageError(f"--set expects KEY=VALUE, got {pair!r}", field="--set")
        out[key.strip()] = value.strip()
    return out


def _load_with_sets(ref: str, overrides: dict[str, str]) -> Any:
    """The spec ``ref`` with ``--set`` overrides; an error the overrides cause names the flag
    and the key (the spec alone is loaded first, so its own errors name its file)."""
    from edgesim.errors import SpecError
    from edgesim.hardware import load_hardware

    hw = load_hardware(ref)
    if not overrides:
        return hw
    try:
        return load_hardware(ref, overrides=overrides)
    except SpecError as exc:
        keys = [k for k in overrides if exc.field in (k, None)] or list(overrides)
        where = keys[0] if len(keys) == 1 else ", ".join(keys)
        detail = exc.detail if exc.field in (where, None) else f"{exc.field}: {exc.detail}"
        raise _UsageError(f"{where}={overrides[keys[0]]!r}: {detail}" if len(keys) == 1
                          else f"{where}: {detail}", field="--set") from None


def _cmd_specs(args: argparse.Namespace) -> int:
    from edgesim import hardware

    if args.specs_cmd == "list":
        for name in hardware.list_hardware():
            hw = hardware.load_hardware(name)
            print(f"{name:<14} {hardware.summary(hw)}")
        return 0
    if args.specs_cmd == "show":
        hw = _load_with_sets(args.name, _parse_sets(args.set))
        sys.stdout.write(hardware.spec_to_yaml(hw))
        return 0
    # validate: every file, report the first bad one
    for path in args.paths:  # a file, or a built-in spec by name (as show takes)
        hw = (hardware.load_hardware(path) if not Path(path).exists()
              and path in hardware.list_hardware() else hardware.validate_spec_file(path))
        print(f"ok: {path}")
        for warning in hardware.spec_warnings(hw):
            print(f"warning: {path}: {warning}", file=sys.stderr)
    return 0


def _cmd_simulate(args: argparse.Namespace) -> int:
    from edgesim.hardware.load import SpecLoader
    from edgesim.provenance import stamp
    from edgesim.report.runs import extras_for_json
    from edgesim.sim import simulate
    from edgesim.workload import load_workload

    if args.batch is not None and args.batch < 1:
        raise _UsageError(f"must be a positive integer, got {args.batch}", field="--batch")
    _outputs_have_directories([(args.json, "--json"), (args.timeline, "--timeline"),
                               (args.layers_csv, "--layers-csv")])
    overrides = _parse_sets(args.set)
    hw = _load_with_sets(args.hw, overrides)
    wl = load_workload(args.model)
    res = simulate(wl, hw, mode=args.mode, batch=args.batch)
    from edgesim.hardware import spec_warnings

    for warning in spec_warnings(hw):  # a design --set made, as specs validate would say
        print(f"warning: {warning}", file=sys.stderr)
    prov = stamp({"hardware": (args.hw, SpecLoader(args.hw).sha256(overrides)),
                  "model": (args.model, wl.sha256())})
    payload = json.dumps({**res.to_dict(), **extras_for_json(hw), "provenance": prov}, indent=2)
    if args.timeline:
        from edgesim.report.timeline import write_chrome_trace

        if args.mode != "des":
            raise _UsageError("a timeline needs --mode des", field="--timeline")
        write_atomic(Path(args.timeline), lambda p: write_chrome_trace(res, p))
    if args.layers_csv:
        frame = res.to_frame().assign(  # provenance on every row, as compare and sweep
            edgesim_version=prov["edgesim"],
            hardware_sha256=prov["inputs"]["hardware"]["sha256"],
            model_sha256=prov["inputs"]["model"]["sha256"])
        write_atomic(Path(args.layers_csv), lambda p: frame.to_csv(p, index=False))
    if args.json == "-":
        sys.stdout.write(payload + "\n")
        return 0
    if args.json:
        write_atomic(Path(args.json), lambda p: _write_text(p, payload + "\n"))
    print(res.summary())
    return 0


def _output_dir(dest: str, flag: str) -> Path:
    """``dest`` as a directory this process can write (created if missing), checked before any
    work; anything else is bad input naming ``flag``."""
    if not dest.strip():
        raise _UsageError("give a directory", field=flag)
    out = Path(dest)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _UsageError(f"cannot create directory {dest!r}: {exc.strerror or exc}",
                          field=flag) from None
    if not out.is_dir() or not os.access(out, os.W_OK | os.X_OK):
        raise _UsageError(f"{dest!r} is not a directory this user can write", field=flag)
    return out


def _cmd_demo(args: argparse.Namespace) -> int:
    from edgesim.report.demo import run_demo

    run_demo(_output_dir(args.out or "reports", "--out"))
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from edgesim.report.gather import report_from

    out = _output_dir(args.out, "--out")
    files = report_from(args.sources, out)
    print(f"report: {out / 'index.html'} ({len(files)} files)")
    return 0


def _cmd_search(args: argparse.Namespace) -> int:
    from edgesim.search.config import load_config
    from edgesim.search.run import provenance, run_config

    out = Path(args.out)
    ckpt = out / "checkpoint.pkl"
    cfg = load_config(args.config)
    if args.executor:
        cfg = cfg.model_copy(update={"executor": args.executor})
    if ckpt.exists() and not args.resume:
        raise _UsageError(f"{out} holds a checkpoint of an earlier search: pass --resume to "
                          f"continue it, or choose another --out", field="--out")
    if args.resume and not ckpt.exists():
        raise _UsageError(f"no checkpoint in {out} to resume", field="--resume")
    fileio.check_output_dir(out, "--out")
    cfg = cfg.model_copy(update={"checkpoint": str(ckpt)})
    try:
        res = run_config(cfg, prepare=lambda: out.mkdir(parents=True, exist_ok=True))
    except SearchError as exc:  # about the config (a spec or model error names its own file)
        if exc.file is None:
            raise SearchError(exc.detail, file=args.config, field=exc.field) from None
        raise
    res.write(out)
    write_atomic(out / "run.json", lambda p: _write_text(p, json.dumps(
        provenance(cfg, res.oracle), indent=2, default=str) + "\n"))
    front = res.pareto
    print(f"{len(res.history)} candidates evaluated, {len(front)} on the Pareto front; "
          f"written to {out}/ (pareto.csv, history.csv, pareto.png, front/, run.json)")
    if res.closest is not None:
        row = res.history.loc[res.history["id"] == res.closest].iloc[0]
        shown = ", ".join(f"{k}={row[k]:.4g} (limit {v:.4g})"
                          for k, v in res.constraints.items())
        print(f"no candidate meets the constraints; the closest is id {res.closest}: {shown}",
              file=sys.stderr)
    return 0


def _parse_sweep_sets(pairs: Sequence[str]) -> dict[str, list[object]]:
    from edgesim.hardware import parse_override_value

    out: dict[str, list[object]] = {}
    for key, value in _parse_sets(pairs).items():
        values = [v.strip() for v in value.split(",")]
        if not all(values):
            raise _UsageError(f"--set expects KEY=V1,V2,..., got {key}={value!r}",
                              field="--set")
        out[key] = [parse_override_value(v) for v in values]
    return out


def _cmd_sweep(args: argparse.Namespace) -> int:
    from edgesim.search.sweep import RESULT_COLUMNS, plot_sweep, sweep

    if args.batch is not None and args.batch < 1:
        raise _UsageError(f"must be a positive integer, got {args.batch}", field="--batch")
    _outputs_have_directories([(args.csv, "--csv"), (args.plot, "--plot")])
    sets = _parse_sweep_sets(args.set)
    try:
        table = sweep(args.hw, args.model, sets, mode=args.mode, batch=args.batch)
    except SearchError as exc:  # a bad KEY=VALUE: name the flag, as simulate does
        if exc.field and "=" in exc.field:
            raise _UsageError(f"{exc.field}: {exc.detail}", field="--set") from None
        raise
    if args.csv:
        write_atomic(Path(args.csv), lambda p: table.to_csv(p, index=False))
    if args.plot:
        write_atomic(Path(args.plot), lambda p: plot_sweep(table, list(sets), p))
    shown = table[[*sets, *[c for c in RESULT_COLUMNS if c in ("latency_s", "energy_j",
                                                              "area_mm2", "dram_read_bytes")]]]
    print(shown.to_string(index=False))
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from edgesim.report.compare import compare, compare_html, variants

    if args.batch is not None and args.batch < 1:
        raise _UsageError(f"must be a positive integer, got {args.batch}", field="--batch")
    try:
        chosen = variants(args.variant)
    except EdgesimError as exc:
        raise _UsageError(exc.detail, field="--variant") from None
    _outputs_have_directories([(args.csv, "--csv"), (args.html, "--html")])
    table = compare(args.hw, args.model, [v.value for v in chosen] or ["dense"],
                    mode=args.mode, batch=args.batch)
    if args.csv:
        write_atomic(Path(args.csv), lambda p: table.to_csv(p, index=False))
    if args.html:
        page = compare_html(table, [*args.hw, *args.model])
        write_atomic(Path(args.html), lambda p: _write_text(p, page))
    shown = ["hardware", "workload", "variant", "latency_s", "energy_j", "area_mm2",
             "weight_bytes", "dram_read_bytes", "dram_write_bytes"]
    print(table[shown].to_string(index=False))
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from edgesim.validate import Check, validate
    from edgesim.validate.run import measured_specs, stderr_progress

    checks = []
    for name in args.check:
        try:
            checks.append(Check(name))
        except ValueError:
            known = ", ".join(c.value for c in Check)
            raise _UsageError(f"unknown check {name!r} (use {known})", field="--check") from None
    device_check = {"host": Check.HOST, "cuda": Check.CUDA}.get(args.device or "")
    if device_check is not None:
        if not checks:  # with no --check: every cross-check, then this machine
            checks = [c for c in Check if c.value not in ("host", "cuda")]
        if device_check not in checks:
            checks.append(device_check)
    out = Path(args.out) if args.out else None
    if out is not None:
        fileio.check_output_dir(out, "--out")
    host_spec, gpu_spec = measured_specs(checks, args.hw)
    tables = validate(checks or None, out, stderr_progress, host_spec=host_spec,
                      gpu_spec=gpu_spec)
    for check, df in tables.items():
        print(f"== {check.value} ==")
        print(df.to_string(index=False))
        print()
    if out is not None:
        print(f"tables: {out}/")
    return 0


def _line_progress() -> Callable[[str], None]:
    """Progress lines on stderr: rewritten in place on a terminal, one per line otherwise."""
    tty = sys.stderr.isatty()

    def say(msg: str) -> None:
        if tty:
            print("\r" + msg[:110].ljust(110), end="", file=sys.stderr, flush=True)
        else:
            print(msg, file=sys.stderr, flush=True)

    return say


def _cmd_calibrate(args: argparse.Namespace) -> int:
    from edgesim.calibrate.run import calibrate, measurements_path, summary_lines

    out = Path(args.out)
    if out.suffix not in (".yaml", ".yml"):
        raise _UsageError(f"expected a .yaml file to write the spec to, got {args.out!r}",
                          field="--out")
    _outputs_have_directories([(args.out, "--out")])
    if not os.access(out.parent, os.W_OK | os.X_OK):
        raise _UsageError(f"cannot write under {str(out.parent)!r}", field="--out")
    if args.from_file:
        given = [f for f, v in (("--threads", args.threads), ("--form", args.form),
                                ("--quick", args.quick or None), ("--device", args.device))
                 if v is not None]
        if given:
            raise _UsageError(f"{given[0]} is what was measured: the measurements file says it "
                              "(drop it with --from)", field=given[0])
    threads = 1 if args.threads is None else args.threads
    if threads < 1:
        raise _UsageError(f"expected a positive number of threads, got {threads}",
                          field="--threads")
    say = _line_progress()
    result = calibrate(out, threads=threads, form=args.form or "eager", quick=args.quick,
                       from_path=Path(args.from_file) if args.from_file else None, progress=say,
                       device=args.device or "cpu")
    if sys.stderr.isatty():
        print(file=sys.stderr)
    print("\n".join(summary_lines(result)))
    print(f"spec: {out}")
    print(f"measurements: {measurements_path(out)}")
    return 0


def _add_mode_and_batch(p: argparse.ArgumentParser) -> None:
    """``--mode`` and ``--batch``, as every command that simulates takes them."""
    p.add_argument("--mode", choices=["analytic", "des"], default="analytic")
    p.add_argument("--batch", type=int, default=None)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="edgesim", description="Latency, energy and area of DNNs on edge hardware.",
                epilog="Run 'edgesim COMMAND -h' for a command's options. Exit codes: 0 done, 2 "
                       "bad input (one 'error:' line), 1 a bug.")
    p.add_argument("--version", action="store_true", help="print edgesim's version and exit")
    sub = p.add_subparsers(dest="cmd", metavar="COMMAND", parser_class=_Parser)

    specs = sub.add_parser("specs", help="list, show and validate hardware specs")
    ssub = specs.add_subparsers(dest="specs_cmd", required=True, parser_class=_Parser,
                                metavar="{list,show,validate}")
    ssub.add_parser("list", help="built-in specs, one line each")
    show = ssub.add_parser("show", help="the resolved spec as YAML, units included")
    show.add_argument("name", help="built-in name or path to a YAML spec")
    show.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    val = ssub.add_parser("validate", help="exit 0 when every file is valid")
    val.add_argument("paths", nargs="+")
    specs.set_defaults(func=_cmd_specs)

    sim = sub.add_parser("simulate", help="simulate a workload on a hardware spec")
    sim.add_argument("--hw", required=True, help="built-in spec name or YAML path")
    sim.add_argument("--model", required=True, help="zoo name, workload YAML or .onnx path")
    _add_mode_and_batch(sim)
    sim.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                     help="override a spec field, e.g. compute.pe_array.rows=16")
    sim.add_argument("--json", metavar="FILE|-", help="write the result JSON ('-' for stdout)")
    sim.add_argument("--timeline", metavar="FILE.json", help="Chrome-trace timeline (des mode)")
    sim.add_argument("--layers-csv", metavar="FILE", help="one row per layer (SimResult.to_frame)")
    sim.set_defaults(func=_cmd_simulate)

    search = sub.add_parser("search", help="search compression and hardware (pymoo NSGA-II, "
                                           "grid, random)")
    search.add_argument("config", help="search YAML (the keys of es.search.run)")
    search.add_argument("--out", required=True, help="directory for the results and checkpoints")
    search.add_argument("--executor", default=None,
                        help="serial, processes, or a Dask scheduler address tcp://HOST:PORT")
    search.add_argument("--resume", action="store_true",
                        help="continue the search whose checkpoint is in --out")
    search.set_defaults(func=_cmd_search)

    sw = sub.add_parser("sweep", help="simulate every combination of spec field values")
    sw.add_argument("--hw", required=True, help="built-in spec name or YAML path")
    sw.add_argument("--model", required=True, help="zoo name, workload YAML or .onnx path")
    sw.add_argument("--set", action="append", default=[], metavar="KEY=V1,V2,...",
                    help="a spec field and its values, e.g. compute.pe_array.rows=8,16,32")
    _add_mode_and_batch(sw)
    sw.add_argument("--csv", metavar="FILE", help="write the table as CSV")
    sw.add_argument("--plot", metavar="FILE.png", help="latency and energy against the first key")
    sw.set_defaults(func=_cmd_sweep)

    cmp = sub.add_parser("compare", help="every model on every spec (and compression variant), "
                                         "one table")
    cmp.add_argument("--hw", action="append", required=True, metavar="NAME|PATH",
                     help="a spec; repeatable")
    cmp.add_argument("--model", action="append", required=True, metavar="NAME|PATH",
                     help="a zoo name, workload YAML or .onnx path; repeatable")
    cmp.add_argument("--variant", action="append", default=[], metavar="NAME",
                     help="dense, pruned50, int8, int4, fp16, sparse90, 2:4, adder, deep-compression; "
                          "repeatable "
                          "(default: dense)")
    _add_mode_and_batch(cmp)
    cmp.add_argument("--csv", metavar="FILE", help="write the table as CSV")
    cmp.add_argument("--html", metavar="FILE", help="write the table as an HTML page")
    cmp.set_defaults(func=_cmd_compare)

    val = sub.add_parser("validate", help="re-run the cross-checks (SCALE-Sim, ZigZag, published "
                                          "silicon) and write their tables")
    val.add_argument("--out", default=None, help="directory for <check>.csv and validation.md")
    val.add_argument("--check", action="append", default=[], metavar="NAME",
                     help="run only this check (scalesim, zigzag, eyeriss, jetson-nano, host, "
                          "cuda); "
                          "repeatable")
    val.add_argument("--device", choices=["host", "cuda"], default=None,
                     help="also predicted vs measured on this machine (host: the host-cpu spec "
                          "or --hw against torch on the CPU; cuda: the GPU spec --hw against "
                          "torch on this machine's GPU, CUDA events; takes minutes)")
    val.add_argument("--hw", default=None, metavar="NAME|PATH",
                     help="the spec the host check predicts with (default host-cpu; e.g. one "
                          "written by edgesim calibrate); the GPU check's spec (required)")
    val.set_defaults(func=_cmd_validate)

    cal = sub.add_parser("calibrate", help="fit a CPU (or its GPU) spec to microbenchmarks "
                                           "measured on this machine (takes minutes)")
    cal.add_argument("--out", required=True, metavar="SPEC.yaml",
                     help="the spec to write (its measurements go beside it, "
                          "SPEC.measurements.json)")
    cal.add_argument("--threads", type=int, default=None,
                     help="torch threads = the spec's cores (default 1)")
    cal.add_argument("--form", choices=["eager", "frozen"], default=None,
                     help="what torch runs: eager modules (BatchNorm separate; the default) or a "
                          "frozen TorchScript graph (BatchNorm folded)")
    cal.add_argument("--device", choices=["cpu", "cuda"], default=None,
                     help="what to calibrate: this CPU (the default) or its CUDA GPU (CUDA "
                          "events, TF32 off; writes a gpu spec)")
    cal.add_argument("--from", dest="from_file", metavar="MEASUREMENTS.json", default=None,
                     help="refit stored measurements instead of measuring")
    cal.add_argument("--quick", action="store_true",
                     help="a dozen cases instead of the grid (seconds; a smoke test, not a fit "
                          "to trust)")
    cal.set_defaults(func=_cmd_calibrate)

    rep = sub.add_parser("report", help="a report over saved outputs (simulate JSONs, compare "
                                         "CSVs, search folders), nothing re-simulated")
    rep.add_argument("--from", dest="sources", action="append", required=True, metavar="DIR",
                     help="a folder (walked) or file of saved outputs; repeatable")
    rep.add_argument("--out", required=True, help="directory for the report")
    rep.set_defaults(func=_cmd_report)

    demo = sub.add_parser("demo", help="the energy comparison report")
    demo.add_argument("--out", default=None, help="directory for the report (default reports/)")
    demo.set_defaults(func=_cmd_demo)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit code (the console script exits with it)."""
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.version:
            print(f"edgesim {__version__}")
            return 0
        if args.cmd is None:  # `edgesim` alone: what it can do
            parser.print_help()
            return 0
        return int(args.func(args))
    except EdgesimError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader went away (`edgesim ... --json - | head`): stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the interpreter's final flush does not fail
        return 141  # 128 + SIGPIPE, as other Unix tools report it
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
