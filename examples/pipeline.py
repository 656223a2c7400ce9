"""A lab pipeline driving a campaign from Python (the same loop as `scout run`).

Run from the repository root: ``python examples/pipeline.py``. Stop it at any moment and run
it again: the campaign resumes from its Optuna study and nothing is simulated twice.
"""

from active_learning import Campaign, CampaignConfig

config = CampaignConfig.from_toml("examples/molecules/campaign.toml")
summary = Campaign(config).run()                  # trains, screens, simulates, resumes

print(f"{summary['evaluations']} simulations, {summary['failed']} failed "
      f"({summary['stop_reason']})")
for rank, row in enumerate(summary["top"][:5], 1):  # hand the best on to the next lab step
    print(f"{rank}. {row['id']}: {config.campaign.objective} = {row['value']:.3f}")
