import gc

from market import create_app

app = create_app()
# What start-up loaded lives as long as the process: keep it out of the cyclic collector's full
# collections, which would otherwise walk all of it and stall a request for about 100 ms now and
# then (bench/matching.py: p99 ≈ 115 ms without this, ≈ 25 ms with it).
gc.freeze()
