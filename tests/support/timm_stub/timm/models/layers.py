"""timm.models.layers.DropPath of the test-only stub: stochastic depth, as timm's (see timm/__init__.py)."""

import torch
from torch import nn


class DropPath(nn.Module):
    """Drops a sample's whole residual branch with probability `drop_prob` while training; the identity otherwise."""

    def __init__(self, drop_prob: float = 0.0, scale_by_keep: bool = True):
        super().__init__()
        self.drop_prob = drop_prob
        self.scale_by_keep = scale_by_keep

    def forward(self, x):
        if self.drop_prob == 0.0 or not self.training:
            return x
        keep = 1 - self.drop_prob
        mask = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(keep)
        return x * (mask / keep if self.scale_by_keep else mask)
