"""The AlphaZero network (residual tower, policy and value heads) and its fast CPU inference.

Training uses `PolicyValueNet` (BatchNorm, eager PyTorch). Search uses `InferenceNet`, a
frozen copy with every BatchNorm folded into the convolution before it, traced and frozen by
TorchScript, run under `torch.inference_mode` on one thread. Measured in one process on this
2-core machine while other jobs loaded it (load 6; 3x32 net, 17 planes, evals/s, batch 256):
5x5 eager 8.9k, folded 9.2k, folded + TorchScript 11.3k; 9x9 1.4k, 1.5k, 2.3k. ONNX Runtime
(one thread) was within the noise of TorchScript (5x5: 7.5-8.0k against 6.1-6.8k in the same
run; 9x9: 1.4-4.9k against 1.5-6.2k), so the extra dependency buys nothing here. The net is
compute-bound at these batch sizes (about 20 GFLOP/s), and two threads lose to one whenever
self-play shares the cores, so the search calls the network on the thread it runs on.

On CPUs with AMX tiles (Intel Sapphire Rapids and later) oneDNN multiplies bfloat16 in
hardware: the same folded net in bfloat16 and channels-last layout ran a batch of 256 9x9
positions 6.8x faster than float32 (15.3k against 2.3k evals/s, same process, loaded
machine; 5x5 3.2x, 7x7 2.8x), with logits within 3e-3 and values within 1e-3 of float32. At
batch 1 bfloat16 is 2-4x slower, so one-position players stay in float32
(`inference_dtype`).

TorchScript's oneDNN graph fuser (convolution + bias + residual add + ReLU in one kernel)
added another 1.5x at batch 256 in either dtype (9x9: bfloat16 5.0k -> 7.4k, float32 1.4k ->
2.1k evals/s, loaded machine), and made bfloat16 faster than float32 even at batch 1. It
compiles once per input shape, about 30 ms each, so batches are padded up to a few fixed
sizes (`padded_batch`): with sizes varying call to call as self-play's cache hits make them,
fused and padded ran 3.9k evals/s against 2.7k unfused (7x7, 3x48, bfloat16).

Two other engines, measured against this one in one process on a quiet machine (3x32, 9x9,
one thread, bfloat16, evals/s at batch 1 / 128 / 256, two runs): OpenVINO 2026.4 ran
2.4k / 27.8k / 20.7k and 3.4k / 56.4k / 49.2k against our 2.2k / 25.1k / 18.8k and
3.4k / 48.9k / 46.1k, about 1.1x at every batch size, too little for a second runtime;
`torch.compile` (inductor, frozen weights) ran 0.3x ours at batch 1 and 0.8-0.9x above.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


@dataclass(frozen=True, kw_only=True)
class NetConfig:
    """Shape of the network; saved with every checkpoint and checked on load."""

    in_channels: int
    board_size: int
    num_actions: int
    blocks: int = 3
    channels: int = 32
    value_hidden: int = 64
    policy_head: Literal["dense", "conv"] = "dense"
    """'dense': AlphaGo Zero's linear layer from 2 planes to the actions (2 * N^4 weights);
    'conv': one logit per point from a 3x3 then a 1x1 convolution, whose weights do not grow
    with the board (AlphaChip's policy is convolutional too), for large placement grids where
    the dense layer would not fit. Needs exactly one action per point (no pass)."""

    def __post_init__(self) -> None:
        if self.policy_head not in ("dense", "conv"):
            raise ValueError(f"policy_head must be 'dense' or 'conv', got {self.policy_head!r}")
        if self.policy_head == "conv" and self.num_actions != self.board_size**2:
            raise ValueError(f"a conv policy head needs one action per point "
                             f"({self.board_size**2}), got {self.num_actions} actions")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Residual(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.conv1(x)))
        return F.relu(x + self.bn2(self.conv2(y)))


class PolicyValueNet(nn.Module):
    """AlphaGo Zero's network, scaled down: conv stem, `blocks` residual blocks, a policy head
    (1x1 conv to 2 planes, linear to the actions; or convolutional, `NetConfig.policy_head`)
    and a value head (1x1 conv to 1 plane, hidden layer, tanh). Returns (policy logits
    [B, A], value [B]); illegal actions are masked by the caller (search softmaxes over legal
    moves, the loss masks logits)."""

    def __init__(self, config: NetConfig) -> None:
        super().__init__()
        c, n = config.channels, config.board_size
        self.config = config
        self.stem = nn.Sequential(
            nn.Conv2d(config.in_channels, c, 3, padding=1, bias=False), nn.BatchNorm2d(c),
            nn.ReLU(),
        )
        self.tower = nn.Sequential(*[_Residual(c) for _ in range(config.blocks)])
        if config.policy_head == "conv":
            self.policy_head = nn.Sequential(
                nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU(),
                nn.Conv2d(c, 1, 1), nn.Flatten(),
            )
        else:
            self.policy_head = nn.Sequential(
                nn.Conv2d(c, 2, 1, bias=False), nn.BatchNorm2d(2), nn.ReLU(), nn.Flatten(),
                nn.Linear(2 * n * n, config.num_actions),
            )
        self.value_head = nn.Sequential(
            nn.Conv2d(c, 1, 1, bias=False), nn.BatchNorm2d(1), nn.ReLU(), nn.Flatten(),
            nn.Linear(n * n, config.value_hidden), nn.ReLU(), nn.Linear(config.value_hidden, 1),
            nn.Tanh(),
        )

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.tower(self.stem(x))
        return self.policy_head(h), self.value_head(h).squeeze(-1)


def _fold(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> nn.Conv2d:
    """A convolution equal to conv followed by bn in eval mode."""
    mean, var = bn.running_mean, bn.running_var
    assert mean is not None and var is not None, "BatchNorm without running statistics"
    scale = bn.weight / torch.sqrt(var + bn.eps)
    kernel = conv.weight.shape[-1]
    fused = nn.Conv2d(conv.in_channels, conv.out_channels, kernel, padding=kernel // 2)
    fused.weight.data = conv.weight.data * scale[:, None, None, None]
    assert fused.bias is not None
    bias = conv.bias.data if conv.bias is not None else torch.zeros_like(mean)
    fused.bias.data = (bias - mean) * scale + bn.bias
    return fused


class _FoldedResidual(nn.Module):
    def __init__(self, block: _Residual) -> None:
        super().__init__()
        self.conv1 = _fold(block.conv1, block.bn1)
        self.conv2 = _fold(block.conv2, block.bn2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(x + self.conv2(F.relu(self.conv1(x))))


def _fold_sequential(seq: nn.Sequential) -> nn.Sequential:
    """Fold every Conv2d + BatchNorm2d pair of a head or stem."""
    layers = list(seq)
    out: list[nn.Module] = []
    i = 0
    while i < len(layers):
        if isinstance(layers[i], nn.Conv2d) and i + 1 < len(layers) and isinstance(
            layers[i + 1], nn.BatchNorm2d
        ):
            out.append(_fold(layers[i], layers[i + 1]))  # type: ignore[arg-type]
            i += 2
        else:
            out.append(copy.deepcopy(layers[i]))
            i += 1
    return nn.Sequential(*out)


class _Folded(nn.Module):
    def __init__(self, net: PolicyValueNet) -> None:
        super().__init__()
        self.stem = _fold_sequential(net.stem)
        self.tower = nn.Sequential(*[_FoldedResidual(b) for b in net.tower])  # type: ignore[arg-type]
        self.policy_head = _fold_sequential(net.policy_head)
        self.value_head = _fold_sequential(net.value_head)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.tower(self.stem(x))
        return self.policy_head(h), self.value_head(h).squeeze(-1)


InferenceDtype = Literal["auto", "float32", "bfloat16"]


def inference_dtype(name: InferenceDtype) -> torch.dtype:
    """The dtype for batched search inference: `auto` is bfloat16 where the CPU has AMX tiles
    (a several-fold speed-up at batch 256, see the module docstring) and float32 elsewhere,
    where bfloat16 is emulated and slower."""
    if name == "float32":
        return torch.float32
    if name == "bfloat16":
        return torch.bfloat16
    if name != "auto":
        raise ValueError(f"inference dtype {name!r}: choose auto, float32 or bfloat16")
    has_amx = getattr(torch.cpu, "_is_amx_tile_supported", lambda: False)()
    return torch.bfloat16 if has_amx else torch.float32


def padded_batch(n: int) -> int:
    """The batch size a call of `n` rows runs at: powers of two up to 16, then multiples of
    32, so that at most a dozen shapes reach the fuser for batches up to 256."""
    return 1 << (n - 1).bit_length() if n <= 16 else -(-n // 32) * 32


class InferenceNet:
    """A frozen, BatchNorm-folded, TorchScript copy of a `PolicyValueNet` for search: call it
    on uint8 or float planes [n, C, N, N] to get numpy float32 (logits [n, A], values [n]).
    Build a new one after each training phase (it does not follow the weights).

    With `dtype=torch.bfloat16` the copy runs in bfloat16 and channels-last layout (the
    layout oneDNN's AMX kernels read without reordering); results come back as float32."""

    def __init__(self, net: PolicyValueNet, *, script: bool = True,
                 dtype: torch.dtype = torch.float32) -> None:
        if dtype not in (torch.float32, torch.bfloat16):
            raise ValueError(f"InferenceNet runs float32 or bfloat16, not {dtype}")
        was_training = net.training
        net.eval()
        with torch.no_grad():
            folded = _Folded(net).eval().to(dtype)
        net.train(was_training)
        self.config = net.config
        self.dtype = dtype
        self.layout = torch.channels_last if dtype == torch.bfloat16 else torch.contiguous_format
        folded = folded.to(memory_format=self.layout)  # type: ignore[call-overload]
        self.module: Any = folded
        self.script = script
        if script:
            torch.jit.enable_onednn_fusion(True)  # process-wide; only scripted graphs use it
            c = net.config
            example = self._input(np.zeros((8, c.in_channels, c.board_size, c.board_size),
                                           np.float32))
            with torch.no_grad():
                self.module = torch.jit.freeze(torch.jit.trace(folded, example).eval())

    def _input(self, planes: np.ndarray) -> torch.Tensor:
        x = torch.from_numpy(np.ascontiguousarray(planes)).to(self.dtype)
        return x.contiguous(memory_format=self.layout)

    def __call__(self, planes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = len(planes)
        if self.script and padded_batch(n) != n:
            pad = np.zeros((padded_batch(n) - n, *planes.shape[1:]), planes.dtype)
            planes = np.concatenate([planes, pad])
        with torch.inference_mode():
            logits, values = self.module(self._input(planes))
        return logits[:n].float().numpy(), values[:n].float().numpy()


class CachedEvaluator:
    """Evaluate each distinct position once: identical rows of a batch share one network
    row, and results are remembered (up to `capacity` positions, then forgotten at once).

    Self-play games of a batch start from the same empty board and meet the same early
    positions, and trees hold transpositions, so many leaves repeat; on 5x5 this skips a large
    share of network work. Keys are the planes' bytes, so a new network needs a new cache
    (the trainer makes one per self-play round). Safe to call from the threads of a sharded
    search: the cache and counters change under a lock, the network runs outside it (two
    shards that miss the same position both evaluate it)."""

    def __init__(self, evaluate: Any, capacity: int = 200_000) -> None:
        self.evaluate = evaluate
        self.capacity = capacity
        self.cache: dict[bytes, tuple[np.ndarray, float]] = {}
        self.lookups = 0
        self.hits = 0
        self._lock = threading.Lock()

    def __call__(self, planes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = planes.shape[0]
        keys = [row.tobytes() for row in planes.reshape(n, -1)]
        with self._lock:
            found = [self.cache.get(k) for k in keys]
        fresh: dict[bytes, int] = {}
        rows: list[int] = []
        for i, key in enumerate(keys):
            if found[i] is None and key not in fresh:
                fresh[key] = len(rows)
                rows.append(i)
        if rows:
            logits, values = self.evaluate(planes[rows])
        with self._lock:
            self.lookups += n
            self.hits += n - len(rows)
            if rows:
                if len(self.cache) + len(rows) > self.capacity:
                    self.cache.clear()
                for key, j in fresh.items():
                    self.cache[key] = (logits[j], float(values[j]))
        out = [f if f is not None else (logits[fresh[k]], values[fresh[k]])
               for f, k in zip(found, keys, strict=True)]
        return (np.stack([o[0] for o in out]).astype(np.float32),
                np.array([o[1] for o in out], np.float32))
