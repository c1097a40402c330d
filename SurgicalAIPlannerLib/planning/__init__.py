"""Procedure planning: requests, frames, auto-plans, live metrics."""

from .measurement import Coding, Measurement

__all__ = ["Coding", "Measurement"]
