"""Shared test set-up: headless pygame, one torch thread (2-core machines)."""

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("MPLBACKEND", "Agg")

import torch

torch.set_num_threads(1)
