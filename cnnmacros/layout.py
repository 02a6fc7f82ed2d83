"""PyTorch's memory layout, as far as it decides whether a step of the standard model copies.

A few steps copy their input when its elements are not laid out as they need them: a flatten, the
reshape inside ``nn.Linear``, instance and group normalization. A copy that autograd saves costs
memory; a view keeps its whole storage. Which it is depends on the input's strides, and each
PyTorch kernel chooses its output's strides by a rule of its own: most keep the channels-last order
of their input, some make a standard contiguous tensor. This module follows c10's and ATen's rules
(``is_contiguous``, ``suggest_memory_format``, ``empty_like``, TensorIterator's output strides,
``view``'s stride computation) for the operations of the standard model.

A layout is worked out for one concrete batch of 2, in PyTorch's order (batch, channels, spatial
axes): strides do not depend on the batch size, and batch 1 is the one case where PyTorch takes
views it otherwise copies. A symbolic size takes a generic value here (larger than any kernel), so
its layout is the layout of every size but the smallest.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

from cnnmacros.rows import Shape

BATCH = 2
GENERIC = 1009
"""The value a symbolic size takes for layout decisions: a prime that no other size equals."""

CONTIGUOUS, CHANNELS_LAST = "contiguous", "channels_last"


class Layout(NamedTuple):
    """Sizes and strides of one tensor, in elements, PyTorch's order (a named tuple: a layout is
    worked out for every layer, so it must be cheap to make)."""

    sizes: tuple[int, ...]
    strides: tuple[int, ...]

    @property
    def dim(self) -> int:
        return len(self.sizes)


@functools.lru_cache(maxsize=4096)
def torch_sizes(shape: Shape) -> tuple[int, ...]:
    """A row's channels-last shape as PyTorch's sizes at batch 2: ``[H, W, C]`` gives (2, C, H, W)."""
    numbers = tuple(v if isinstance(v, int) else _generic(v) for v in shape)
    return (BATCH, numbers[-1], *numbers[:-1]) if len(numbers) > 1 else (BATCH, *numbers)


def _generic(value: object) -> int:
    """A symbolic size's value for layout decisions: ``GENERIC``, or the ``layout_value`` a symbol
    carries (the browser's program generator gives its sizes their values at the page's input)."""
    free = value.free_symbols  # type: ignore[attr-defined]
    return int(value.xreplace({s: getattr(s, "layout_value", GENERIC) for s in free}))  # type: ignore[attr-defined]


@functools.lru_cache(maxsize=4096)
def contiguous(sizes: tuple[int, ...]) -> Layout:
    strides, step = [], 1
    for size in reversed(sizes):
        strides.append(step)
        step *= size
    return Layout(sizes, tuple(reversed(strides)))


@functools.lru_cache(maxsize=4096)
def channels_last(sizes: tuple[int, ...]) -> Layout:
    """c10's get_channels_last_strides_2d/3d: channels fastest, then the last spatial axis."""
    order = [1, *range(len(sizes) - 1, 1, -1), 0]
    strides, step = [0] * len(sizes), 1
    for d in order:
        strides[d] = step
        step *= sizes[d]
    return Layout(sizes, tuple(strides))


def in_format(sizes: tuple[int, ...], memory_format: str) -> Layout:
    return channels_last(sizes) if memory_format == CHANNELS_LAST else contiguous(sizes)


@functools.lru_cache(maxsize=4096)
def is_contiguous(t: Layout) -> bool:
    """c10's compute_contiguous: size-1 axes do not count."""
    expected = 1
    for size, stride in zip(reversed(t.sizes), reversed(t.strides), strict=True):
        if size != 1:
            if stride != expected:
                return False
            expected *= size
    return True


@functools.lru_cache(maxsize=4096)
def is_channels_last_contiguous(t: Layout) -> bool:
    """``is_contiguous(memory_format=channels_last)``; only 4D tensors can be (PyTorch's rule)."""
    if t.dim != 4:
        return False
    expected = 1
    for d in (1, 3, 2, 0):
        if t.sizes[d] != 1:
            if t.strides[d] != expected:
                return False
            expected *= t.sizes[d]
    return True


def is_channels_last_3d_contiguous(t: Layout) -> bool:
    if t.dim != 5:
        return False
    expected = 1
    for d in (1, 4, 3, 2, 0):
        if t.sizes[d] != 1:
            if t.strides[d] != expected:
                return False
            expected *= t.sizes[d]
    return True


@functools.lru_cache(maxsize=4096)
def is_dense(t: Layout) -> bool:
    """c10's compute_non_overlapping_and_dense."""
    if is_contiguous(t) or is_channels_last_contiguous(t):
        return True
    if t.dim == 1:
        return t.sizes[0] < 2 or t.strides[0] == 1
    order = sorted(range(t.dim), key=lambda d: (t.sizes[d] < 2, t.strides[d] if t.sizes[d] >= 2 else 0))
    expected = 1
    for d in order:
        if t.sizes[d] < 2:
            return True
        if t.strides[d] != expected:
            return False
        expected *= t.sizes[d]
    return True


def _strides_like_channels_last(t: Layout, order: tuple[int, ...]) -> bool:
    """c10's is_channels_last_strides_2d_s4 / 3d_s5, ambiguous cases falling back to contiguous."""
    if t.strides[1] == 0:
        return False
    smallest = 0
    for d in order:
        if t.sizes[d] == 0 or t.strides[d] < smallest:
            return False
        if d == 0 and smallest == t.strides[1]:
            return False
        smallest = t.strides[d] * (t.sizes[d] if t.sizes[d] > 1 else 1)
    return True


@functools.lru_cache(maxsize=4096)
def suggest_memory_format(t: Layout) -> str:
    """``Tensor.suggest_memory_format()``: channels last for 4D and 5D tensors whose strides say so."""
    if t.dim == 4 and _strides_like_channels_last(t, (1, 3, 2, 0)):
        return CHANNELS_LAST
    if t.dim == 5 and _strides_like_channels_last(t, (1, 4, 3, 2, 0)):
        return CHANNELS_LAST
    return CONTIGUOUS


def empty_like(t: Layout) -> Layout:
    """``empty_like`` with the format preserved: the same strides when dense, else as suggested."""
    if is_dense(t):
        return t
    return in_format(t.sizes, suggest_memory_format(t))


def make_contiguous(t: Layout, memory_format: str = CONTIGUOUS) -> tuple[Layout, bool]:
    """``t.contiguous(memory_format)``: the tensor itself when it already is, else a copy (True)."""
    if memory_format == CHANNELS_LAST:
        already = is_channels_last_contiguous(t) if t.dim == 4 else is_channels_last_3d_contiguous(t)
    else:
        already = is_contiguous(t)
    return (t, False) if already else (in_format(t.sizes, memory_format), True)


def view(t: Layout, sizes: tuple[int, ...]) -> Layout | None:
    """ATen's computeStride: the strides of a view with new ``sizes``, or None where only a copy can
    have them (then ``reshape`` copies)."""
    if not t.sizes:
        return Layout(sizes, (1,) * len(sizes))
    new = [0] * len(sizes)
    view_d = len(sizes) - 1
    base = t.strides[-1]
    tensor_numel = view_numel = 1
    for d in range(t.dim - 1, -1, -1):
        tensor_numel *= t.sizes[d]
        if d == 0 or (t.sizes[d - 1] != 1 and t.strides[d - 1] != tensor_numel * base):
            while view_d >= 0 and (view_numel < tensor_numel or sizes[view_d] == 1):
                new[view_d] = view_numel * base
                view_numel *= sizes[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return None
            if d > 0:
                base = t.strides[d - 1]
                tensor_numel = view_numel = 1
    if view_d != -1:
        return None
    return Layout(sizes, tuple(new))


def reshape(t: Layout, sizes: tuple[int, ...]) -> tuple[Layout, bool]:
    """``reshape``: a view when one exists, else a contiguous copy (True)."""
    viewed = view(t, sizes)
    return (viewed, False) if viewed is not None else (contiguous(sizes), True)


def flatten(t: Layout, start: int = 1, end: int = -1) -> tuple[Layout, bool]:
    end = end % t.dim
    if start == end:
        return t, False
    merged = 1
    for size in t.sizes[start : end + 1]:
        merged *= size
    return reshape(t, (*t.sizes[:start], merged, *t.sizes[end + 1 :]))


def movedim(t: Layout, source: int, destination: int) -> Layout:
    order = list(range(t.dim))
    moved = order.pop(source % t.dim)
    order.insert(destination % t.dim, moved)
    return Layout(tuple(t.sizes[d] for d in order), tuple(t.strides[d] for d in order))


def unsqueeze(t: Layout, dim: int) -> Layout:
    """A new axis of size 1; its stride is the one after it times that axis' size (ATen's rule)."""
    dim = dim % (t.dim + 1)
    stride = 1 if dim >= t.dim else t.sizes[dim] * t.strides[dim]
    return Layout((*t.sizes[:dim], 1, *t.sizes[dim:]), (*t.strides[:dim], stride, *t.strides[dim:]))


def squeeze(t: Layout, dim: int) -> Layout:
    dim = dim % t.dim
    if t.sizes[dim] != 1:
        return t
    return Layout(t.sizes[:dim] + t.sizes[dim + 1 :], t.strides[:dim] + t.strides[dim + 1 :])


def resized(t: Layout, sizes: tuple[int, ...]) -> Layout:
    """A slice of ``t`` (a crop): the same strides, smaller sizes."""
    return Layout(sizes, t.strides)


def elementwise(inputs: list[Layout], sizes: tuple[int, ...] | None = None, scalar: bool = False) -> Layout:
    """The output of a TensorIterator operation on ``inputs`` (broadcast to ``sizes``): the fast
    set-up when every input has the output's sizes, else the inputs' stride order (``scalar``: a
    Python number is one more operand, which makes the shapes differ)."""
    shape = sizes or inputs[0].sizes
    if not scalar and all(t.sizes == shape for t in inputs):
        if all(is_contiguous(t) for t in inputs):
            return contiguous(shape)
        if all(is_channels_last_contiguous(t) for t in inputs):
            return channels_last(shape)
        if all(is_dense(t) for t in inputs) and all(t.strides == inputs[-1].strides for t in inputs):
            return Layout(shape, inputs[-1].strides)
    n = len(shape)
    strides = []
    for t in inputs:
        offset = n - t.dim
        row = [0] * offset
        for d, (size, stride) in enumerate(zip(t.sizes, t.strides, strict=True)):
            row.append(0 if size == 1 and shape[offset + d] != 1 else stride)
        strides.append(row)

    def should_swap(a: int, b: int) -> int:
        for row in strides:
            if row[a] == 0 or row[b] == 0:
                continue
            if row[a] < row[b]:
                return -1
            if row[a] > row[b]:
                return 1
            if shape[a] > shape[b]:
                return 1
        return 0

    perm = list(range(n - 1, -1, -1))  # fastest axis first
    for i in range(1, n):
        second = i
        for first in range(i - 1, -1, -1):
            comparison = should_swap(perm[first], perm[second])
            if comparison > 0:
                perm[first], perm[second] = perm[second], perm[first]
                second = first
            elif comparison < 0:
                break
    out, step = [0] * n, 1
    for d in perm:
        out[d] = step
        step *= shape[d]
    return Layout(shape, tuple(out))
