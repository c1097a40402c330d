"""Training the shipped bone model on synthetic CTs made from real bone shapes (SynthSeg idea).

``python -m SurgicalAIPlannerLib.segmentation.training.train --help``; see docs/training.md.
Nothing here runs at inference time.
"""
