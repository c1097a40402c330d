"""Geometry on point sets shared by segmentation and landmarks (no image, no anatomy)."""
