"""Adapters to other frameworks, each imported only on demand.

``kldiv.integrations.torchmetrics``: :class:`torchmetrics.Metric` subclasses computed by kldiv
(needs torch and torchmetrics). Importing :mod:`kldiv` or this package imports neither.
"""
