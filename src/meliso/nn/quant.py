"""Binary and ternary quantisers with straight-through estimators (Cubero-Cascante et al. 2025, eqs.
1–2).

- Binary (eq. 1): q(x) = +1 for x >= 0, -1 otherwise.
- Ternary (eq. 2): q(x) = +1 for x > T, -1 for x < -T, 0 for |x| <= T. (Eq. 2 as printed sends
  x = +T to -1 through its "otherwise"; that single point is a misprint of the symmetric rule,
  and a measure-zero event for real-valued inputs.)

Backward, both pass the gradient straight through where |x| <= 1 and block it outside (the
"STE sign" of larq, the paper's training library).

Thresholds, per layer, following Ternary Weight Networks (Liu et al., the paper's ref. [11]):
weights use T = 0.7 mean|W| of the layer's latent weights (recomputed at every forward, so it
is a fixed number once trained); activations use T = 0.7 mean|x| of the layer's input, tracked
during training as a running average (momentum 0.1, like batch-norm statistics) and frozen at
inference, so that inference is deterministic and identical in software and on crossbars.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from .._validation import ParameterError

Quant = Literal["BNN", "TNN"]
QUANTS: tuple[Quant, ...] = ("BNN", "TNN")
TWN_DELTA = 0.7


def check_quant(quant: str) -> None:
    """Refuse a quantisation other than :data:`QUANTS`."""
    if quant not in QUANTS:
        raise ParameterError(f"quant = {quant!r}: allowed {' or '.join(QUANTS)}")


class _SignSTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x)
        return torch.where(x >= 0, torch.ones_like(x), -torch.ones_like(x))

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        (x,) = ctx.saved_tensors
        return grad * (x.abs() <= 1).to(grad.dtype)


class _TernarySTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, threshold: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x)
        return (x > threshold).to(x.dtype) - (x < -threshold).to(x.dtype)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        (x,) = ctx.saved_tensors
        return grad * (x.abs() <= 1).to(grad.dtype), None


def binarize(x: torch.Tensor) -> torch.Tensor:
    """Eq. 1 with a straight-through gradient."""
    out: torch.Tensor = _SignSTE.apply(x)
    return out


def ternarize(x: torch.Tensor, threshold: torch.Tensor | float) -> torch.Tensor:
    """Eq. 2 with a straight-through gradient."""
    t = torch.as_tensor(threshold, dtype=x.dtype, device=x.device)
    out: torch.Tensor = _TernarySTE.apply(x, t)
    return out


def quantize_weight(w: torch.Tensor, quant: Quant) -> torch.Tensor:
    """A layer's binary or ternary weights (ternary threshold 0.7 mean|W|)."""
    if quant == "BNN":
        return binarize(w)
    return ternarize(w, TWN_DELTA * w.detach().abs().mean())


class ActivationQuantizer(nn.Module):
    """A layer's input quantiser: binary, or ternary with its own running threshold."""

    threshold: torch.Tensor
    initialised: torch.Tensor

    def __init__(self, quant: Quant, momentum: float = 0.1) -> None:
        super().__init__()
        self.quant = quant
        self.momentum = momentum
        self.register_buffer("threshold", torch.tensor(0.0))
        self.register_buffer("initialised", torch.tensor(False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.quant == "BNN":
            return binarize(x)
        if self.training:
            batch_t = TWN_DELTA * x.detach().abs().mean()
            with torch.no_grad():
                if not bool(self.initialised):
                    self.threshold.copy_(batch_t)
                    self.initialised.fill_(True)
                else:
                    self.threshold.mul_(1 - self.momentum).add_(self.momentum * batch_t)
            return ternarize(x, batch_t)
        return ternarize(x, self.threshold)

    def extra_repr(self) -> str:
        return f"{self.quant}, threshold={float(self.threshold):.4g}"
