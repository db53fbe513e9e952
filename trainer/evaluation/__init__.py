"""The evaluation room: what a run is worth.

- ``perplexity``: held-out perplexity (``trainer fit`` validates with it, ``trainer eval`` prints it).
- ``metrics``: ``metrics.jsonl``, ``train.json``, ``loss.png`` and the overfitting detector.
- ``report`` (``build_report``) and ``report_page`` (``write_report``): ``trainer report``; its
  figures live in ``training_figures``, ``comparison``, ``samples``, ``memorisation_figures``,
  ``diversity`` and ``run_warnings``.
"""
