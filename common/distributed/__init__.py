"""Scale-out on Ray (``mlperf-ref run ... --ray``): LoadGen and the SUT stay in the driver, each replica is a
Ray actor with its own backend and samples. Only ``options`` is light; the rest imports ray and is loaded
only when a run asks for Ray."""
