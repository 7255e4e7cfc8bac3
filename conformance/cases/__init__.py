"""Case files, one per topic: each module calls :func:`conformance.registry.register`.

The runner imports every module of this package; adding a topic is adding a file.
"""
