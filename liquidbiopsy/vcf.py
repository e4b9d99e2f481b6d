"""Reading a VCF as variant callers write it (DESIGN.md §6), with vcfpy.

vcfpy (pure Python, maintained, reads VCF 4.1-4.3 headers and typed INFO/FORMAT values by
their declared Number) parses the header and each record; this module decides what the
record means for a lab report. The file is read line by line so that every error names
its line; nothing here raises for any input.

1. The sample: the one named by ``##tumor_sample=``, else the column named TUMOR
   (Strelka2, VarScan2), else the only sample; several samples and none of these is an
   error naming them, and so are ##tumor_sample lines naming different samples. A VCF
   without sample columns (LoFreq) uses INFO.
2. Allele fraction, first that applies: the sample's FORMAT AF; its FORMAT AD (ref, alt...
   depths, Number=R); the caller's own counts (Strelka2 tier-1 ``<ALT>U`` over
   AU+CU+GU+TU, Strelka2 indels TIR/(TIR+TAR), FreeBayes AO/(AO+RO), VarScan2 FREQ in
   percent, a fraction when declared Type=Float as bcbio rewrites it, or AD/(AD+RD) with
   its one-value AD); INFO AF only without sample columns (INFO AF of a genotyped file is
   0.5 for a heterozygote, never the sample's fraction). A per-allele AF is read only at
   the length its Number= gives (one per ALT, or REF first for Number=R): a list of another
   length ("1,5" for 1.5) falls back to AD, else is an error, never its first value.
   One-value counts (FREQ, TIR/TAR, VarScan2 AD/RD) on a multi-allelic record are an error.
3. Depth: the sample's FORMAT DP, else the sum of the counts used (INFO DP without samples).
4. FILTER other than PASS (in any case) or "." is kept as the call's ``filter`` (shown,
   never used by the rule); a multi-allelic record gives one call per ALT, per-allele
   fields to their allele. A symbolic structural variant (<DEL>, <DUP>...) outside ESR1 is
   skipped with a note; one in ESR1 is an error (skipped, it would read "not detected").
5. Gene and HGVS from INFO: GENE, GENEINFO, SYMBOL, HGVSP/HGVSC, SnpEff ANN or VEP CSQ
   (the entry of the allele, the canonical ESR1 transcript first: ANN names the ALT as
   written, CSQ in VEP's form, "-" for a deletion and without the shared first base, or by
   ALLELE_NUM; an ALT that no entry names gets no annotation, never another allele's). A
   record in ESR1's span without a gene annotation is ESR1.
6. The build: ``##genome_build``, ``##reference`` (a build name, or a path naming one: hg38,
   hs38DH, Homo_sapiens_assembly38, hs37d5, Homo_sapiens_assembly19...; a path naming two
   builds is an error), or the length of chromosome 6 in ``##contig`` lines; sources that
   disagree are an error.
"""

from __future__ import annotations

import io
import re
import warnings
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any
from urllib.parse import unquote

import vcfpy
from vcfpy.parser import HeaderParser

from liquidbiopsy.coordinates import CHR6_LENGTH, GRCH37, GRCH38, normalise_build

VCF_COLUMNS = ("CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO")
PASSING_FILTERS = frozenset({"PASS", "."})
TUMOR_COLUMN = "TUMOR"
ESR1_TRANSCRIPTS = ("NM_000125", "ENST00000206249")
# ESR1's span on chromosome 6 (1-based, inclusive), for records without a gene annotation.
ESR1_SPAN = {GRCH38: (151_656_691, 152_129_619), GRCH37: (151_977_826, 152_450_754)}
_QUANTUM = Decimal("1e-10")
# Build names in ##reference paths: the builds, UCSC's names, and the reference files that
# pipelines use (bwa-kit's hs38/hs38DH, 1000 Genomes' hs37d5 and human_g1k_v37, Broad's
# Homo_sapiens_assembly38 and its b37, Homo_sapiens_assembly19).
_BUILD_IN_TEXT = re.compile(
    r"(?<![A-Za-z0-9])(GRCh3[78]|hg19|hg38|b37|hs37d5|hs38DH|hs38d1|hs38|human_g1k_v37"
    r"|Homo_sapiens_assembly38|Homo_sapiens_assembly19)(?![0-9])",
    re.IGNORECASE,
)
_BUILD_WORDS = {
    "hs37d5": GRCH37,
    "human_g1k_v37": GRCH37,
    "homo_sapiens_assembly19": GRCH37,
    "hs38": GRCH38,
    "hs38d1": GRCH38,
    "hs38dh": GRCH38,
    "homo_sapiens_assembly38": GRCH38,
}
_READ_BASES = ("A", "C", "G", "T")

Problem = tuple[int | None, str | None, str]  # (line, field, message)


def _ratio(numerator: int, denominator: int) -> str:
    return str((Decimal(numerator) / Decimal(denominator)).quantize(_QUANTUM, ROUND_HALF_EVEN))


def _number(value: Any) -> Any:
    """A JSON-like number for a float or int value vcfpy gave; text stays text."""
    if isinstance(value, float):
        return repr(value) if value == value else "nan"  # keeps every digit the file gave
    return value


class _Header:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.tumor_samples: list[tuple[str, int]] = []  # (name, line) of each ##tumor_sample
        self.builds: list[tuple[str, int, str]] = []  # (build, line, source)


def _header_build(key: str, value: str, number: int, header: _Header, problems) -> None:
    if key == "genome_build":
        try:
            header.builds.append((normalise_build(value), number, "##genome_build"))
        except ValueError as exc:
            problems.append((number, "genome_build", str(exc)))
    elif key == "reference":
        named = {}  # build: the first word of the path that names it
        for found in _BUILD_IN_TEXT.finditer(value):
            word = found[1].lower()
            named.setdefault(_BUILD_WORDS.get(word) or normalise_build(word), found[1])
        if len(named) > 1:
            words = ", ".join(f"{word} ({build})" for build, word in named.items())
            problems.append((number, "genome_build", f"##reference names two builds ({words})."))
        elif named:
            header.builds.append((next(iter(named)), number, "##reference"))
    elif key == "contig":
        chrom = re.search(r"ID=(?:chr)?6[,>]", value, re.IGNORECASE)
        length = re.search(r"length=(\d+)", value)
        if chrom and length:
            for build, expected in CHR6_LENGTH.items():
                if int(length[1]) == expected:
                    header.builds.append((build, number, "##contig"))


def read_header(lines: list[str], field_keys) -> tuple[_Header, dict, list[Problem], int]:
    """The header lines up to and including #CHROM: (header, {key: (value, line)}, problems,
    index of the #CHROM line or -1)."""
    header, fields, problems = _Header(), {}, []
    parser = HeaderParser()
    for index, line in enumerate(lines):
        number = index + 1
        if line.startswith("##"):
            key, _, value = line[2:].partition("=")
            key, value = key.strip(), value.strip()
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    parser.parse_line(line)
            except Exception as exc:  # vcfpy's header errors have no common base class
                problems.append((number, None, f"Unreadable header line ({exc})."))
                continue
            header.lines.append(line)
            if key == "tumor_sample":
                header.tumor_samples.append((value, number))
            elif key in ("genome_build", "reference", "contig"):
                _header_build(key, value, number, header, problems)
            if key in field_keys:
                fields.setdefault(key, []).append((value, number))
        elif line.startswith("#"):
            header.lines.append(line)
            return header, fields, problems, index
        elif line.strip():
            return header, fields, problems, -1
    return header, fields, problems, -1


def genome_build(header: _Header, problems: list[Problem]) -> str | None:
    """The build the header states, or None; disagreeing sources are one error."""
    builds = {build for build, _, _ in header.builds}
    if len(builds) > 1:
        where = ", ".join(
            f"{source} (line {line}): {build}" for build, line, source in header.builds
        )
        problems.append(
            (header.builds[-1][1], "genome_build", f"The header names two builds: {where}.")
        )
        return None
    return next(iter(builds), None)


def choose_sample(
    header: _Header, samples: list[str], line: int
) -> tuple[str | None, Problem | None]:
    """DESIGN.md §6: ##tumor_sample, else the TUMOR column, else the only sample. Several
    ##tumor_sample lines naming different samples (a multi-tumour Mutect2 run) leave the
    tumour unknown: an error naming them, never the last line's sample."""
    names = {name for name, _ in header.tumor_samples}
    if len(names) > 1:
        where = ", ".join(f"{name} (line {number})" for name, number in header.tumor_samples)
        return None, (
            header.tumor_samples[-1][1],
            "tumor_sample",
            f"Several ##tumor_sample lines name different samples: {where}; which is the "
            "tumour is not known. Give one ##tumor_sample line, naming this report's sample.",
        )
    if header.tumor_samples:
        name, number = header.tumor_samples[0]
        if name in samples:
            return name, None
        listed = ", ".join(samples) or "none"
        return None, (
            number,
            "tumor_sample",
            f"##tumor_sample={name} names no sample column (the samples are: {listed}).",
        )
    if not samples:
        return None, None
    if TUMOR_COLUMN in samples:
        return TUMOR_COLUMN, None
    if len(samples) == 1:
        return samples[0], None
    listed = ", ".join(samples)
    return None, (
        line,
        "sample",
        f"Several samples ({listed}) and no ##tumor_sample line or TUMOR column: "
        "say which sample is the tumour with ##tumor_sample=NAME.",
    )


def _shown(values: list) -> str:
    return ", ".join("." if v is None else str(_number(v)) for v in values)


def _per_allele(value: Any, index: int, n_alts: int, number: Any, name: str):
    """(ALT `index`'s value, None) of a per-allele field declared with Number=`number`;
    (None, None) when the field is absent or "."; (None, why) when its length fits neither
    one value per ALT (Number=A, or a one-value Number=1 on a one-ALT record) nor, for
    Number=R, REF and each ALT. Never the first value whatever the length: "1,5" is not 1.0,
    and a Number=R list's first value is the REF allele's."""
    if value is None:
        return None, None
    values = value if isinstance(value, list) else [value]
    if all(v is None for v in values):
        return None, None
    reference = number == "R"
    wanted = n_alts + 1 if reference else n_alts
    if len(values) == wanted:
        return values[index + 1 if reference else index], None
    plural = "s" if n_alts > 1 else ""
    needs = (
        f"one for REF and one per ALT allele (Number=R), {wanted} in all"
        if reference
        else "one per ALT allele (Number=A)"
    )
    comma = len(values) == 2 and n_alts == 1 and not reference
    hint = " A decimal comma reads as two values: write 0.015, not 0,015." if comma else ""
    return None, (
        f"{name} has {len(values)} value{'s' if len(values) > 1 else ''} ({_shown(values)}) "
        f"for {n_alts} ALT allele{plural}; it needs {needs}.{hint}"
    )


def _tier1(value: Any) -> Any:
    """Strelka2's tier-1 count: the first of its "tier 1,tier 2" pair (Number=2), or the one
    value when a pipeline declares it Number=1."""
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _one_value_for_alleles(counts: str, n_alts: int) -> str:
    return (
        f"{counts} count one allele, and this record has {n_alts} ALT alleles: which one they "
        "belong to is not known. Write one record per ALT allele (bcftools norm -m-)."
    )


def _ints(value: Any) -> list[int] | None:
    values = value if isinstance(value, list) else [value]
    if not values or any(not isinstance(v, int) or isinstance(v, bool) or v < 0 for v in values):
        return None
    return values


def allele_fraction(
    *,
    data: dict | None,
    info: dict,
    alt_index: int,
    n_alts: int,
    alt: str,
    ad_number,
    af_number: Any = "A",
    info_af_number: Any = "A",
) -> tuple[dict[str, Any], str | None]:
    """({"vaf" or "vaf_percent": ..., "depth": ...}, problem) by DESIGN.md §6's precedence.
    `ad_number`, `af_number`, `info_af_number`: the Number= the header declares for FORMAT
    AD, FORMAT AF and INFO AF."""
    out: dict[str, Any] = {}
    if data is None:  # no sample columns: the caller's INFO is the sample
        af, problem = _per_allele(info.get("AF"), alt_index, n_alts, info_af_number, "INFO/AF")
        if problem is not None:
            return out, problem
        if af is None:
            return out, "No allele fraction: a VCF without sample columns needs INFO/AF."
        out["vaf"] = _number(af)
        if isinstance(info.get("DP"), int):
            out["depth"] = info["DP"]
        return out, None
    depth = data.get("DP") if isinstance(data.get("DP"), int) else None
    counted: int | None = None
    af, af_problem = _per_allele(data.get("AF"), alt_index, n_alts, af_number, "FORMAT/AF")
    ad = data.get("AD")
    if af is not None:
        out["vaf"] = _number(af)
    elif ad_number != 1 and isinstance(ad, list) and len(ad) == n_alts + 1 and _ints(ad):
        total = sum(ad)
        if total == 0:
            return out, "FORMAT/AD counts no reads, so it gives no allele fraction."
        out["vaf"] = _ratio(ad[alt_index + 1], total)
        counted = total
    elif af_problem is not None:  # a malformed AF and no AD to read instead
        return out, af_problem
    elif alt.upper() in _READ_BASES and all(f"{b}U" in data for b in _READ_BASES):
        tier1 = {b: _tier1(data[f"{b}U"]) for b in _READ_BASES}
        if not _ints(list(tier1.values())):
            return out, "Strelka2 counts AU, CU, GU, TU are not read counts."
        total = sum(tier1.values())
        if total == 0:
            return out, "Strelka2 counts AU, CU, GU, TU count no reads."
        out["vaf"] = _ratio(tier1[alt.upper()], total)
        counted = total
    elif "TIR" in data and "TAR" in data:
        if n_alts > 1:
            return out, _one_value_for_alleles("Strelka2 TIR/TAR", n_alts)
        tir, tar = _tier1(data["TIR"]), _tier1(data["TAR"])
        if not _ints([tir, tar]) or tir + tar == 0:
            return out, "Strelka2 indel counts TIR/TAR are missing or count no reads."
        out["vaf"] = _ratio(tir, tir + tar)
        counted = tir + tar
    elif "AO" in data and "RO" in data:
        ao, ro = _ints(data["AO"]), _ints(data["RO"])
        if ao is None or ro is None or len(ao) != n_alts or sum(ao) + sum(ro) == 0:
            return out, "FreeBayes counts AO/RO are missing or count no reads."
        out["vaf"] = _ratio(ao[alt_index], sum(ao) + sum(ro))
        counted = sum(ao) + sum(ro)
    elif data.get("FREQ") not in (None, "", ".", []):
        if n_alts > 1:
            return out, _one_value_for_alleles("VarScan2 FREQ", n_alts)
        value = data["FREQ"] if not isinstance(data["FREQ"], list) else data["FREQ"][0]
        if isinstance(value, float):
            # Declared Type=Float: bcbio's rewrite of VarScan2's "0.59%" as the fraction 0.0059.
            out["vaf"] = _number(value)
        else:
            freq = str(value).strip()
            if not re.fullmatch(r"[0-9]+(?:\.[0-9]+)?%", freq):
                return out, (
                    f"VarScan2 FREQ '{freq}' is not a percentage such as 0.6%; a fraction "
                    "(0.006) is read only from a FREQ declared Type=Float, as bcbio writes it."
                )
            out["vaf_percent"] = freq.rstrip("%")
    elif "RD" in data and ad is not None:
        if n_alts > 1:
            return out, _one_value_for_alleles("VarScan2 AD/RD", n_alts)
        alt_reads, ref_reads = _ints(ad), _ints(data["RD"])
        if alt_reads is None or ref_reads is None or len(alt_reads) != 1:
            return out, "VarScan2 AD/RD are not read counts."
        total = alt_reads[0] + ref_reads[0]
        if total == 0:
            return out, "VarScan2 AD/RD count no reads."
        out["vaf"] = _ratio(alt_reads[0], total)
        counted = total
    elif ad is not None:
        return out, f"FORMAT/AD '{ad}' gives no allele fraction for this record's alleles."
    else:
        return out, (
            "No allele fraction for the sample: give FORMAT/AF or FORMAT/AD (ref,alt), or the "
            "caller's counts."
        )
    if depth is None:
        depth = counted
    if depth is not None:
        out["depth"] = depth
    return out, None


def _annotation_fields(header_lines: list[str], key: str) -> list[str]:
    for line in header_lines:
        if line.startswith(f"##INFO=<ID={key},"):
            found = re.search(r"Format: ?([^\"]+)", line)
            if found:
                return [f.strip() for f in found[1].split("|")]
    return []


def _info_number(header_lines: list[str], key: str) -> str:
    """The Number= an INFO field is declared with ('A', 'R', '1', '.', ...), '' if undeclared."""
    for line in header_lines:
        line = str(line)
        if line.startswith(f"##INFO=<ID={key},"):
            found = re.search(r"Number=([^,>]+)", line)
            return found[1] if found else ""
    return ""


# Plain INFO annotations that name one allele's change: a multi-allelic record must give
# each allele its own value (Number=A or R), never the first allele's for all of them.
PER_ALLELE_TEXT = {"HGVSP", "HGVS_P", "HGVSC", "HGVS_C"}


def _info_of_allele(key: str, value, alt_index: int, n_alts: int, header_lines: list[str]):
    """One INFO value for ALT allele `alt_index` of `n_alts` (DESIGN §6: per-allele fields
    go to their allele). A change annotation that cannot be tied to one allele of a
    multi-allelic record is dropped (the call is then matched by position and allele)."""
    if not isinstance(value, list):
        # One value: the record's (or, multi-allelic, no allele's own change annotation).
        return None if n_alts > 1 and key in PER_ALLELE_TEXT else value
    values = value
    number = _info_number(header_lines, key)  # the header is read only for list values
    if number == "A" and len(values) == n_alts:
        return values[alt_index]
    if number == "R" and len(values) == n_alts + 1:
        return values[alt_index + 1]
    if n_alts > 1 and key in PER_ALLELE_TEXT:
        return values[alt_index] if len(values) == n_alts else None
    return values[0] if values else value


def _is_sequence(allele: str) -> bool:
    return allele.isalpha()  # not "*", "<DEL>", a breakend or "."


def _vep_default(ref: str, alts: list[str], *, star: bool) -> list[str]:
    """The ALTs as VEP writes them in CSQ's Allele without --minimal: when an ALT differs
    from REF in length and REF and every ALT share their first base, that base is removed
    from each, an emptied allele being "-" (REF AC, ALT A,ACC: "-", "CC"). `star`: whether
    "*" and symbolic alleles take part in the shared-base test (VEP versions differ)."""
    taking = [a for a in alts if star or _is_sequence(a)]
    indel = any(len(a) != len(ref) for a in taking)
    if not (indel and ref and all(a[:1] == ref[:1] for a in taking)):
        return list(alts)
    return [(a[1:] or "-") if (star or _is_sequence(a)) else a for a in alts]


def _vep_minimal(ref: str, alt: str, *, prefix_first: bool) -> str:
    """An ALT as `vep --minimal` writes it: the bases it shares with REF at either end
    removed, "-" when none is left."""
    if not _is_sequence(alt):
        return alt
    r, a = ref, alt

    def prefix():
        nonlocal r, a
        while r and a and r[0] == a[0]:
            r, a = r[1:], a[1:]

    def suffix():
        nonlocal r, a
        while r and a and r[-1] == a[-1]:
            r, a = r[:-1], a[:-1]

    for trim in (prefix, suffix) if prefix_first else (suffix, prefix):
        trim()
    return a or "-"


def _vep_forms(ref: str, alts: list[str], alleles: set[str]) -> list[str]:
    """Each ALT as this file's CSQ names it: the first of VEP's ways of writing alleles
    (default, then --minimal) that tells the ALTs apart and names every CSQ allele; else
    the default, under which an allele written otherwise annotates no ALT."""
    schemes = [
        _vep_default(ref, alts, star=True),
        _vep_default(ref, alts, star=False),
        [_vep_minimal(ref, a, prefix_first=True) for a in alts],
        [_vep_minimal(ref, a, prefix_first=False) for a in alts],
    ]
    for forms in schemes:
        if len(set(forms)) == len(forms) and alleles <= set(forms):
            return forms
    return schemes[0]


def _entry_is_mine(entry: dict, alt_index: int, n_alts: int, mine: str) -> bool:
    """Whether an ANN/CSQ entry annotates ALT `alt_index`: by VEP's ALLELE_NUM (1-based)
    when it gives one, else by its allele (`mine`, the ALT in the annotator's form). An
    entry without an allele annotates a one-ALT record's only allele, and nothing else."""
    number = entry.get("allele_num", "")
    if number.isdigit():
        return int(number) == alt_index + 1
    if not entry["allele"]:
        return n_alts == 1
    return entry["allele"] == mine


def annotation(
    info: dict,
    alt: str,
    header_lines: list[str],
    *,
    alt_index: int = 0,
    n_alts: int = 1,
    ref: str = "",
    alts: list[str] | None = None,
) -> dict[str, str]:
    """gene, hgvs_p, hgvs_c, transcript of one allele from the record's INFO. `ref` and
    `alts` (the record's REF and every ALT as written) give VEP's form of each ALT; an ALT
    that no ANN/CSQ entry names gets none of them, never another allele's."""
    out: dict[str, str] = {}
    entries: list[dict[str, str]] = []
    for key, names in (
        (
            "ANN",
            [
                "Allele",
                "Annotation",
                "Annotation_Impact",
                "Gene_Name",
                "Gene_ID",
                "Feature_Type",
                "Feature_ID",
                "Transcript_BioType",
                "Rank",
                "HGVS.c",
                "HGVS.p",
            ],
        ),
        ("CSQ", _annotation_fields(header_lines, "CSQ")),
    ):
        raw = info.get(key)
        if not raw or not names:
            continue
        if key == "ANN":
            names = _annotation_fields(header_lines, "ANN") or names
            names = [n.replace("'", "").strip() for n in names]
        for item in raw if isinstance(raw, list) else [raw]:
            values = str(item).split("|")
            entry = dict(zip(names, values, strict=False))
            entries.append(
                {
                    "source": key,
                    "allele": entry.get("Allele", "").strip(),
                    "allele_num": entry.get("ALLELE_NUM", "").strip(),
                    "gene": entry.get("Gene_Name") or entry.get("SYMBOL", ""),
                    "transcript": entry.get("Feature_ID") or entry.get("Feature", ""),
                    "hgvs_c": entry.get("HGVS.c") or entry.get("HGVSc", ""),
                    "hgvs_p": entry.get("HGVS.p") or entry.get("HGVSp", ""),
                }
            )
    csq_alleles = {e["allele"] for e in entries if e["source"] == "CSQ" and e["allele"]}
    vep = alt  # this ALT as VEP's CSQ names it
    if csq_alleles:
        known = alts is not None and alt_index < len(alts)
        vep = _vep_forms(ref, alts if known else [alt], csq_alleles)[alt_index if known else 0]
    mine = [
        e
        for e in entries
        # SnpEff's ANN names the ALT as the VCF writes it; VEP's CSQ in its own form.
        if _entry_is_mine(e, alt_index, n_alts, vep if e["source"] == "CSQ" else alt)
    ]
    if mine:
        mine.sort(key=lambda e: not e["transcript"].startswith(ESR1_TRANSCRIPTS))
        best = mine[0]
        for field in ("gene", "transcript", "hgvs_c", "hgvs_p"):
            if best[field]:
                out[field] = unquote(best[field])
        if out.get("hgvs_c") and ":" in out["hgvs_c"]:
            out["hgvs_c"] = out["hgvs_c"].split(":", 1)[1]
    text = {k: _info_of_allele(k, v, alt_index, n_alts, header_lines) for k, v in info.items()}
    gene = text.get("GENE") or text.get("SYMBOL") or ""
    if not gene and text.get("GENEINFO"):
        gene = str(text["GENEINFO"]).split("|")[0].partition(":")[0]
    for field, keys in (
        ("gene", [gene]),
        ("hgvs_p", [text.get("HGVSP"), text.get("HGVS_P")]),
        ("hgvs_c", [text.get("HGVSC"), text.get("HGVS_C")]),
        ("transcript", [text.get("TRANSCRIPT")]),
    ):
        value = next((str(k) for k in keys if k not in (None, "", True)), "")
        if value and field not in out:
            out[field] = unquote(value)
    return out


def parse_record(reader, line: str):
    """The vcfpy record of one line, or the problem as text."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return reader.parser.parse_line(line), None
    except Exception as exc:  # vcfpy raises ValueError, IndexError, KeyError... by field
        return None, f"Unreadable record ({type(exc).__name__}: {exc})."


def declared_number(reader, kind: str, key: str) -> Any:
    """The Number= the header declares for an INFO or FORMAT field (vcfpy's default for an
    undeclared one: AD is Number=R, FORMAT AF '.', INFO AF A); None for a declaration vcfpy
    cannot read (a line without Type=, say)."""
    get = (
        reader.header.get_info_field_info if kind == "INFO" else reader.header.get_format_field_info
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return getattr(get(key), "number", None)
    except Exception:  # vcfpy raises KeyError, ValueError... for a malformed declaration
        return None


def make_reader(header_lines: list[str]):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return vcfpy.Reader.from_stream(io.StringIO("\n".join(header_lines) + "\n"))
