"""Anatomy found on the CT's own intensities, without a label map: the femoral head's centre and sphere.

Shared by the classical segmentation (where to split femur from hip bone) and by landmark detection (the head
centre reported whatever segmentation the labels came from).
"""
