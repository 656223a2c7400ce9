"""BayBE side of the MolPAL benchmark: a whole campaign, run by
``benchmarks/.baybe-venv/bin/python`` (baybe 0.15.0 with its chemical encodings).

Usage: ``python _baybe_run.py IN.json OUT.json`` with ``IN`` = ``{"ids", "smiles", "scores",
"initial", "per_round", "rounds", "seed", "direction"}``. The molecules form one
``SubstanceParameter`` (ECFP encoding); BayBE's default recommender (a GP with its
acquisition) picks each batch after the given random ``initial`` ids, and only the picked
molecules' scores are added as measurements. Writes ``{"ids_by_round", "seconds_by_round"}``
after every round, so a run stopped by the benchmark's time or memory cap keeps its rounds.
"""

from __future__ import annotations

import json
import sys
import time
import warnings


def main(inp: str, out: str) -> None:
    import pandas as pd
    import torch
    from baybe import Campaign
    from baybe.parameters import SubstanceParameter
    from baybe.targets import NumericalTarget

    warnings.simplefilter("ignore")
    torch.set_num_threads(1)
    torch.manual_seed(0)
    d = json.loads(open(inp).read())
    score = dict(zip(d["ids"], d["scores"]))
    t0 = time.process_time()
    param = SubstanceParameter(name="mol", data=dict(zip(d["ids"], d["smiles"])),
                               encoding="ECFP")
    target = NumericalTarget(name="score", minimize=d["direction"] == "minimize")
    campaign = Campaign(searchspace=param, objective=target)
    rounds, seconds = [list(d["initial"])], [time.process_time() - t0]

    def measure(ids: list[str]) -> None:
        campaign.add_measurements(pd.DataFrame({"mol": ids, "score": [score[i] for i in ids]}))

    def save() -> None:
        with open(out, "w") as fh:
            json.dump({"ids_by_round": rounds, "seconds_by_round": seconds}, fh)

    measure(rounds[0])
    save()
    for _ in range(int(d["rounds"]) - 1):
        t0 = time.process_time()
        picked = campaign.recommend(batch_size=int(d["per_round"]))["mol"].astype(str).tolist()
        measure(picked)
        rounds.append(picked)
        seconds.append(time.process_time() - t0)
        save()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
