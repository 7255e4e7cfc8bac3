"""``python -m benchmarks``: the whole suite (see ``benchmarks/README.md``)."""

from benchmarks.run import main

main()
