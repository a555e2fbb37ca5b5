# Shared by scripts/ablation_queue.sh and scripts/filler_queue.sh (sourced, not run): the ablation
# settings (benchmark.toml's [variants.*] beside their base) and the Hopper budget (decided
# 2026-12-05; why in scripts/ablation_queue.sh and results/ablations/NOTES.md).
ABLATIONS=poligen,poligen_noweight,poligen_noscale,poligen_noweight_noscale,poligen_drive0
HOPPER_BUDGET=200000
