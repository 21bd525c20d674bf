"""Build a validated HardwareSpec into the runtime Hardware, filling energies and areas from tech."""

from __future__ import annotations

from dataclasses import replace

from edgesim.errors import SpecError
from edgesim.hardware import tech
from edgesim.hardware.model import (
    ComputeUnit,
    Dataflow,
    DvfsPoint,
    Hardware,
    HardwareKind,
    KernelFit,
    MemoryLevel,
    MemoryType,
    Operation,
    UnitType,
    WeightDecoder,
)
from edgesim.hardware.spec import (
    ComputeUnitSpec,
    HardwareSpec,
    MemoryLevelSpec,
)
from edgesim.hardware.spec_kernels import KernelCostSpec
from edgesim.vocab import KernelClass, OpClass, Precision

_J_TO_PJ = 1e12


def _unit_energies(u: ComputeUnitSpec, node_nm: float
                   ) -> tuple[dict[OpClass, dict[Precision, float]], str]:
    """Energies (pJ) per op class and precision, and a note of where they came from."""
    precisions = [Precision(p) for p in u.precisions]
    table = {op: {p: tech.op_energy_pj(op, p, node_nm) for p in precisions} for op in OpClass}
    scale = tech.energy_scale(node_nm)
    source = (f"Horowitz ISSCC 2014 45 nm table (edgesim.hardware.tech), scaled to {node_nm:g} nm "
              f"by (node/45)(V/0.9)^2 = x{scale:.3g}")
    if u.op_energy is not None:
        for op, per_prec in u.op_energy.items():
            for p, e_j in per_prec.items():
                table[OpClass(op)][Precision(p)] = e_j * _J_TO_PJ
        source = u.energy_source or "spec: explicit op_energy table"
        missing = [f"{op}@{p}" for op in OpClass for p in precisions
                   if op not in u.op_energy or p not in u.op_energy[op]]
        if missing:
            source += f"; from the technology table: {', '.join(missing)}"
        return table, source
    explicit = {OpClass.MAC: u.mac_energy, OpClass.ADDER: u.adder_energy,
                OpClass.ADD: u.add_energy, OpClass.MULT: u.mult_energy}
    given = []
    native = precisions[0]
    for op, given_j in explicit.items():
        if given_j is None:
            continue
        factor = given_j * _J_TO_PJ / table[op][native]
        # An explicit figure is the native precision's; others keep the table's ratios.
        table[op] = {p: e * factor for p, e in table[op].items()}
        given.append(f"{op}_energy")
    notes = []
    if given:
        notes.append(f"spec: explicit {', '.join(given)} at {native} (other precisions scaled "
                     "by the table's ratios)")
    if u.op_overhead_energy is not None:
        native_bits = native.bits
        for op in OpClass:
            for p in precisions:
                share = p.bits / native_bits if u.packs_narrow else 1.0
                table[op][p] += u.op_overhead_energy * _J_TO_PJ * min(1.0, share)
        notes.append(f"plus spec op_overhead_energy {u.op_overhead_energy * _J_TO_PJ:.4g} pJ "
                     "per op at the native precision (instruction overhead)")
    if u.energy_source:
        notes.insert(0, u.energy_source)
    source = "; ".join([*notes, source])
    return table, source


def _pe_count(u: ComputeUnitSpec) -> int:
    if u.type == UnitType.CUBE:
        return (u.rows or 1) * (u.cols or 1) * (u.depth or 1)
    if u.type == UnitType.SIMD:
        return (u.lanes or 1) * (u.cores or 1)
    return (u.rows or 1) * (u.cols or 1)


def _fit(k: KernelCostSpec) -> KernelFit:
    pts = (((1, float(k.efficiency)),) if isinstance(k.efficiency, float | int)
           else tuple((int(a), float(b)) for a, b in k.efficiency))
    return KernelFit(points=pts, overhead_cycles=k.overhead_cycles, axis=k.axis,
                     pack_bytes_per_s=k.pack_bandwidth)


def _kernels(u: ComputeUnitSpec) -> tuple[tuple[KernelClass, KernelFit], ...]:
    """The unit's calibrated kernel classes, in the vocabulary's order."""
    if not u.kernels:
        return ()
    out = []
    for cls in KernelClass:
        k = u.kernels.get(cls)
        if k is None:
            continue
        warm = _fit(k)
        cold = _fit(k.cold) if k.cold is not None else None
        if cold is not None and cold.pack_bytes_per_s is None:  # packs as warm, unless said
            cold = replace(cold, pack_bytes_per_s=warm.pack_bytes_per_s)
        out.append((cls, replace(warm, cold=cold)))
    return tuple(out)


def build_unit(u: ComputeUnitSpec, node_nm: float) -> ComputeUnit:
    """Build one compute unit."""
    energies, source = _unit_energies(u, node_nm)
    op_class = OpClass.ADDER if u.operation == Operation.ADDER else OpClass.MAC
    pe_area = u.pe_area if u.pe_area is not None else tech.pe_area_mm2(
        op_class, u.precisions[0], node_nm)
    return ComputeUnit(
        name=u.name, type=u.type, operation=u.operation,
        precisions=tuple(Precision(p) for p in u.precisions),
        rows=u.rows or 1, cols=u.cols or 1, depth=u.depth or 1, lanes=u.lanes or 1,
        cores=u.cores or 1, vector_width=u.vector_width, dataflow=u.resolved_dataflow, zero_skip=u.zero_skip,
        zero_gating=u.zero_gating, dram_overlap=u.dram_overlap,
        mapping_dram_weight=u.mapping_dram_weight, nm_sparsity=tuple(u.nm_sparsity),
        noc_energy_pj=(u.noc_energy or 0.0) * _J_TO_PJ,
        psum_bits=u.psum_bits,
        ops=tuple(u.ops) if u.ops is not None else None, fuses=tuple(u.fuses),
        reaches=tuple(u.reaches) if u.reaches is not None else None,
        efficiency=u.efficiency,
        layer_overhead_cycles=u.layer_overhead_cycles, fill_cycles=u.fill_cycles,
        kernels=_kernels(u), batchnorm=u.batchnorm, conv_dispatch=u.conv_dispatch,
        packs_channels=u.packs_channels, depth_unrolls=u.depth_unrolls,
        rows_pixel_tile=tuple(u.rows_pixel_tile) if u.rows_pixel_tile else None,  # type: ignore[arg-type]
        packs_narrow=u.packs_narrow, bit_serial=u.bit_serial,
        op_energy_pj=energies, pe_area_mm2=pe_area, leakage_w=u.leakage or 0.0,
        energy_source=source,
    )


def _default_energy_pj_per_byte(m: MemoryLevelSpec, node_nm: float) -> tuple[float, float, str]:
    word = m.word
    if m.type == MemoryType.DRAM:
        kind = m.dram_type or tech.DramType.LPDDR4
        e = tech.dram_pj_per_byte(kind)
        return e, e, tech.DRAM_SOURCE[kind] + " (not node-scaled)"
    if m.type == MemoryType.FLASH:
        return (tech.FLASH_READ_PJ_PER_BIT * 8, tech.FLASH_WRITE_PJ_PER_BIT * 8,
                "embedded NOR flash estimate ~1 pJ/bit read (uncertain)")
    scale = tech.energy_scale(node_nm)
    if m.type == MemoryType.REGFILE:
        e = tech.regfile_access_energy_45_pj(m.size, word) * scale / word
        return e, e, (f"register file: Aladdin 0.009 pJ/bit x sqrt(size/64 B), scaled to "
                      f"{node_nm:g} nm (x{scale:.3g})")
    e = tech.sram_access_energy_45_pj(m.size / m.banks, word) * scale / word
    note = (f"SRAM fit E64 = {tech.SRAM_FIT_A_PJ:.3g} pJ (C/8KB)^{tech.SRAM_FIT_K:.3f} through "
            f"Horowitz's 8 KB/32 KB/1 MB points, {int(word)}-B word, scaled to {node_nm:g} nm "
            f"(x{scale:.3g})")
    if m.banks > 1:
        note = f"{m.banks} banks of size/{m.banks}: " + note
    if m.type == MemoryType.CACHE:
        e *= tech.CACHE_FACTOR
        note += f", x{tech.CACHE_FACTOR} for the tag lookup"
    return e, e, note


def _per_byte_pj(value: float | tuple[float], word: float) -> float:
    if isinstance(value, tuple):  # per access of `word` bytes
        return value[0] * _J_TO_PJ / word
    return value * _J_TO_PJ


def build_level(m: MemoryLevelSpec, spec: HardwareSpec, main_pes: int) -> MemoryLevel:
    """Build one memory level."""
    node = spec.technology_nm
    read_d, write_d, source = _default_energy_pj_per_byte(m, node)
    read = _per_byte_pj(m.read_energy, m.word) if m.read_energy is not None else read_d
    if m.write_energy is not None:
        write = _per_byte_pj(m.write_energy, m.word)
    else:
        write = read if m.read_energy is not None else write_d
    if m.read_energy is not None or m.write_energy is not None:
        source = m.energy_source or "spec: explicit read/write energy"
    elif m.energy_source:
        source = m.energy_source + "; " + source
    served = 1
    for dim in m.served_dimensions:  # validated: only on a cube main unit, whose sizes are set
        served *= int(getattr(spec.compute[0], dim.value) or 1)
    instances = (m.instances if m.instances is not None
                 else (max(1, main_pes // served) if m.per_pe else 1))
    if m.area is not None:
        area = m.area
    elif m.type in (MemoryType.DRAM, MemoryType.FLASH):
        # DRAM is another chip; embedded flash (MCU) is on die: a NOR cell ~1/4 of an SRAM bit.
        area = 0.0 if m.type == MemoryType.DRAM else tech.sram_area_mm2(m.size, node) / 4
    elif m.type == MemoryType.REGFILE:
        area = tech.regfile_area_mm2(m.size, node) * instances
    else:
        area = tech.sram_area_mm2(m.size, node) * instances
    bandwidth = m.bandwidth if m.bandwidth is not None else m.word * spec.clock
    return MemoryLevel(
        name=m.name, type=m.type, size_bytes=int(round(m.size)),
        bandwidth_bytes_per_s=bandwidth, read_energy_pj_per_byte=read,
        write_energy_pj_per_byte=write, area_mm2=area, leakage_w=m.leakage or 0.0,
        holds=frozenset(m.holds), per_pe=m.per_pe, instances=instances,
        word_bytes=int(m.word), energy_source=source, compression=m.compression,
        bandwidth_declared=m.bandwidth is not None, banks=m.banks, dram_type=m.dram_type,
        retains_weights=m.retains_weights, served_dimensions=tuple(m.served_dimensions),
        double_buffered=m.double_buffered, channel_per_operand=m.channel_per_operand,
        pes_per_instance=served,
    )


def dvfs_energy_factor(spec: HardwareSpec) -> float:
    """(V_clock / V_top)^2: on-chip dynamic energy at the selected DVFS point relative to the
    fastest point, which the tables and explicit figures describe; 1 without DVFS points."""
    if not spec.dvfs:
        return 1.0
    top = max(spec.dvfs, key=lambda p: p.clock)
    chosen = min(spec.dvfs, key=lambda p: abs(p.clock - spec.clock))
    return float((chosen.voltage / top.voltage) ** 2)


def _scale_unit(u: ComputeUnit, k: float) -> ComputeUnit:
    if k == 1.0:
        return u
    table = {op: {p: e * k for p, e in per.items()} for op, per in u.op_energy_pj.items()}
    return replace(u, op_energy_pj=table, noc_energy_pj=u.noc_energy_pj * k,
                   energy_source=u.energy_source + f"; x{k:.3g} for the DVFS voltage (V/Vtop)^2")


def _scale_level(m: MemoryLevel, k: float) -> MemoryLevel:
    if k == 1.0 or m.is_offchip:
        return m
    return replace(m, read_energy_pj_per_byte=m.read_energy_pj_per_byte * k,
                   write_energy_pj_per_byte=m.write_energy_pj_per_byte * k,
                   energy_source=m.energy_source + f"; x{k:.3g} for the DVFS voltage (V/Vtop)^2")


# Built units by their spec (a design-space search builds the same units many times; a
# ComputeUnit is immutable, so designs may share one).
_UNITS: dict[tuple[str, float, float], ComputeUnit] = {}
_UNITS_SIZE = 512


# The same spec entry object (a design's entries its overrides left alone are the base's, see
# ``load.SpecLoader``) builds the same part: found by identity first, the entry kept alive
# beside it so its id is not reused.
_BY_ID: dict[tuple[object, ...], tuple[object, ComputeUnit | MemoryLevel]] = {}


def _remembered(entry: object, key: tuple[object, ...], part: ComputeUnit | MemoryLevel
                ) -> None:
    if len(_BY_ID) >= 2 * _UNITS_SIZE:
        _BY_ID.pop(next(iter(_BY_ID)))
    _BY_ID[(id(entry), *key)] = (entry, part)


def _built_unit(u: ComputeUnitSpec, node_nm: float, k: float) -> ComputeUnit:
    same = _BY_ID.get((id(u), node_nm, k))
    if same is not None and same[0] is u and isinstance(same[1], ComputeUnit):
        return same[1]
    key = (u.model_dump_json(), node_nm, k)
    hit = _UNITS.get(key)
    if hit is None:
        hit = _scale_unit(build_unit(u, node_nm), k)
        if len(_UNITS) >= _UNITS_SIZE:
            _UNITS.pop(next(iter(_UNITS)))
        _UNITS[key] = hit
    _remembered(u, (node_nm, k), hit)
    return hit


def _built_level(m: MemoryLevelSpec, spec: HardwareSpec, main_pes: int, k: float
                 ) -> MemoryLevel:
    main = spec.compute[0]  # its dimensions size the PE groups a served level covers
    key = (spec.technology_nm, spec.clock, main_pes, k, main.rows, main.cols, main.depth)
    same = _BY_ID.get((id(m), *key))
    if same is not None and same[0] is m and isinstance(same[1], MemoryLevel):
        return same[1]
    level = _scale_level(build_level(m, spec, main_pes), k)
    _remembered(m, key, level)
    return level


CODEBOOK_ENTRIES = 256  # the default decoder's codebook: 8-bit indices (Deep Compression's conv)


def _decoder_pj(spec: HardwareSpec) -> float:
    """Energy of one weight-decoder step (pJ): a codebook lookup, or a Huffman symbol decode
    (a table-driven decode, priced as a lookup: an assumption): the spec's, else a lookup in a
    register-file codebook of ``CODEBOOK_ENTRIES`` native-width weights; 0 without a decoder."""
    if spec.weight_decoder == WeightDecoder.NONE:
        return 0.0
    if spec.decoder_energy is not None:
        return spec.decoder_energy * _J_TO_PJ
    word = tech.precision_bits(spec.compute[0].precisions[0]) / 8
    return (tech.regfile_access_energy_45_pj(CODEBOOK_ENTRIES * word, word)
            * tech.energy_scale(spec.technology_nm))


def build_hardware(spec: HardwareSpec, source: str = "") -> Hardware:
    """Build the runtime :class:`Hardware` from a validated spec."""
    node = spec.technology_nm
    k = dvfs_energy_factor(spec)
    units = tuple(_built_unit(u, node, k) for u in spec.compute)
    main_pes = _pe_count(spec.compute[0])
    levels = tuple(_built_level(m, spec, main_pes, k) for m in spec.memory)
    for u in units:
        if u.dataflow == Dataflow.NONE and u.type in (UnitType.SYSTOLIC, UnitType.SPATIAL):
            raise SpecError("dataflow missing", file=source or None, field=f"compute.{u.name}")
    return Hardware(
        name=spec.name, kind=HardwareKind(spec.kind), technology_nm=node, clock_hz=spec.clock,
        compute=units, memory=levels, static_power_w=spec.static_power,
        fallback_unit=spec.fallback, residency=spec.residency,
        sparse_index_bits=spec.sparse_index_bits, area_overhead_fraction=spec.area_overhead,
        weight_decoder=spec.weight_decoder, decoder_energy_pj=_decoder_pj(spec) * k,
        dvfs=tuple(DvfsPoint(clock_hz=p.clock, voltage_v=p.voltage) for p in spec.dvfs),
        source=source, description=spec.description, citation=spec.source,
    )
