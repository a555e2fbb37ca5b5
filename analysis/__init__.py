"""analysis: stored runs -> statistics -> tables and figures -> report and regression check.

- :mod:`analysis.load`: run directories into tidy pandas frames, with completeness checks;
- :mod:`analysis.bootstrap`: one seeded generator per interval, the vectorised stratified bootstrap;
- :mod:`analysis.stats`: rliable stratified-bootstrap statistics over those frames;
- :mod:`analysis.tables` / :mod:`analysis.figures`: Table 1 and the figures (pure writers);
- :mod:`analysis.report`: ``bench report`` (one folder with ``index.html``);
- :mod:`analysis.goals`: the report's goal section (success rate and distance with CIs, P(X > Y));
- :mod:`analysis.ablations`: the report's ablation section (variants beside their base);
- :mod:`analysis.readme`: the README's generated blocks (``bench report --readme``);
- :mod:`analysis.compare`: ``bench compare``, is X better than Y (per env and aggregated, with
  CIs, tests and the seeds needed for 80% power);
- :mod:`analysis.check`: ``bench check``, the regression gate on final returns;
- :mod:`analysis.synthetic`: synthetic run directories for tests and benchmarks.
"""
