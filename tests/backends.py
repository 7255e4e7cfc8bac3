"""Helpers some test modules import from here; they live in :mod:`kldiv.testing`."""

from kldiv.testing import assert_same_kind, float_dtypes, to_numpy

__all__ = ["assert_same_kind", "float_dtypes", "to_numpy"]
