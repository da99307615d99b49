"""The shared floor of the MLPerf Inference reference implementations: LoadGen harness, backends,
accuracy scorers, reports and the command line. It never imports ``vision`` or ``translation``."""
