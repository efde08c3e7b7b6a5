"""persona-eval: "does it sound like me?" measured against replies I really wrote and the models never saw.

profile.py  what is known about me: my training replies, others' lines, my catchphrases
metrics/    one concern each, registered by name (content, authorship, style, failures, privacy)
score.py    per-reply scores -> bootstrap CIs over contexts -> composite -> ranking -> scores.json
report.py   report.md + self-contained report.html + plots
runner.py   `persona-eval run`: replies from every variant through the serving backend, cached
choose.py   the final blend, with its margin and whether it is separated from the runner-up
stage.py    the eval stage of the loop (inputs, outputs, run)
"""
