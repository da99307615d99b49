"""Speed measured as ratios taken in one run (our harness vs the raw engine, batch N vs batch 1): ``python
bench/run.py``. Installed with the project (``pip install -e .``), so its modules import each other by name."""
