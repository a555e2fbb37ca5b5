# Shared by scripts/ablation_queue.sh and scripts/filler_queue.sh (sourced, not run): the ablation
# settings (benchmark.toml's [variants.*] beside their base) and the Hopper budget (decided
# 2026-12-05; why in scripts/ablation_queue.sh and results/ablations/NOTES.md).
ABLATIONS=poligen,poligen_noweight,poligen_noscale,poligen_noweight_noscale,poligen_drive0
HOPPER_BUDGET=200000
# Hopper ablation runs cost very different wall times, because PoliGen pays its 25 updates per
# episode however short the episode (~0.9 s on two threads): what decides a run's cost is how long
# its episodes stay short. Two threads: the base's seed 0 took 5135 s to 200k on an Intel Xeon; on an
# AMD EPYC (2026-12-07, ~1.3-1.7x slower for PoliGen) poligen_drive0 seed 0 took 6,497 s
# (it fell until ~100k, as the base did); poligen_noweight
# 1.37 s an episode (uniform sampling pays more per update); seed 0 took 9,053 s there (fell until
# ~90k, then ~200-370 s per 10k on ~65-step episodes) -> 11,000 s allowed;
# poligen_noscale 7.5k after 1,220 s (the untrained unscaled generator's policies saturate and fall
# after ~8 steps) -> 8-9 h if they stay that short. HOPPER_ORDER lists them cheapest first;
# hopper_full ALGO prints the wall seconds of a whole run on the reference machine (worst case).
HOPPER_ORDER="poligen poligen_drive0 poligen_noweight poligen_noscale poligen_noweight_noscale"
hopper_full() {
    case $1 in
        *noscale*) echo 32000 ;;
        *noweight*) echo 11000 ;;
        *) echo 7300 ;;
    esac
}
