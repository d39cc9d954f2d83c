"""refstorm campaign: nightly runs over a matrix of scenario x mode x variant x seed range.

The modules, in the order the data flows through them:
  matrix     the deterministic list of cells (what to run), the budget, shards
  runner     runs cells as `refstorm run` processes, N at a time, with progress and signals
  journal    the append-only, fsync'd record of finished cells; resume reads it back
  signature  a finding folder -> the signature that identifies its bug (no seeds, no addresses)
  buckets    findings grouped by signature; each bucket shrunk and replayed once
  history    one row per campaign; what is new and what is gone since the previous one
  outputs    summary.md, summary.json, junit.xml
  sarif      results.sarif (SARIF 2.1.0)
  plot       SVG charts of a history (PNG too through gnuplot)
  gatefig    the gate's summary.json -> the history row's per-mutant figures
  cli        the commands: campaign, merge, plot
"""
