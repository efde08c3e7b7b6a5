"""Mixed-adapter LoRA without a loop over adapters: every loaded adapter's A and B side by side in one
matrix per module, applied to a whole batch with two matmuls and a per-row column mask.

For a batch whose rows use different adapters, PEFT's ``adapter_names=`` routing runs, in every LoRA module,
one sub-batch gather and two small matmuls per adapter plus per-module Python hook set-up; at 135M
parameters that overhead, not arithmetic, set the speed (results/BENCHMARKS.md). Here each targeted
``nn.Linear`` computes::

    y = base(x) + ((x @ A_all^T) * mask[row]) @ B_all

``A_all`` [R, in] stacks the A rows of every adapter (adapter k owns columns ``span[k]``; R is the sum of
ranks, so a ``cat`` blend of rank 16 is simply 16 columns), ``B_all`` [R, out] the matching B rows with
the adapter's ``lora_alpha / r`` (or rsLoRA) scaling folded in, and ``mask[row]`` is 1 on the columns of
the row's adapter and 0 elsewhere (all 0 for base and prompted rows). A row's result sums its own columns
plus exact zeros, so it is that adapter's LoRA alone. When every row uses the same adapter the module uses
only that adapter's columns (a contiguous slice, two small matmuls, no mask); when no row uses one, the
LoRA term is skipped.

Why this layout (measured in eval/bench_lora_kernels.py on SmolLM2-135M's module shapes, batch 16, one
token, 5 adapters of total rank 64; per layer of 7 modules, 1 thread, machine shared; results/BENCHMARKS.md):
  base 4.39 ms · concat + mask 6.21 ms · sort rows and one matmul pair per adapter 7.54 ms ·
  gather A[idx], B[idx] + bmm 9.28 ms · the same with einsum 8.22 ms.
The gather copies every row's A and B each step (16 x 1536 x 16 floats for one down_proj), which costs
more than the arithmetic it saves; per-adapter segments pay the same per-call overhead PEFT does. The
concatenation reads each adapter's weights once per step, whatever the batch holds, at the price of
multiplying the zero columns of other adapters (R of 64 against out of 192-1536: +18% of the FLOPs of
the linear layers in the worst case).

Adapters the stack cannot represent exactly (DoRA and other LoRA variants, a LoRA bias, modules_to_save,
trainable tokens, LoRA on a non-Linear module) are reported by ``unsupported_reason``; the engine runs them
through PEFT in batches of their own (see LocalEngine), never as a silently different model. Works on any device and
dtype: the stacks are made on the base weight's device in its dtype.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F


@dataclass
class Routing:
    """What the wrapped modules do in the current forward; set once per forward by ``MultiLora.route``.

    mode: "peft" (delegate to PEFT's layer unchanged), "none" (base only), "single" (one adapter's
    columns ``lo:hi`` for every row) or "mixed" (all columns, ``mask`` [batch, 1, R])."""

    mode: str = "peft"
    lo: int = 0
    hi: int = 0
    mask: torch.Tensor | None = None


class MultiLoraLinear(nn.Module):
    """A PEFT ``lora.Linear`` with every adapter's A and B stacked; delegates to PEFT in "peft" mode."""

    def __init__(self, peft_layer: nn.Module, a_all: torch.Tensor, b_all: torch.Tensor, routing: Routing) -> None:
        super().__init__()
        self.peft_layer = peft_layer
        self.base_layer = peft_layer.base_layer
        self.register_buffer("a_all", a_all, persistent=False)
        self.register_buffer("b_all", b_all, persistent=False)
        self.routing = routing

    def forward(self, x: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
        route = self.routing
        if route.mode == "peft":
            return self.peft_layer(x, *args, **kwargs)
        out = self.base_layer(x)
        if route.mode == "none":
            return out
        if route.mode == "single":
            lora = F.linear(x, self.a_all[route.lo:route.hi]) @ self.b_all[route.lo:route.hi]
        else:
            lora = (F.linear(x, self.a_all) * route.mask) @ self.b_all
        return out + lora


@dataclass
class MultiLora:
    """The stacked adapters installed in a PeftModel: ``spans[name] = (lo, hi)`` columns of each adapter."""

    routing: Routing
    spans: dict[str, tuple[int, int]]
    unsupported: dict[str, str] = field(default_factory=dict)
    modules: int = 0
    _key: tuple | None = None
    _state: tuple = ("peft", 0, 0, None)

    def route(self, adapters: list[str | None], device: torch.device | str, dtype: torch.dtype) -> None:
        """Set the row -> adapter routing for the next forwards (``None``: the base model, no adapter).
        The mask is rebuilt only when the batch's rows change (rows join or leave, not every step)."""
        key = tuple(adapters)
        if key != self._key:
            self._key, self._state = key, self._plan(adapters, device, dtype)
        self.routing.mode, self.routing.lo, self.routing.hi, self.routing.mask = self._state

    def _plan(self, adapters: list[str | None], device: torch.device | str,
              dtype: torch.dtype) -> tuple[str, int, int, torch.Tensor | None]:
        used = {a for a in adapters if a is not None}
        if not used:
            return "none", 0, 0, None
        if len(used) == 1:
            return ("single", *self.spans[next(iter(used))], None)
        width = max(hi for _, hi in self.spans.values())
        mask = torch.zeros((len(adapters), 1, width), dtype=dtype)
        for row, adapter in enumerate(adapters):
            if adapter is not None:
                lo, hi = self.spans[adapter]
                mask[row, 0, lo:hi] = 1
        return "mixed", 0, 0, mask.to(device)

    def use_peft(self) -> None:
        """Hand every module back to PEFT (its own active adapter / disable_adapter / adapter_names)."""
        self.routing.mode = "peft"


def unsupported_reason(peft_model: Any, name: str) -> str | None:
    """Why adapter ``name`` cannot be stacked exactly, or None when it can."""
    from peft.tuners.lora import Linear as LoraLinear
    from peft.tuners.lora import LoraLayer

    config = peft_model.peft_config[name]
    if getattr(config, "peft_type", None) is not None and str(config.peft_type.value) != "LORA":
        return f"peft_type {config.peft_type.value} is not LoRA"
    for option in ("use_dora", "lora_bias", "modules_to_save", "trainable_token_indices", "layer_replication",
                   "alora_invocation_tokens", "use_qalora", "use_bdlora"):
        if getattr(config, option, None):
            return f"{option} is set"
    for module_name, module in peft_model.named_modules():
        if not isinstance(module, LoraLayer) or not (name in getattr(module, "lora_A", {})
                                                     or name in getattr(module, "lora_embedding_A", {})):
            continue
        if type(module) is not LoraLinear or type(module.base_layer) is not nn.Linear:
            return f"LoRA on {module_name} ({type(module).__name__} over {type(module.base_layer).__name__})"
        if name in getattr(module, "lora_variant", {}):
            return f"{module_name} uses a LoRA variant ({type(module.lora_variant[name]).__name__})"
        if module.fan_in_fan_out:
            return f"{module_name} has fan_in_fan_out"
    return None


def install(peft_model: Any, names: list[str]) -> MultiLora:
    """Wrap every PEFT ``lora.Linear`` of ``peft_model`` with the stacks of the supported ``names``.

    PEFT keeps its layers (inside the wrappers): "peft" routing, ``set_adapter``, ``disable_adapter`` and
    ``adapter_names=`` behave as before."""
    from peft.tuners.lora import Linear as LoraLinear

    unsupported = {n: reason for n in names if (reason := unsupported_reason(peft_model, n))}
    stacked = [n for n in names if n not in unsupported]
    ranks = {n: _rank(peft_model, n) for n in stacked}
    spans, offset = {}, 0
    for n in stacked:
        spans[n] = (offset, offset + ranks[n])
        offset += ranks[n]
    multi = MultiLora(Routing(), spans, unsupported)
    targets = [(module_name, module) for module_name, module in peft_model.named_modules()
               if type(module) is LoraLinear]
    for module_name, module in targets:
        a_all, b_all = _stack(module, spans, offset)
        parent_name, _, child = module_name.rpartition(".")
        setattr(peft_model.get_submodule(parent_name), child, MultiLoraLinear(module, a_all, b_all, multi.routing))
        multi.modules += 1
    return multi


def _rank(peft_model: Any, name: str) -> int:
    """The largest rank adapter ``name`` has in any module (a rank_pattern may vary it by module)."""
    from peft.tuners.lora import Linear as LoraLinear

    ranks = [m.r[name] for m in peft_model.modules() if type(m) is LoraLinear and name in m.lora_A]
    return max(ranks, default=0)


def _stack(module: Any, spans: dict[str, tuple[int, int]], width: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A_all [width, in] and B_all [width, out] of one module; an adapter absent here, or of a smaller rank
    here, leaves zero rows (its output there is the base's, as in PEFT)."""
    weight = module.base_layer.weight
    a_all = torch.zeros((width, module.in_features), dtype=weight.dtype, device=weight.device)
    b_all = torch.zeros((width, module.out_features), dtype=weight.dtype, device=weight.device)
    for name, (lo, _) in spans.items():
        if name not in module.lora_A:
            continue
        a = module.lora_A[name].weight  # [r, in]
        b = module.lora_B[name].weight  # [out, r]
        rank = a.shape[0]
        a_all[lo:lo + rank] = a.to(weight.dtype)
        # the scaling is folded into B: alpha / r is usually a power of two (16/8), which is exact in fp
        b_all[lo:lo + rank] = (b * module.scaling[name]).T.to(weight.dtype)
    return a_all, b_all
