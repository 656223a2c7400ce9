"""The plots of ``scout report``, each with a caption that says what it shows.

Every plot is a ``matplotlib.figure.Figure`` drawn without pyplot (no backend is chosen and no
global state changes). Axes carry units from the simulator's target table (``target_info``
→ :class:`physics.TargetInfo`); a target read on a log scale (EC50, K) gets log axes and its
errors in decades; round axes have integer ticks.

Each function returns ``[Plot(file, caption)]`` (empty when it does not apply).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .._acquisition._functions import to_maximization_values
from .._ledger._ledger import Record

__all__ = ["Plot", "best_so_far", "dose_response", "fidelity_parity", "learning_curve",
           "parity", "time_split", "topk_recall"]

DPI = 110
#: the parts of a round's time, in the order they are stacked
TIME_PARTS = ("train", "compress", "screen", "prescreen", "select", "simulation")
_PART_TEXT = {"train": "training the scout (train)",
              "compress": "distilling the screener (compress)",
              "screen": "screening the pool (screen)",
              "prescreen": "the cheap judge's pre-screen (prescreen)",
              "select": "choosing the batch (select)"}


@dataclass(frozen=True)
class Plot:
    """A PNG written into the report folder and the caption shown under it."""

    file: str
    caption: str


def _save(fig: Figure, out: Path, name: str, caption: str) -> list[Plot]:
    fig.tight_layout()
    fig.savefig(out / name, dpi=DPI)
    return [Plot(name, caption)]


def _rounds_axis(ax: Any) -> None:
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _error(y: np.ndarray, m: np.ndarray, info: Any) -> tuple[float, str]:
    """RMSE of ``m`` against ``y`` — in decades (log10) for a log-scale target."""
    if info.log_scale and np.all(y > 0) and np.all(m > 0):
        return float(np.sqrt(np.mean((np.log10(m) - np.log10(y)) ** 2))), "decades"
    return float(np.sqrt(np.mean((m - y) ** 2))), info.unit


def parity(info: Any, plans: list[dict[str, Any]], records: dict[int, Record],
           out: Path) -> tuple[list[Plot], list[tuple[int, float, str]]]:
    """One plot per model round: the scout's prediction at selection time (± 1 std) against
    the simulated value. Returns the plots and ``(n_train, rmse, unit)`` per round."""
    plots, curve = [], []
    for plan in plans:
        pairs = [(m, s, records[i].value) for i, m, s in
                 zip(plan["batch"], plan["mean"], plan["std"])
                 if i in records and records[i].state == "COMPLETE"]
        if not plan["mean"] or not pairs:
            continue
        m, s, y = (np.array(v, dtype=float) for v in zip(*pairs))
        rmse, unit = _error(y, m, info)
        curve.append((int(plan["n_train"]), rmse, unit))
        inside = int(np.sum(np.abs(m - y) <= 2 * s))
        fig = Figure(figsize=(4.4, 4.2))
        ax = fig.subplots()
        ax.errorbar(y, m, yerr=s, fmt="o", ms=4, alpha=0.85, capsize=3, elinewidth=1,
                    label="pick (± 1 std)")
        lo, hi = float(min(y.min(), (m - s).min())), float(max(y.max(), (m + s).max()))
        if info.log_scale and lo > 0:
            ax.set_xscale("log")
            ax.set_yscale("log")
        ax.plot([lo, hi], [lo, hi], "k--", lw=1, label="agreement")
        ax.set_xlabel(f"simulated {info.label}")
        ax.set_ylabel(f"scout's prediction, {info.label}")
        ax.set_title(f"round {plan['round']}: RMSE {rmse:.3g} {unit}")
        ax.legend(fontsize=8, loc="upper left")
        caption = (f"Round {plan['round']}: the scout's prediction of {info.name} for each "
                   f"of the {len(y)} candidates it picked, made before they were simulated "
                   f"(error bars: ± 1 standard deviation of the scout's ensemble), against the "
                   f"simulated value; dashed: perfect agreement. Trained on "
                   f"{plan['n_train']} simulations; RMSE {rmse:.3g} {unit}; {inside} of "
                   f"{len(y)} within ± 2 std.")
        plots += _save(fig, out, f"parity_round_{plan['round']:03d}.png", caption)
    return plots, curve


def learning_curve(info: Any, curve: list[tuple[int, float, str]], out: Path) -> list[Plot]:
    if not curve:
        return []
    n, e, units = zip(*curve)
    fig = Figure(figsize=(5, 3.6))
    ax = fig.subplots()
    ax.plot(n, e, "o-")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("training set (completed simulations)")
    ax.set_ylabel(f"RMSE of the next picks ({units[0]})")
    ax.set_ylim(bottom=0)
    caption = (f"How well the scout predicts {info.name} for candidates it has not seen: the "
               f"RMSE of each round's picks (predicted before simulating them) against the "
               f"number of simulations it was trained on. Falling means the scout learns.")
    return _save(fig, out, "learning_curve.png", caption)


def best_so_far(info: Any, trials: list[Any], camp: Any, out: Path) -> list[Plot]:
    """Every simulated value in the order it was told, and the running best."""
    done = sorted((t for t in trials if t.state.name == "COMPLETE"),
                  key=lambda t: (t.datetime_complete or t.datetime_start, t.number))
    if not done:
        return []
    y = np.array([t.value for t in done], dtype=float)
    score = to_maximization_values(y, camp.direction, camp.target)
    best = y[np.array([int(np.argmax(score[:i + 1])) for i in range(len(y))])]
    x = np.arange(1, len(y) + 1)
    fig = Figure(figsize=(5.2, 3.7))
    ax = fig.subplots()
    ax.plot(x, y, ".", alpha=0.5, label="each simulation")
    ax.step(x, best, where="post", label="best so far")
    if camp.target is not None:
        ax.axhspan(*camp.target, color="tab:green", alpha=0.15, label="target window")
    if info.log_scale and np.all(y > 0):
        ax.set_yscale("log")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("simulations (in the order they finished)")
    ax.set_ylabel(info.label)
    ax.legend(fontsize=8)
    goal = camp.direction or f"inside {list(camp.target)} {info.unit}".rstrip()
    caption = (f"Every simulated {info.name} in the order the simulations finished (dots) and "
               f"the best so far (line; goal: {goal}). The best after {len(y)} simulations: "
               f"{best[-1]:.4g} {info.unit}.".replace(" .", "."))
    return _save(fig, out, "best_so_far.png", caption)


def time_split(plans: list[dict[str, Any]], sim_seconds: list[float], out: Path) -> list[Plot]:
    """Seconds per round: the coordinator's parts and the summed simulation time."""
    if not plans:
        return []
    rows = [{**p["times"], "simulation": s} for p, s in zip(plans, sim_seconds)]
    parts = [k for k in TIME_PARTS if any(r.get(k, 0.0) > 0 for r in rows)]
    rounds = [p["round"] for p in plans]
    fig = Figure(figsize=(5.2, 3.7))
    ax = fig.subplots()
    bottom = np.zeros(len(plans))
    for k in parts:
        v = np.array([r.get(k, 0.0) for r in rows])
        ax.bar(rounds, v, bottom=bottom, label=k)
        bottom += v
    _rounds_axis(ax)
    ax.set_xlabel("round")
    ax.set_ylabel("seconds")
    ax.legend(fontsize=8)
    total = float(np.sum(sim_seconds))
    share = total / max(float(bottom.sum()), 1e-12)
    shown = ", ".join(_PART_TEXT[k] for k in parts if k != "simulation")
    caption = (f"Where each round's time went: {shown}, and the simulations themselves "
               f"(summed over workers: {total:.0f} s in all, {share:.0%} of the total).")
    return _save(fig, out, "time_split.png", caption)


def topk_recall(found: list[float], rounds: list[int], k: int, out: Path) -> list[Plot]:
    fig = Figure(figsize=(5, 3.6))
    ax = fig.subplots()
    ax.plot(rounds, found, "o-")
    ax.set_ylim(0, 1.02)
    _rounds_axis(ax)
    ax.set_xlabel("round")
    ax.set_ylabel(f"fraction of the true top-{k} found")
    caption = (f"The simulator knows every answer (a table), so the campaign can be scored: "
               f"the fraction of the pool's true top-{k} among the candidates simulated by "
               f"the end of each round ({found[-1]:.0%} at the end).")
    return _save(fig, out, "topk_recall.png", caption)


def dose_response(curves: list[tuple[str, float, np.ndarray]], doses: np.ndarray,
                  info: Any, response: Any, out: Path) -> list[Plot]:
    if not curves:
        return []
    fig = Figure(figsize=(5.4, 3.9))
    ax = fig.subplots()
    for name, value, r in curves:
        ax.plot(np.maximum(doses, 1e-3), r, "o-", ms=3,
                label=f"{name} ({info.name} {value:.3g} {info.unit})".replace(" )", ")"))
    ax.set_xscale("log")
    ax.set_xlabel("inducer dose (µM)")
    ax.set_ylabel(response.label)
    ax.legend(fontsize=7)
    caption = (f"Simulated dose-response curves of the {len(curves)} best candidates on the "
               f"simulator's dose grid (log axis, µM), with their {info.name}.")
    return _save(fig, out, "dose_response.png", caption)


def fidelity_parity(cheap: dict[int, Any], records: dict[int, Record], info: Any,
                    cheap_info: Any, cheap_kind: str, kind: str, out: Path) -> list[Plot]:
    """``cheap``: the cheap ledger's records (pool index → ``CheapRecord``)."""
    pairs = [(cheap[i].value, r.value) for i, r in records.items()
             if r.state == "COMPLETE" and i in cheap and cheap[i].ok]
    if not pairs:
        return []
    c, y = (np.array(v, dtype=float) for v in zip(*pairs))
    fig = Figure(figsize=(4.4, 4.2))
    ax = fig.subplots()
    ax.plot(c, y, "o", ms=4, alpha=0.8)
    lo, hi = float(min(c.min(), y.min())), float(max(c.max(), y.max()))
    ax.plot([lo, hi], [lo, hi], "k--", lw=1)
    ax.set_xlabel(f"cheap judge ({cheap_kind}), {cheap_info.label}")
    ax.set_ylabel(f"{kind}, {info.label}")
    r = float(np.corrcoef(c, y)[0, 1]) if len(c) > 2 else math.nan
    caption = (f"The cheap judge ({cheap_kind}) against the expensive one ({kind}) for the "
               f"{len(c)} candidates that have both values; Pearson r = {r:.2f}. The cheap "
               f"value is what pre-screens each shortlist.")
    return _save(fig, out, "fidelity_parity.png", caption)
