"""Pydantic schema of a hardware spec (CONTRACT.md), with cross-field checks and clean errors."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    BaseModel,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from edgesim.errors import SpecError, known_keys, unknown_key
from edgesim.hardware.messages import describe, message, render_loc
from edgesim.hardware.model import (
    BatchnormForm,
    ConvDispatch,
    Dataflow,
    DepthUnroll,
    DramOverlap,
    MemoryType,
    Operand,
    Operation,
    Residency,
    UnitType,
    WeightDecoder,
    ZeroSkip,
)
from edgesim.hardware.spec_kernels import KernelSpec
from edgesim.hardware.spec_memory import MemoryLevelSpec
from edgesim.hardware.spec_types import (
    Area,
    Energy,
    FieldError,
    Frequency,
    Name,
    PositiveInt,
    Power,
    Voltage,
    _Frozen,
)
from edgesim.vocab import (
    GEMM_OPS,
    PACKED_OPERAND,
    KernelClass,
    OpClass,
    OpKind,
    Precision,
    parse_nm,
)

PRECISIONS = tuple(p.value for p in Precision)
OP_CLASS_NAMES = tuple(c.value for c in OpClass)


class ComputeUnitSpec(_Frozen):
    """One compute unit of the spec."""

    name: Name
    """Unit name, unique in the spec; energy and area components carry it."""
    type: UnitType
    """`systolic` (PE grid, dataflow os/ws/is), `spatial` (row-stationary grid), `cube` (rows x cols x depth MAC cube), `simd` (vector lanes x cores: CPUs, GPUs, vector units)."""
    rows: PositiveInt | None = None
    """PE rows (systolic, spatial; cube: the M edge)."""
    cols: PositiveInt | None = None
    """PE columns (systolic, spatial; cube: the N edge)."""
    depth: PositiveInt | None = None
    """Cube K edge (16 for a 16x16x16 cube)."""
    lanes: PositiveInt | None = None
    """SIMD lanes per core at the native precision (operations per cycle)."""
    cores: PositiveInt | None = None
    """SIMD cores (CPU cores, GPU SMs x warps); default 1."""
    vector_width: PositiveInt | None = None
    """SIMD only: elements of the native precision one vector instruction holds, the width a kernel's vector axis fills in steps of (default `lanes`; 16 fp32 on an AVX-512 core whose two FMA pipes make `lanes` 32). `lanes` must be a multiple of it."""
    dataflow: Dataflow | None = None
    """Systolic `os`, `ws` (default) or `is`; spatial `rs`."""
    operation: Operation = Operation.MAC
    """What a PE computes: `mac`, `adder` (AdderNet |x - w|) or `xnor` (XNOR-popcount, int1 only)."""
    precisions: list[str] = Field(min_length=1)
    """Supported precisions (int1..int32, fp16, bf16, fp32); the first is native: layers without a precision run at it."""
    zero_skip: ZeroSkip = ZeroSkip.NONE
    """Zeros the unit skips (cycles and energy): `none`, `weights`, `activations` or `both`."""
    zero_gating: ZeroSkip = ZeroSkip.NONE
    """Zeros the unit gates (energy only, no fewer cycles): `none`, `weights`, `activations` or `both`."""
    dram_overlap: DramOverlap = DramOverlap.ALL
    """DRAM transfers hidden behind compute: `all` (double-buffered), `weights` (activation loads and stores stall the unit, as on Eyeriss v1, JSSC 2017) or `none`."""
    mapping_dram_weight: float | None = Field(default=None, gt=0)
    """Spatial (rs) only: the mapper chooses the channels accumulated per partial-sum trip together with the global-buffer block, minimising this weight x DRAM bytes + the partial sums' buffer bytes, the buffer split between ifmaps and psums in whole `banks`; unset: as many channels as the ifmap scratchpad holds."""
    psum_bits: PositiveInt | None = None
    """Width of the partial sums the unit accumulates and moves (bits; default: 32-bit accumulators, or the activations' width when wider; a spatial unit's default is its datapath width, Eyeriss' 16). ZigZag's workloads carry 16-bit partial sums for 8-bit operands; the `zigzag-*` specs say so."""
    nm_sparsity: list[str] = Field(default_factory=list)
    """N:M patterns the unit accelerates, e.g. ["2:4"]."""
    ops: list[OpKind] | None = None
    """Ops the unit can run, in preference order (default: every op)."""
    reaches: list[str] | None = None
    """On-chip memory levels the unit reads and writes, by name (default: every one). The outermost level is always reached; `[]`: the unit reaches only DRAM (a host or AI CPU beside an NPU), so every tensor it reads or writes crosses through DRAM and none it touches is kept on chip."""
    fuses: list[OpKind] = Field(default_factory=list)
    """Ops the unit runs in its output stage on its own results (no pass of their own, no buffer round trip): an NPU's fused activation, elementwise or pooling path."""
    efficiency: float = Field(default=1.0, gt=0.0, le=1.0)
    """SIMD only: sustained fraction of peak on GEMM-like work (0..1]."""
    packs_narrow: bool = False
    """k-bit operands on a native b-bit PE run b//k operations per cycle."""
    bit_serial: bool = False
    """Bit-serial PEs (BISMO-style): a w-bit x a-bit MAC takes w x a one-bit steps, so cycles scale with both operands' bits (systolic and cube MAC units)."""
    mac_energy: Energy | None = None
    """Energy of one MAC at the native precision (default: the technology table scaled to the node)."""
    adder_energy: Energy | None = None
    """Energy of one adder-PE operation at the native precision."""
    add_energy: Energy | None = None
    """Energy of one addition at the native precision."""
    mult_energy: Energy | None = None
    """Energy of one multiplication at the native precision."""
    op_energy: dict[str, dict[str, Energy]] | None = None
    """The full table instead: op class (mac, adder, add, mult) -> precision -> energy."""
    op_overhead_energy: Energy | None = None
    """Per-operation instruction overhead of a programmable unit (fetch, decode, issue, operand delivery) at the native precision; packed narrower operands share it."""
    layer_overhead_cycles: int = Field(default=0, ge=0, strict=True)
    """SIMD only: fixed cycles per GEMM layer outside the inner loop (library call, packing setup, thread fork/join; a GPU's kernel launch)."""
    kernels: dict[KernelClass, KernelSpec] | None = None
    """SIMD only: calibrated kernel classes (conv1x1, conv1x1_strided, conv3x3, conv5x5, conv7x7, conv_im2col, depthwise, grouped, linear, matmul, elementwise, activation, pool, global_pool, softmax, layernorm, batchnorm, concat, upsample), each with its own `efficiency` and `overhead_cycles` (and `cold`) in place of the unit's; classes not listed use the unit's."""
    batchnorm: BatchnormForm = BatchnormForm.FOLDED
    """SIMD only: how the software runs a BatchNorm the workload folded into its producer: `folded` (a frozen / deployed graph: no cost) or `separate` (torch eager: its own pass over the output, priced as the `batchnorm` kernel class)."""
    conv_dispatch: ConvDispatch = ConvDispatch.SHAPE
    """SIMD only: which library kernel runs a convolution: `shape` (one library: the kernel class follows the kernel's shape) or `torch_cpu` (fp32 torch on a CPU, as `edgesim calibrate` measures it, by torch's own rule: a batch-1 conv without groups whose kernel is not larger than 3 in both dimensions and whose input has at most 20480 elements runs torch's native kernels, as does every 1x1 stride-1 conv of a batch under 16 on one thread; natively, a 1x1 stride-1 conv without padding is a GEMM, class `conv1x1`, the others unfold + GEMM, `conv_im2col`; oneDNN runs the rest, a dense 1x1 there being `conv1x1_strided` and the others keeping their shape's class). Transposed and adder convs keep their shape's class."""
    noc_energy: Energy | None = None
    """Spatial only: energy of one partial-sum word passed from a PE to the PE above it over the array's inter-PE network (ISCA 2016's "array (inter-PE)" level, 2x a MAC on Eyeriss); the accumulating add is priced as an `add` operation. Default: not priced."""
    fill_cycles: int | None = Field(default=None, ge=0, strict=True)
    """Cube only: cycles from a GEMM's start to its first result (pipeline fill; default the K edge, `depth`)."""
    packs_channels: bool = False
    """Cube only: a depthwise layer's channels are packed into fractals (channel blocks of `cols`, block-diagonal weights) instead of one tiny GEMM per channel."""
    depth_unrolls: DepthUnroll = DepthUnroll.IM2COL
    """Cube only: what the `depth` (K) edge reduces over in a convolution: `im2col` (channels x filter taps as one axis, the default) or `channels` (input channels only, the taps step in time: ZigZag's C on one array dimension)."""
    rows_pixel_tile: tuple[PositiveInt, PositiveInt] | None = None
    """Cube only: the `rows` (M) edge unrolls a tile of output pixels, [width, height] with width x height = rows (ZigZag's OX and OY on two array dimensions), instead of consecutive pixels; a convolution's output is covered in whole tiles."""
    pe_area: Area | None = None
    """Area of one PE (or lane) at the native precision (default: the technology table)."""
    leakage: Power | None = None
    """Leakage power of the unit (default 0 W)."""
    energy_source: str | None = None
    """Where the unit's energies come from (shown by `specs show`)."""

    @field_validator("precisions")
    @classmethod
    def _known_precisions(cls, v: list[str]) -> list[str]:
        for p in v:
            if p not in PRECISIONS:
                raise ValueError(f"unknown precision {p!r} (use one of {', '.join(PRECISIONS)})")
        if len(set(v)) != len(v):
            raise ValueError(f"precisions repeat: {v}")
        return v

    @field_validator("nm_sparsity")
    @classmethod
    def _nm_patterns(cls, v: list[str]) -> list[str]:
        for p in v:
            if parse_nm(str(p)) is None:
                raise ValueError(f'expected N:M patterns such as "2:4" with 0 < N < M, got {p!r}')
        return v

    @field_validator("fuses")
    @classmethod
    def _fusable(cls, v: list[OpKind]) -> list[OpKind]:
        for op in v:
            if op in GEMM_OPS or op in (OpKind.CONCAT, OpKind.EMBEDDING):
                raise ValueError(f"{op.value!r} cannot run in an output stage (fuse element-wise, "
                                 "activation, normalisation, pooling or upsampling ops)")
        if len(set(v)) != len(v):
            raise ValueError(f"fuses repeats an op: {[o.value for o in v]}")
        return v

    @field_validator("op_energy")
    @classmethod
    def _op_energy_keys(cls, v: dict[str, dict[str, float]] | None) -> Any:
        if v is None:
            return v
        for op, table in v.items():
            if op not in OP_CLASS_NAMES:
                raise ValueError(f"unknown op class {op!r} (use {', '.join(OP_CLASS_NAMES)})")
            for p in table:
                if p not in PRECISIONS:
                    raise ValueError(f"{op}: unknown precision {p!r}")
        return v

    @model_validator(mode="after")
    def _check_type(self) -> ComputeUnitSpec:
        t = self.type
        need: dict[UnitType, tuple[str, ...]] = {
            UnitType.SYSTOLIC: ("rows", "cols"), UnitType.SPATIAL: ("rows", "cols"),
            UnitType.CUBE: ("rows", "cols", "depth"), UnitType.SIMD: ("lanes",),
        }
        allowed = {**{k: v for k, v in need.items()},
                   UnitType.SIMD: ("lanes", "cores", "vector_width")}
        for f in need[t]:
            if getattr(self, f) is None:
                raise FieldError(f, f"a {t.value} unit needs `{f}`")
        for f in ("rows", "cols", "depth", "lanes", "cores", "vector_width"):
            if getattr(self, f) is not None and f not in allowed[t]:
                raise FieldError(f, f"`{f}` does not apply to a {t.value} unit")
        if self.vector_width is not None and (self.lanes or 1) % self.vector_width:
            raise FieldError("vector_width", f"`lanes` ({self.lanes}) must be a multiple of "
                             f"`vector_width` ({self.vector_width}): whole vectors per cycle")
        flows = {UnitType.SYSTOLIC: {Dataflow.OS, Dataflow.WS, Dataflow.IS},
                 UnitType.SPATIAL: {Dataflow.RS}}.get(t, {Dataflow.NONE})
        if self.dataflow is not None and self.dataflow not in flows:
            names = ", ".join(sorted(f.value for f in flows))
            raise FieldError("dataflow", f"dataflow {self.dataflow.value!r} is not valid for a {t.value} "
                             f"unit (use {names})")
        if self.efficiency != 1.0 and t != UnitType.SIMD:
            raise FieldError("efficiency", "`efficiency` applies only to simd units")
        if self.mapping_dram_weight is not None and t != UnitType.SPATIAL:
            raise FieldError("mapping_dram_weight", "`mapping_dram_weight` applies only to "
                             "spatial (rs) units")
        for f, unset in (("fill_cycles", self.fill_cycles is None),
                         ("packs_channels", self.packs_channels is False),
                         ("depth_unrolls", self.depth_unrolls == DepthUnroll.IM2COL),
                         ("rows_pixel_tile", self.rows_pixel_tile is None)):
            if not unset and t != UnitType.CUBE:
                raise FieldError(f, f"`{f}` applies only to cube units")
        tile = self.rows_pixel_tile
        if tile is not None and tile[0] * tile[1] != self.rows:
            raise FieldError("rows_pixel_tile", f"a {tile[0]} x {tile[1]} pixel tile does not "
                             f"fill the cube's {self.rows} rows")
        if self.bit_serial and (t not in (UnitType.SYSTOLIC, UnitType.CUBE)
                                or self.operation != Operation.MAC):
            raise FieldError("bit_serial", "`bit_serial` applies to systolic and cube MAC units")
        if self.bit_serial and self.packs_narrow:
            raise FieldError("bit_serial", "a bit-serial unit already runs narrow operands in "
                             "fewer cycles: drop `packs_narrow`")
        if self.bit_serial and any(not p.startswith("int") for p in self.precisions):
            raise FieldError("bit_serial", "a bit-serial unit computes on integers: list "
                             "integer precisions only")
        for f, unset in (("kernels", self.kernels is None),
                         ("batchnorm", "batchnorm" not in self.model_fields_set),
                         ("conv_dispatch", "conv_dispatch" not in self.model_fields_set)):
            if not unset and t != UnitType.SIMD:
                raise FieldError(f, f"`{f}` applies only to simd units")
        if self.noc_energy is not None and t != UnitType.SPATIAL:
            raise FieldError("noc_energy", "`noc_energy` applies only to spatial (row-stationary) "
                             "units")
        self._check_packing()
        if self.layer_overhead_cycles and t != UnitType.SIMD:
            raise FieldError("layer_overhead_cycles", "`layer_overhead_cycles` applies only to "
                             "simd units")
        if self.operation == Operation.XNOR and self.precisions != ["int1"]:
            raise FieldError("precisions", "an xnor unit computes binary operands: "
                             "precisions: [int1]")
        if self.operation == Operation.ADDER and "int1" in self.precisions:
            raise FieldError("precisions", "adder PEs do not support int1 (|x - w| of bits is an XOR: use a "
                             "mac unit for binary networks)")
        if self.op_energy is not None and self.op_overhead_energy is not None:
            raise FieldError("op_overhead_energy", "`op_overhead_energy` is already part of an explicit `op_energy`")
        if self.op_energy is not None and any(
                e is not None for e in (self.mac_energy, self.adder_energy, self.add_energy,
                                        self.mult_energy)):
            raise FieldError("op_energy", "give either `op_energy` or the per-class energies, not both")
        return self

    def _check_packing(self) -> None:
        """`pack_bandwidth` only on a class that packs, under torch's dispatch (which sets what
        it packs: ``vocab.PACKED_OPERAND``)."""
        for cls, k in (self.kernels or {}).items():
            if k.pack_bandwidth is None and (k.cold is None or k.cold.pack_bandwidth is None):
                continue
            if cls not in PACKED_OPERAND:
                raise FieldError("pack_bandwidth", f"kernels.{cls.value}: `pack_bandwidth` "
                                 "applies to the classes that pack an operand ("
                                 + ", ".join(c.value for c in PACKED_OPERAND) + ")")
            if self.conv_dispatch != ConvDispatch.TORCH_CPU:
                raise FieldError("pack_bandwidth", f"kernels.{cls.value}: `pack_bandwidth` "
                                 "prices torch's per-call packing: it needs "
                                 "`conv_dispatch: torch_cpu`")

    @property
    def resolved_dataflow(self) -> Dataflow:
        if self.dataflow is not None:
            return self.dataflow
        return {UnitType.SYSTOLIC: Dataflow.WS, UnitType.SPATIAL: Dataflow.RS}.get(
            self.type, Dataflow.NONE)


class DvfsPointSpec(_Frozen):
    """One DVFS operating point."""

    clock: Frequency
    """Clock of the operating point ("800 MHz")."""
    voltage: Voltage
    """Supply voltage at that clock ("0.8 V")."""


class HardwareSpec(_Frozen):
    """A whole hardware spec."""

    name: Name
    """Spec name (what `edgesim specs list` and results show)."""
    kind: Literal["npu", "cpu", "gpu", "mcu"]
    """`npu`, `cpu`, `gpu` or `mcu`."""
    technology_nm: float = Field(ge=2.0, le=250.0)
    """Process node in nanometres (2..250): default energies and areas scale to it."""
    clock: Frequency
    """Clock frequency ("1 GHz")."""
    compute: list[ComputeUnitSpec] = Field(min_length=1)
    """Compute units; the first is the main unit, the others run what it cannot."""
    memory: list[MemoryLevelSpec] = Field(min_length=1)
    """Memory levels, outermost (dram or flash) first."""
    static_power: Power = 0.0
    """Chip-level static power beyond the listed leakages (control, clock, I/O)."""
    fallback: str | None = None
    """Unit that runs the ops the main unit does not support (default: try units in spec order)."""
    residency: Residency = Residency.LIFETIME
    """Activations kept on chip between layers: every tensor over its lifetime while the buffers hold it (`lifetime`), or only one whose single reader is the next layer (`next_layer`)."""
    sparse_index_bits: int = Field(default=4, ge=1, le=32, strict=True)
    """Bits of a relative index in the sparse weight format the chip stores and reads (CSR with relative indices and filler zeros; EIE: 4)."""
    weight_decoder: WeightDecoder = WeightDecoder.NONE
    """Coded weights the chip stores in DRAM and decodes as they arrive (on-chip buffers hold them decoded): `none`, `codebook` (shared-weight indices, Deep Compression / EIE) or `huffman` (those indices Huffman-coded)."""
    decoder_energy: Energy | None = None
    """Energy of one decoder step: a codebook lookup per weight, and a Huffman symbol decode per weight whose indices arrive Huffman-coded (default for both: a lookup in a 256-entry register-file codebook of the native weight width; technology tables)."""
    area_overhead: float = Field(default=0.0, ge=0.0, lt=10.0)
    """Control, NoC and I/O area as a fraction of compute plus memory area."""
    dvfs: list[DvfsPointSpec] = Field(default_factory=list)
    """DVFS operating points (clock, voltage)."""
    description: str = ""
    """One line saying what the chip is."""
    source: str = ""
    """Where the spec's figures come from."""

    @field_validator("technology_nm", mode="before")
    @classmethod
    def _node_number(cls, v: object) -> object:
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise ValueError(f"expected a number of nanometres such as 28, got {v!r}")
        return v

    @field_validator("area_overhead", "static_power", mode="before")
    @classmethod
    def _not_bool(cls, v: object) -> object:
        if isinstance(v, bool):
            raise ValueError(f"expected a value, got {v!r}")
        return v

    @model_validator(mode="after")
    def _check(self) -> HardwareSpec:
        for what, names in (("compute", [u.name for u in self.compute]),
                            ("memory", [m.name for m in self.memory])):
            dup = sorted({n for n in names if names.count(n) > 1})
            if dup:
                raise FieldError(what, f"names must be unique, repeated: {', '.join(dup)}")
        unit_names = [u.name for u in self.compute]
        if self.fallback is not None:
            if self.fallback not in unit_names:
                raise FieldError("fallback", f"{self.fallback!r} names no compute unit "
                                 f"(units: {', '.join(unit_names)})")
            if self.fallback == unit_names[0]:
                raise FieldError("fallback", "fallback must differ from the main unit (compute[0])")
        offchip = [i for i, m in enumerate(self.memory)
                   if m.type in (MemoryType.DRAM, MemoryType.FLASH)]
        if offchip != [0]:
            raise FieldError("memory", "exactly one off-chip level (dram or flash) is needed and "
                             f"it must come first (outermost); off-chip levels at {offchip}")
        for k, u in enumerate(self.compute):
            if u.reaches is not None:
                self._check_reaches(k, u.reaches)
        for op in Operand:
            if not any(op in m.holds for m in self.memory):
                raise FieldError("memory", f"no level holds {op.value}")
        for i, m in enumerate(self.memory):
            if m.served_dimensions and self.compute[0].type != UnitType.CUBE:
                raise FieldError(f"memory[{i}].served_dimensions", "served dimensions are "
                                 "modelled on a cube main unit only (compute[0] is a "
                                 f"{self.compute[0].type.value} unit)")
        keep = [i for i, m in enumerate(self.memory) if m.retains_weights]
        if len(keep) > 1:
            raise FieldError("memory", "at most one level `retains_weights`")
        holders = [i for i, m in enumerate(self.memory) if i and not m.per_pe
                   and Operand.WEIGHTS in m.holds]
        if keep and holders and keep[0] != holders[0]:
            raise FieldError(f"memory[{keep[0]}].retains_weights", "the level that retains "
                             f"weights must be the outermost on-chip one holding them "
                             f"({self.memory[holders[0]].name})")
        if self.weight_decoder != WeightDecoder.NONE and any(m.retains_weights for m in self.memory):
            raise FieldError("weight_decoder", "a `weight_decoder` chip cannot also retain "
                             "weights on chip (`retains_weights`): which form it keeps is unset")
        clocks = [p.clock for p in self.dvfs]
        if len(set(clocks)) != len(clocks):
            raise FieldError("dvfs", "clocks must be distinct")
        if clocks and not any(abs(c - self.clock) <= 1e-9 * self.clock for c in clocks):
            raise FieldError("clock", "the clock must be one of the dvfs points' clocks")
        return self

    def _check_reaches(self, k: int, reaches: list[str]) -> None:
        """``reaches`` names on-chip levels holding every operand (and a flash chip's home)."""
        onchip = [m.name for m in self.memory[1:]]
        if len(set(reaches)) != len(reaches):
            raise FieldError(f"compute[{k}].reaches", f"reaches repeats a level: {reaches}")
        for name in reaches:
            if name not in onchip:
                raise FieldError(f"compute[{k}].reaches", f"{name!r} names no on-chip memory "
                                 f"level (levels: {', '.join(onchip) or 'none'})")
        seen = [self.memory[0], *[m for m in self.memory[1:] if m.name in reaches]]
        for op in Operand:
            if not any(op in m.holds for m in seen):
                raise FieldError(f"compute[{k}].reaches", f"the levels unit {self.compute[k].name!r} "
                                 f"reaches hold no {op.value}")
        homes = [m.name for m in self.memory[1:] if not m.per_pe
                 and {Operand.INPUTS, Operand.OUTPUTS} & set(m.holds)]
        if self.memory[0].type == MemoryType.FLASH and homes and homes[0] not in reaches:
            raise FieldError(f"compute[{k}].reaches", f"on a flash chip a unit must reach "
                             f"{homes[0]!r}, the activations' home")


def spec_error(exc: ValidationError, file: str | None) -> SpecError:
    """Turn the first pydantic error into a SpecError ``file: loc: message``."""
    errors = exc.errors()
    err = errors[0]
    # Prefer an unknown key (a misspelt key is reported as itself, not as the key it missed),
    # then the most specific error (a field one) over a union's model-level complaint.
    for e in errors:
        if e.get("type") == "extra_forbidden":
            err = e
            break
    else:
        for e in errors:
            if e.get("loc"):
                err = e
                break
    loc = tuple(err.get("loc", ()))
    cause = err.get("ctx", {}).get("error")
    if isinstance(cause, FieldError):
        loc = (*loc, cause.field)
    msg = message(err)
    if err.get("type") == "extra_forbidden" and loc:
        msg = unknown_key(str(loc[-1]), known_keys(HardwareSpec, loc))
    return SpecError(msg, file=file, field=render_loc(loc) or None)


def validate_spec_dict(raw: object, file: str | None = None) -> HardwareSpec:
    """Validate a raw mapping into a :class:`HardwareSpec`; every failure is a SpecError."""
    if not isinstance(raw, dict):
        raise SpecError(f"expected a mapping of spec keys, got {describe(raw)}", file=file)
    try:
        return HardwareSpec.model_validate(raw)
    except ValidationError as exc:
        raise spec_error(exc, file) from None


LIST_ITEM_MODELS: dict[str, type[BaseModel]] = {
    "compute": ComputeUnitSpec, "memory": MemoryLevelSpec, "dvfs": DvfsPointSpec}
