"""What ``scout status`` shows: a JSON-ready summary of the ledger and a rich table of it."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from .._acquisition._functions import to_maximization_values
from .._ledger._keys import FINISHED_KEY, STOP_KEY, round_key
from .._ledger._session import Session

__all__ = ["print_status", "summarize"]


def _num(v: float) -> float | None:
    return None if v is None or not math.isfinite(v) else float(v)


def _texts(session: Session, indices: list[int]) -> dict[int, str | None]:
    """Pool index -> its SMILES (molecules) or sequence, when the pool is loaded and has it."""
    pool = session.pool
    form = None if pool is None else {"molecules": "smiles", "sequences": "sequence"}.get(
        pool.kind)
    out: dict[int, str | None] = dict.fromkeys(indices)
    if form is None or not indices:
        return out
    for i in indices:
        try:
            out[i] = pool.get([i], form)[0]
        except ValueError:  # a structure file without SMILES
            out[i] = None
    return out


def summarize(session: Session) -> dict[str, Any]:
    """The campaign at a glance (every value JSON-serialisable).

    Keys: ``name``, ``storage`` (redacted), ``objective``, ``unit`` (the objective's, from
    the simulator's target table), ``direction``, ``target``, ``rounds`` (rounds completed),
    ``evaluations`` (candidates simulated successfully), ``failed`` (candidates failed for
    good, with id, SMILES and reason in ``failures``), ``pending``, ``finished``,
    ``stop_reason``, ``best`` ({id, value}), ``top`` (the top-k: id, index, smiles, value,
    round; ``smiles`` is the SMILES or sequence when the pool is loaded), ``round_log`` (per
    round: batch size, evaluations, best, time split, simulation seconds) and ``trials``:
    every trial as {id, value, state, round, number, error, retry_of}, and ``fidelity``
    (``None`` without ``[fidelity]``): the cheap judge's ``evaluations``, ``failed`` and
    ``seconds``.
    """
    cfg, ledger = session.config, session.ledger
    camp = cfg.campaign
    attrs = ledger.attrs()
    records = ledger.records()
    done = sorted((r for r in records.values() if r.state == "COMPLETE"), key=lambda r: r.index)
    top: list[dict[str, Any]] = []
    failed = [rec for rec in records.values() if rec.state == "FAIL"]
    order = []
    if done:
        score = to_maximization_values([r.value for r in done], camp.direction, camp.target)
        order = [done[int(j)] for j in np.argsort(-score, kind="stable")[:camp.top_k]]
    texts = _texts(session, [r.index for r in order + failed])
    for r in order:
        top.append({"id": r.candidate_id, "index": r.index, "smiles": texts[r.index],
                    "value": r.value, "round": r.round})
    round_log = []
    r = 0
    while round_key(r) in attrs:
        plan, summ = attrs[round_key(r)], attrs.get(round_key(r, done=True))
        sims = [records[i].seconds for i in plan["batch"] if i in records]
        round_log.append({"round": r, "batch": len(plan["batch"]), "times": plan["times"],
                          "simulation_seconds": float(np.nansum(sims)) if sims else 0.0,
                          "n_train": plan.get("n_train", 0),
                          "notes": plan.get("notes", []),
                          "evaluations": None if summ is None else summ["evaluations"],
                          "best": None if summ is None else summ["best"]})
        r += 1
    trials = []
    for t in sorted(ledger.trials(), key=lambda t: t.number):
        hist = t.system_attrs.get("retry_history", [])
        value = t.value if t.value is not None else None
        trials.append({"id": t.user_attrs.get("candidate_id"), "value": _num(value),
                       "state": t.state.name, "round": t.user_attrs.get("round"),
                       "number": t.number, "error": t.user_attrs.get("error"),
                       "retry_of": hist[-1] if hist else None})
    return {
        "name": cfg.name,
        "storage": cfg.redacted_storage,
        "objective": camp.objective,
        "unit": cfg.simulator.simulator_class.target_info(camp.objective).unit,
        "direction": camp.direction,
        "target": None if camp.target is None else list(camp.target),
        "rounds": sum(round_key(q, done=True) in attrs for q in range(r)),
        "evaluations": len(done),
        "failed": sum(rec.state == "FAIL" for rec in records.values()),
        "pending": sum(rec.state in ("WAITING", "RUNNING") for rec in records.values()),
        "finished": bool(attrs.get(FINISHED_KEY, False)),
        "stop_reason": attrs.get(STOP_KEY),
        "best": top[0] if top else None,
        "top": top,
        "failures": [{"id": rec.candidate_id, "index": rec.index, "smiles": texts[rec.index],
                      "round": rec.round, "retries": rec.retries, "error": rec.error}
                     for rec in failed],
        "round_log": round_log,
        "trials": trials,
        "fidelity": _fidelity_summary(session) if cfg.fidelity is not None else None,
    }


def _fidelity_summary(session: Session) -> dict[str, Any]:
    """The cheap judge's recorded results: how many succeeded, failed, and their cost (s)."""
    cheap = session.cheap.records().values()
    return {"evaluations": sum(r.ok for r in cheap),
            "failed": sum(not r.ok for r in cheap),
            "seconds": float(sum(r.seconds for r in cheap))}


def print_status(summary: dict[str, Any], console: Console | None = None) -> None:
    """Print the summary as a few lines and the top-k table."""
    console = console or Console()
    goal = summary["direction"] or f"target window {summary['target']}"
    state = "finished: " + str(summary["stop_reason"]) if summary["finished"] else "in progress"
    console.print(f"[bold]{summary['name']}[/] ({summary['storage']}): {state}")
    console.print(f"rounds {summary['rounds']}, evaluations {summary['evaluations']}, failed "
                  f"{summary['failed']}, pending {summary['pending']}; objective "
                  f"{summary['objective']} ({goal})")
    if summary.get("fidelity"):
        fid = summary["fidelity"]
        console.print(f"cheap pre-screen: {fid['evaluations']} evaluations, {fid['failed']} "
                      f"failed, {fid['seconds']:.1f} s")
    unit = f" {summary['unit']}" if summary.get("unit") else ""
    if summary["best"]:
        console.print(f"best so far: {summary['best']['id']} = "
                      f"{summary['best']['value']:.6g}{unit}")
    for entry in summary["round_log"]:
        for note in entry.get("notes", []):
            console.print(f"[yellow]round {entry['round']}[/]: {note}")
    label = f"{summary['objective']} ({summary['unit']})" if summary.get("unit") \
        else summary["objective"]
    with_text = any(row.get("smiles") for row in summary["top"])
    table = Table(title=f"top {len(summary['top'])}")
    for col in ("rank", "id", *(("SMILES",) if with_text else ()), label, "round"):
        table.add_column(col, justify="right" if col == label else "left",
                         overflow="fold")
    for i, row in enumerate(summary["top"], 1):
        cells = [str(i), str(row["id"])]
        if with_text:
            cells.append(str(row.get("smiles") or ""))
        table.add_row(*cells, f"{row['value']:.6g}", str(row["round"]))
    console.print(table)
    if summary["failures"]:
        shown = summary["failures"][:5]
        console.print(f"{len(summary['failures'])} failed, e.g.: " +
                      "; ".join(f"{f['id']}: {f['error']}" for f in shown))
