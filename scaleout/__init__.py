"""Scale-out on Ray (``mlperf-ref run ... --ray``), a wing beside common/: LoadGen and the SUT stay in the
driver, each replica is a Ray actor with its own backend and samples. The runner finds
:class:`scaleout.cluster.RayCluster` through the ``mlperf_ref.remote_engines`` entry point and meets it only
through common/session.py's ``RemoteEngines`` protocol. Only ``options`` is light; the rest imports ray and
is loaded only when a run asks for Ray."""
