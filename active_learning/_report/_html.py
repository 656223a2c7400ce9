"""``scout report``: the plots a scientist wants after a campaign, and one HTML page with them.

The page (``index.html``) says what was done and found, with units from the simulator's target
table: a summary, the top candidates (id, SMILES, value with unit, round) with RDKit drawings,
the failures with their reasons, and the plots (:mod:`._plots`), each under a caption that
says what it shows:

- ``parity_round_NNN.png``: the scout's prediction at selection time (± 1 std error bars) against
  the simulated value, per model round; ``learning_curve.png``: their RMSE against the training
  set size; ``best_so_far.png``; ``time_split.png``: each round's seconds in train / compress /
  screen / prescreen / select and in the simulations; ``top_structures.png``;
- when they apply: ``topk_recall.png`` (a simulator that knows every answer),
  ``dose_response.png`` (``response`` curves, log dose axis), ``fidelity_parity.png``
  (multi-fidelity campaigns).
"""

from __future__ import annotations

import html
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from .._acquisition._functions import to_maximization_values
from .._ledger._keys import round_key
from .._ledger._ledger import Record
from .._ledger._session import Session
from . import _plots
from ._plots import Plot
from ._status import summarize
from ._structures import depict_top

__all__ = ["write_report"]


def _recall(session: Session, plans: list[dict[str, Any]], records: dict[int, Record],
            out: Path) -> tuple[list[Plot], dict[str, float] | None]:
    """Only for a simulator that knows every answer (``truth()``, a lookup table): the truth
    scores what the campaign found."""
    cfg = session.config
    if session.pool is None or not cfg.simulator.simulator_class.has_truth:
        return [], None
    table = (cfg.simulator.build().truth() or {}).get(cfg.campaign.objective)
    if not table:
        return [], None
    truth = np.array([table.get(str(i), math.nan) for i in session.pool.ids], dtype=float)
    ok = np.flatnonzero(np.isfinite(truth))
    k = min(cfg.campaign.top_k, ok.size)
    score = to_maximization_values(truth[ok], cfg.campaign.direction, cfg.campaign.target)
    true_top = set(ok[np.argsort(-score, kind="stable")[:k]].tolist())
    found = []
    for plan in plans:
        seen = {i for i, r in records.items() if r.state == "COMPLETE" and r.round <= plan["round"]}
        found.append(len(seen & true_top) / max(k, 1))
    plots = _plots.topk_recall(found, [p["round"] for p in plans], k, out)
    return plots, {"k": k, "final": found[-1] if found else 0.0}


def _curves(summary: dict[str, Any], session: Session, records: dict[int, Record], info: Any,
            out: Path) -> list[Plot]:
    best = [records[t["index"]] for t in summary["top"][:6]]
    curves = [r for r in best if "response" in r.values]
    if not curves:
        return []
    doses = curves[0].values.get("doses")
    if doses is None:
        doses = session.config.simulator.build().doses
    if doses is None:
        return []
    response = session.config.simulator.simulator_class.target_info("response")
    data = [(r.candidate_id, r.value, np.asarray(r.values["response"], dtype=float))
            for r in curves]
    return _plots.dose_response(data, np.asarray(doses, dtype=float), info, response, out)


def write_report(session: Session, out: str | os.PathLike) -> Path:
    """Draw every plot that applies into ``out`` and write ``out/index.html``; returns it."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    summary = summarize(session)
    if summary["evaluations"] == 0:
        raise ValueError(f"campaign {summary['name']!r} has no completed simulations to report")
    cfg = session.config
    info = cfg.simulator.simulator_class.target_info(cfg.campaign.objective)
    attrs = session.ledger.attrs()
    plans = [attrs[round_key(r["round"])] for r in summary["round_log"]]
    records = session.ledger.records()
    plots: list[Plot] = depict_top(summary["top"], info, out)
    parity, curve = _plots.parity(info, plans, records, out)
    plots += parity
    plots += _plots.learning_curve(info, curve, out)
    plots += _plots.best_so_far(info, session.ledger.trials(), cfg.campaign, out)
    plots += _plots.time_split(plans, [r["simulation_seconds"] for r in summary["round_log"]],
                               out)
    recall_plots, recall = _recall(session, plans, records, out)
    plots += recall_plots
    plots += _curves(summary, session, records, info, out)
    if cfg.fidelity is not None:
        cheap_cls = cfg.fidelity.simulator.simulator_class
        cheap_info = cheap_cls.target_info(cfg.fidelity.objective or cfg.campaign.objective)
        plots += _plots.fidelity_parity(session.cheap.records(), records, info, cheap_info,
                                        cfg.fidelity.simulator.kind, cfg.simulator.kind, out)
    return _write_html(summary, info, plots, recall, out)


_STYLE = """body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px;color:#222}
figure{display:inline-block;vertical-align:top;margin:0.6em;width:480px}
figure.wide{width:auto;display:block} img{max-width:100%} figcaption{font-size:0.9em;color:#444}
table{border-collapse:collapse;margin:0.5em 0} td,th{border:1px solid #ccc;padding:3px 8px;
text-align:left} td.num{text-align:right;font-variant-numeric:tabular-nums}
code{font-size:0.95em}"""


def _table(head: list[str], rows: list[list[str]], numeric: set[int]) -> str:
    e = html.escape
    h = "".join(f"<th>{e(c)}</th>" for c in head)
    body = "".join("<tr>" + "".join(
        f'<td class="num">{e(c)}</td>' if j in numeric else f"<td>{e(c)}</td>"
        for j, c in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><tr>{h}</tr>{body}</table>"


def _write_html(summary: dict[str, Any], info: Any, plots: list[Plot],
                recall: dict[str, float] | None, out: Path) -> Path:
    e = html.escape
    unit = f" {info.unit}" if info.unit else ""
    goal = summary["direction"] or f"into the window {summary['target']}{unit}"
    top = _table(["rank", "id", "SMILES", info.label, "round"],
                 [[str(i), str(t["id"]), str(t.get("smiles") or ""), f"{t['value']:.5g}",
                   str(t["round"])] for i, t in enumerate(summary["top"], 1)], {0, 3, 4})
    failures = summary["failures"]
    fail_html = "<p>None: every simulation succeeded.</p>" if not failures else _table(
        ["id", "SMILES", "round", "retries", "reason"],
        [[str(f["id"]), str(f.get("smiles") or ""), str(f.get("round", "")),
          str(f.get("retries", 0)), str(f["error"])] for f in failures], {2, 3})
    figures = "".join(
        f'<figure class="{"wide" if p.file == "top_structures.png" else ""}">'
        f'<img src="{e(p.file)}" alt="{e(p.file)}"><figcaption>{e(p.caption)}</figcaption>'
        f"</figure>" for p in plots if p.file != "top_structures.png")
    structures = "".join(
        f'<figure class="wide"><img src="{e(p.file)}" alt="structures of the best candidates">'
        f"<figcaption>{e(p.caption)}</figcaption></figure>"
        for p in plots if p.file == "top_structures.png")
    best = summary["best"]
    found = "" if best is None else (
        f"<p>Best: <b>{e(str(best['id']))}</b> "
        f"{('(<code>' + e(best['smiles']) + '</code>) ') if best.get('smiles') else ''}"
        f"with {e(info.name)} = <b>{best['value']:.5g}{e(unit)}</b> (round {best['round']}).</p>")
    extra = "" if recall is None else \
        f"<p>Top-{recall['k']} recall after the last round: {recall['final']:.0%}.</p>"
    state = summary["stop_reason"] or "in progress"
    page = f"""<!doctype html><html><head><meta charset="utf-8">
<title>scout report: {e(summary['name'])}</title><style>{_STYLE}</style></head><body>
<h1>Campaign {e(summary['name'])}</h1>
<p>{summary['evaluations']} candidates simulated, {summary['failed']} failed, in
{summary['rounds']} rounds; objective: {e(info.label)}{(' — ' + e(info.description))
if info.description else ''}, {e(str(goal))}. Status: {e(str(state))}.</p>
{found}{extra}
<h2>Best candidates</h2>{top}{structures}
<h2>Failures</h2>{fail_html}
<h2>Plots</h2>{figures}
<p><small>Everything here comes from the campaign's Optuna study ({e(summary['storage'])});
<code>scout export CONFIG --out results.csv</code> (or .sdf, .xyz, .db) writes every
candidate with its values, units and judged structure.</small></p>
</body></html>
"""
    path = out / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
