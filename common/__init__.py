"""The run harness of the MLPerf Inference v0.5 reference implementations: the benchmark contract and registry,
the session and LoadGen phase, QSL and SUTs, backends, accuracy scorers, results, verdict and reports. It imports
nothing outside itself (neither ``vision``/``translation`` nor ``compliance``/``tools``: tests/test_layers.py)."""
