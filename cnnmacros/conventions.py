"""Whose multiply-accumulates: our own definition, and the conventions of the tools people use.

Every tool that reports multiply-accumulates counts them its own way: with or without the bias,
with or without batch norm, pooling and activations, some of them twice. A ``Convention`` gives
one rule per layer family; each rule is a formula of ``cnnmacros.formulas``, so the site can show
why torchinfo, fvcore, ptflops and thop disagree on the same network, and each rule reproduces its
tool's number exactly on the file's standard PyTorch model (see the conventions page).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from cnnmacros.figures import Context, work
from cnnmacros.rows import Size, Step

MacsRule = Callable[[Context], tuple[Size, list[Step]]]


def _outputs(ctx: Context) -> dict[str, Size]:
    names = {1: ("O_w",), 2: ("O_h", "O_w"), 3: ("O_d", "O_h", "O_w")}[len(ctx.row.output) - 1]
    return dict(zip(names, ctx.row.output[:-1], strict=True))


def conv_macs(ctx: Context) -> tuple[Size, list[Step]]:
    """C_out x prod(O) x C_in/G x prod(K): one multiply-accumulate per weight and output position."""
    facts, rank = ctx.row.facts, len(ctx.row.output) - 1
    kernel = dict(
        zip(
            ("K_w",) if rank == 1 else ("K_h", "K_w") if rank == 2 else ("K_d", "K_h", "K_w"),
            facts["window"].kernel,
            strict=True,
        )
    )
    step = work(
        "macs",
        "multiply-accumulates",
        f"conv{rank}d_macs",
        C_out=facts["C_out"],
        **_outputs(ctx),
        C_in=facts["C_in"],
        G=facts["G"],
        **kernel,
    )
    return step.result, [step]


def dense_macs(ctx: Context) -> tuple[Size, list[Step]]:
    """N_in x N_out: one multiply-accumulate per weight."""
    step = work("macs", "multiply-accumulates", "dense_macs", N_in=ctx.row.facts["N_in"], N_out=ctx.row.facts["N_out"])
    return step.result, [step]


@dataclass(frozen=True)
class Convention:
    """One way of counting multiply-accumulates: a rule per layer family, 0 for the others."""

    name: str
    title: str
    description: str
    rules: dict[str, MacsRule] = field(default_factory=dict)

    def macs(self, ctx: Context) -> tuple[Size, list[Step]]:
        rule = self.rules.get(ctx.family)
        return rule(ctx) if rule is not None else (0, [])


CONVENTIONS: dict[str, Convention] = {
    c.name: c
    for c in (
        Convention(
            "cnnmacros",
            "cnnmacros (and PyTorch's FlopCounterMode, halved)",
            "Convolutions and fully connected layers, one multiply-accumulate per weight and output "
            "position; a bias only starts the accumulator, and every other layer counts 0.",
            {"conv": conv_macs, "dense": dense_macs},
        ),
    )
}
