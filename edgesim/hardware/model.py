"""Runtime hardware objects built from a validated spec: Hardware, ComputeUnit, MemoryLevel."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from edgesim.errors import SpecError
from edgesim.hardware.tech import DramType
from edgesim.vocab import KernelClass, OpClass, OpKind, Precision


class HardwareKind(StrEnum):
    NPU = "npu"
    CPU = "cpu"
    GPU = "gpu"
    MCU = "mcu"


class UnitType(StrEnum):
    SYSTOLIC = "systolic"  # 2-D systolic array (TPU-like), dataflow os | ws | is
    SPATIAL = "spatial"  # row-stationary PE array with a NoC (Eyeriss), dataflow rs
    CUBE = "cube"  # m x n x k matrix engine per cycle (DaVinci cube)
    SIMD = "simd"  # vector lanes on cores (CPU NEON, GPU CUDA cores, MCU DSP)


class Dataflow(StrEnum):
    OS = "os"
    WS = "ws"
    IS = "is"
    RS = "rs"
    NONE = "none"  # cube / simd units have no named dataflow


class Operation(StrEnum):
    MAC = "mac"
    ADDER = "adder"  # |x - w| accumulate (AdderNet PEs)
    XNOR = "xnor"  # XNOR-popcount PEs of binary networks: int1 weights and activations only


class DepthUnroll(StrEnum):
    """What a cube's depth (K) edge unrolls of a convolution."""

    IM2COL = "im2col"  # channels x filter taps as one K axis (DaVinci's img2col)
    CHANNELS = "channels"  # input channels only; the filter taps step in time (ZigZag's C on D2)


class ArrayDim(StrEnum):
    """A dimension of a unit's MAC array (ZigZag's D1, D2, ...): a cube's rows (M), cols (N)
    and depth (K, the reduction)."""

    ROWS = "rows"
    COLS = "cols"
    DEPTH = "depth"


class Operand(StrEnum):
    INPUTS = "inputs"
    WEIGHTS = "weights"
    OUTPUTS = "outputs"


class MemoryType(StrEnum):
    DRAM = "dram"
    FLASH = "flash"  # MCU weight storage: read-only at run time
    SRAM = "sram"
    CACHE = "cache"
    REGFILE = "regfile"


class Compression(StrEnum):
    """How activations stored in a memory level are encoded (weights are never affected)."""

    NONE = "none"
    RLC = "rlc"  # run-length coding of zeros (Eyeriss, JSSC 2017): 64-bit words of run/level pairs


class ZeroSkip(StrEnum):
    NONE = "none"
    WEIGHTS = "weights"
    ACTIVATIONS = "activations"
    BOTH = "both"


class Residency(StrEnum):
    """Which activations a chip keeps on chip between layers (``mapping.residency``)."""

    LIFETIME = "lifetime"  # every tensor, over its whole lifetime, while the buffers hold it
    NEXT_LAYER = "next_layer"  # only a tensor whose one reader is the next layer (ZigZag's rule)


class WeightDecoder(StrEnum):
    """Which coded weight form a chip reads from DRAM and decodes on the way in."""

    NONE = "none"  # weights arrive as stored values (dense, or sparse with indices)
    CODEBOOK = "codebook"  # shared-weight indices, looked up in a per-layer codebook
    HUFFMAN = "huffman"  # Huffman-coded shared-weight indices, decoded then looked up


class DramOverlap(StrEnum):
    """Which of a unit's DRAM transfers run while it computes (the rest stall it)."""

    ALL = "all"  # double-buffered: loads and stores overlap compute (the default)
    WEIGHTS = "weights"  # weights stream behind compute; activation loads/stores stall the unit
    NONE = "none"  # every DRAM transfer stalls the unit


class BatchnormForm(StrEnum):
    """How the software on a programmable unit runs a BatchNorm the workload folded away."""

    FOLDED = "folded"  # folded into its producer (a frozen / deployed graph): no cost of its own
    SEPARATE = "separate"  # its own pass over the producer's output (torch eager), a norm kernel


class ConvDispatch(StrEnum):
    """Which library kernel a programmable unit's software runs a convolution with."""

    SHAPE = "shape"  # one library: the kernel class follows the kernel's shape alone
    TORCH_CPU = "torch_cpu"  # torch on a CPU: its own rule picks oneDNN or its native
    # unfold + GEMM per call (``mapping.kernels.torch_cpu_onednn``)


@dataclass(frozen=True)
class KernelFit:
    """Calibrated cost of one kernel class on a simd unit: sustained efficiency, as a function of
    one GEMM dimension (``axis``: ``k`` the reduction length, or ``m`` the output rows), piecewise
    linear in its log2 through ``points`` and constant beyond them; the fixed cycles of one
    call; the rate of the packing pass each call makes over its packed operand
    (``mapping.kernels.PACKED_OPERAND``: a oneDNN kernel's weight reorder, a native conv's
    unfolded input); and the same run cold (``cold``), where calibration measured it."""

    points: tuple[tuple[int, float], ...]  # (size, efficiency), size increasing; one: constant
    overhead_cycles: int
    axis: str = "k"  # "k" (reduction length) or "m" (output rows; a vector op's output elements)
    cold: KernelFit | None = None  # the cost run cold (after another layer's convolution)
    pack_bytes_per_s: float | None = None  # the per-call packing pass (None: none priced)

    def efficiency_at(self, k: int, m: int) -> float:
        """Efficiency of a GEMM of reduction length ``k`` and ``m`` output rows (a vector op:
        ``k`` 1, ``m`` its output elements)."""
        return _interpolate(self.points, m if self.axis == "m" else k)

    def efficiency(self, k: int) -> float:
        """Efficiency at size ``k`` along ``axis`` (any ``k`` for a one-point fit)."""
        return _interpolate(self.points, k)


def _interpolate(pts: tuple[tuple[int, float], ...], k: int) -> float:
    """Piecewise linear in log2 of ``k`` through ``pts``, constant beyond the ends."""
    if len(pts) == 1 or k <= pts[0][0]:
        return pts[0][1]
    if k >= pts[-1][0]:
        return pts[-1][1]
    x = math.log2(k)
    for (k0, e0), (k1, e1) in zip(pts, pts[1:], strict=False):
        if k <= k1:
            t = (x - math.log2(k0)) / (math.log2(k1) - math.log2(k0))
            return e0 + (e1 - e0) * t
    return pts[-1][1]


@dataclass(frozen=True)
class ComputeUnit:
    """A compute unit. Energies are per single operation (pJ) at each supported precision."""

    name: str
    type: UnitType
    operation: Operation
    precisions: tuple[Precision, ...]  # supported; the first is the native one
    rows: int = 1  # systolic / spatial PE grid rows; cube: M edge
    cols: int = 1  # systolic / spatial PE grid cols; cube: N edge
    depth: int = 1  # cube: K edge (16 for a 16x16x16 cube)
    lanes: int = 1  # simd: ops per cycle per core at the native precision
    cores: int = 1  # simd: cores (CPU cores, GPU SMs x warps, ...)
    vector_width: int | None = None  # simd: elements per vector instruction (None: ``lanes``)
    dataflow: Dataflow = Dataflow.NONE
    zero_skip: ZeroSkip = ZeroSkip.NONE  # zeros skipped: saves cycles and energy
    zero_gating: ZeroSkip = ZeroSkip.NONE  # zeros gated: saves energy only
    dram_overlap: DramOverlap = DramOverlap.ALL  # DRAM transfers hidden behind compute
    mapping_dram_weight: float | None = None  # spatial (rs): GLB bytes one DRAM byte is worth
    noc_energy_pj: float = 0.0  # spatial (rs): one partial-sum word passed to the PE above
    psum_bits: int | None = None  # partial-sum width (None: the mapper's default for the unit)
    nm_sparsity: tuple[str, ...] = ()  # N:M patterns it accelerates, e.g. ("2:4",)
    ops: tuple[OpKind, ...] | None = None  # ops it can run, in the spec's order; None: every op
    fuses: tuple[OpKind, ...] = ()  # ops its output stage runs on its own results (fusion)
    reaches: tuple[str, ...] | None = None  # on-chip levels it reaches; None: all, (): DRAM only
    efficiency: float = 1.0  # simd: sustained fraction of peak on GEMM-like work
    layer_overhead_cycles: int = 0  # simd: fixed cycles per GEMM layer (call/launch overhead)
    kernels: tuple[tuple[KernelClass, KernelFit], ...] = ()  # simd: calibrated kernel classes
    batchnorm: BatchnormForm = BatchnormForm.FOLDED  # simd: how a folded BatchNorm runs
    conv_dispatch: ConvDispatch = ConvDispatch.SHAPE  # simd: which library runs a conv
    fill_cycles: int | None = None  # cube: cycles to a GEMM's first result (None: ``depth``)
    packs_channels: bool = False  # cube: depthwise channels packed into fractals
    depth_unrolls: DepthUnroll = DepthUnroll.IM2COL  # cube: what its K edge reduces over
    rows_pixel_tile: tuple[int, int] | None = None  # cube: rows unroll a (width, height) pixel tile
    packs_narrow: bool = False  # True: k-bit operands on a native-b-bit PE run b//k ops per cycle
    bit_serial: bool = False  # True: a w-bit x a-bit MAC takes w * a cycles (BISMO-style PEs)
    op_energy_pj: Mapping[OpClass, Mapping[Precision, float]] = field(default_factory=dict)
    # op class -> precision -> pJ per operation
    pe_area_mm2: float = 0.0  # one PE (or one lane) at the native precision
    leakage_w: float = 0.0
    energy_source: str = ""  # where the energies came from (table + scaling, or the spec)

    def __post_init__(self) -> None:
        # Names are accepted where enums are expected (a unit built in code), and normalised.
        for key, enum in (("type", UnitType), ("operation", Operation), ("dataflow", Dataflow),
                          ("zero_skip", ZeroSkip), ("zero_gating", ZeroSkip),
                          ("dram_overlap", DramOverlap), ("batchnorm", BatchnormForm),
                          ("conv_dispatch", ConvDispatch)):
            object.__setattr__(self, key, enum(getattr(self, key)))
        object.__setattr__(self, "precisions", tuple(Precision(p) for p in self.precisions))
        if self.ops is not None:
            object.__setattr__(self, "ops", tuple(OpKind(o) for o in self.ops))
        object.__setattr__(self, "fuses", tuple(OpKind(o) for o in self.fuses))
        object.__setattr__(self, "op_energy_pj", {
            OpClass(op): {Precision(p): e for p, e in table.items()}
            for op, table in self.op_energy_pj.items()})

    def kernel(self, cls: KernelClass) -> KernelFit | None:
        """The calibrated fit of kernel class ``cls`` (None: the unit's own efficiency and
        ``layer_overhead_cycles`` apply)."""
        for c, fit in self.kernels:
            if c == cls:
                return fit
        return None

    def weight_fold_bytes(self, weight_bits: int) -> int:
        """Bytes of one fold of the array's weights (a systolic array's rows x cols, a cube's
        depth x cols); 0 for units that hold no weight fold (SIMD, row-stationary)."""
        if self.type == UnitType.SYSTOLIC:
            return math.ceil(self.rows * self.cols * weight_bits / 8)
        if self.type == UnitType.CUBE:
            return math.ceil(self.depth * self.cols * weight_bits / 8)
        return 0

    @property
    def pe_count(self) -> int:
        if self.type == UnitType.CUBE:
            return self.rows * self.cols * self.depth
        if self.type == UnitType.SIMD:
            return self.lanes * self.cores
        return self.rows * self.cols

    @property
    def vector_lanes(self) -> int:
        """Elements of the native precision per vector instruction (a simd unit's vector
        width; ``lanes`` where the spec gives none)."""
        return self.vector_width or self.lanes

    @property
    def native_precision(self) -> Precision:
        return self.precisions[0]

    def supports(self, op: OpKind) -> bool:
        return self.ops is None or op in self.ops

    def energy_pj(self, op_class: OpClass, precision: Precision) -> float:
        """Energy of one operation of ``op_class`` at ``precision`` (pJ)."""
        try:
            return self.op_energy_pj[op_class][precision]
        except KeyError:
            raise SpecError(f"no energy for {op_class} at {precision}",
                            field=f"compute.{self.name}") from None


@dataclass(frozen=True)
class MemoryLevel:
    """One memory level. ``size_bytes`` is per instance; ``instances`` > 1 for per-PE files."""

    name: str
    type: MemoryType
    size_bytes: int
    bandwidth_bytes_per_s: float  # per instance... for shared levels the whole level's bandwidth
    read_energy_pj_per_byte: float
    write_energy_pj_per_byte: float
    area_mm2: float  # all instances together
    leakage_w: float  # all instances together
    holds: frozenset[Operand] = frozenset(Operand)
    per_pe: bool = False
    instances: int = 1
    word_bytes: int = 1  # access width (energy tables are per access of it); specs always set it,
    # a level built by hand without one is byte-granular (no whole-word rounding of accesses)
    energy_source: str = ""
    compression: Compression = Compression.NONE  # encoding of the activations stored here
    # Whether the spec states the bandwidth: only a stated on-chip bandwidth limits time (a spec
    # without one gets ``word x clock`` for reports). A level built in code states its own.
    bandwidth_declared: bool = True
    banks: int = 1  # SRAM/cache macros the level is split into (the default energy uses it)
    dram_type: DramType | None = None  # DRAM technology, where the spec names one
    retains_weights: bool = False  # keeps the model's weights across inferences when they fit
    # A per-PE level whose one instance serves every PE along these array dimensions (ZigZag's
    # served_dimensions): a read is broadcast to them, or an adder tree reduces into it.
    served_dimensions: tuple[ArrayDim, ...] = ()
    pes_per_instance: int = 1  # PEs one instance serves (the product of those dimensions)
    double_buffered: bool = True  # a tile may take half of it (the other half loads the next)
    channel_per_operand: bool = False  # DRAM: one channel of the bandwidth per operand

    def __post_init__(self) -> None:
        # Names are accepted where enums are expected (a level built in code), and normalised.
        object.__setattr__(self, "type", MemoryType(self.type))
        object.__setattr__(self, "holds", frozenset(Operand(o) for o in self.holds))
        object.__setattr__(self, "compression", Compression(self.compression))
        object.__setattr__(self, "served_dimensions",
                           tuple(ArrayDim(d) for d in self.served_dimensions))
        if self.dram_type is not None:
            object.__setattr__(self, "dram_type", DramType(self.dram_type))

    @property
    def total_bytes(self) -> int:
        return self.size_bytes * self.instances

    @property
    def is_offchip(self) -> bool:
        return self.type in (MemoryType.DRAM, MemoryType.FLASH)

    @property
    def tile_bytes(self) -> int:
        """Bytes one tile may take: half a double-buffered level, all of a single-buffered one."""
        return self.total_bytes // 2 if self.double_buffered else self.total_bytes


@dataclass(frozen=True)
class DvfsPoint:
    clock_hz: float
    voltage_v: float


@dataclass(frozen=True)
class Hardware:
    """A built hardware description: trusted, immutable, SI units (areas in mm2)."""

    name: str
    kind: HardwareKind
    technology_nm: float
    clock_hz: float
    compute: tuple[ComputeUnit, ...]
    memory: tuple[MemoryLevel, ...]  # outermost (DRAM or flash) first
    static_power_w: float = 0.0  # chip-level static power beyond the listed leakages
    fallback_unit: str | None = None  # unit that runs ops the main unit does not support
    residency: Residency = Residency.LIFETIME  # activations kept on chip between layers
    sparse_index_bits: int = 4  # relative-index width of the sparse weight format it stores
    weight_decoder: WeightDecoder = WeightDecoder.NONE  # coded weight form it reads and decodes
    decoder_energy_pj: float = 0.0  # per weight decoded
    area_overhead_fraction: float = 0.0  # control, NoC, I/O: fraction of compute + memory area
    dvfs: tuple[DvfsPoint, ...] = ()
    source: str = ""  # file it came from
    description: str = ""  # the spec's one-line description
    citation: str = ""  # the spec's `source:` text: where its figures come from

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", HardwareKind(self.kind))  # a name from code is fine
        object.__setattr__(self, "residency", Residency(self.residency))
        object.__setattr__(self, "weight_decoder", WeightDecoder(self.weight_decoder))

    @property
    def outermost(self) -> MemoryLevel:
        """The outermost memory level: DRAM, or flash on an MCU (``memory[0]``)."""
        return self.memory[0]

    @property
    def main_unit(self) -> ComputeUnit:
        return self.compute[0]

    def unit(self, name: str) -> ComputeUnit:
        for u in self.compute:
            if u.name == name:
                return u
        raise SpecError(f"no compute unit named {name!r}", file=self.source or None, field="compute")

    def level(self, name: str) -> MemoryLevel:
        for m in self.memory:
            if m.name == name:
                return m
        raise SpecError(f"no memory level named {name!r}", file=self.source or None, field="memory")
