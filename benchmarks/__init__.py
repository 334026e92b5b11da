"""The benchmark suite: ``python -m benchmarks [all|transfer|requests|scale]`` (``scripts/bench``).

- ``transfer``: put, re-put, publish and download of large files and a tiny get, as whole
  processes of our CLI, the peer ``versioned==1.0.1`` and ``aws s3 cp``, interleaved.
- ``requests``: AWS requests per operation, ours and the peer, on both backends;
  ``--check`` compares ours (with ``scale`` at N <= 1,000) with ``request_budget.json``.
- ``scale``: list, promote and purge at N = 10, 1,000 and 10,000 seeded versions, and
  listing 1,000 artifact names.

Each run starts its own moto server on 127.0.0.1 and prints markdown tables.
"""
